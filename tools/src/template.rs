//! Reading the stack: `infra/template.yaml` (the table, the keys, the HTTP API, the authorizer and
//! the event functions) and the nested stack of each area (`infra/areas/<area>.yaml`: its functions
//! and their routes), held by the contract tests to the endpoint table.

use anyhow::{Context, Result, anyhow, bail};
use serde_yaml::Value;

pub fn path() -> std::path::PathBuf {
    crate::repo_root().join("infra").join("template.yaml")
}

/// The parsed template. CloudFormation's short tags (`!Ref`, `!GetAtt` ...) parse as tagged values.
pub fn load() -> Result<Value> {
    let text = std::fs::read_to_string(path()).context("reading infra/template.yaml")?;
    serde_yaml::from_str(&text).context("parsing infra/template.yaml")
}

/// The root template and each nested stack's (its `AWS::Serverless::Application`s' `Location`,
/// relative to the root), root first.
pub fn stacks() -> Result<Vec<Value>> {
    let root = load()?;
    let mut out = Vec::new();
    for (name, res) in root["Resources"].as_mapping().into_iter().flatten() {
        if res["Type"].as_str() != Some("AWS::Serverless::Application") {
            continue;
        }
        let location = res["Properties"]["Location"]
            .as_str()
            .ok_or_else(|| anyhow!("{name:?}: a nested stack's Location is a path beside the template"))?;
        let path = path().parent().map(|dir| dir.join(location)).unwrap_or_default();
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        out.push(serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?);
    }
    out.insert(0, root);
    Ok(out)
}

/// One HTTP route as the template declares it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TemplateRoute {
    pub method: String,
    pub path: String,
    /// The function's binary (`Metadata.BuildProperties.Binary`).
    pub binary: String,
    /// `Auth: {Authorizer: NONE}`.
    pub public: bool,
}

/// Every route of the stacks: a function's `HttpApi` events, and the `AWS::ApiGatewayV2::Route`s
/// of the nested stacks (`Target: !Sub integrations/${X}`, the integration naming its function).
pub fn routes(stacks: &[Value]) -> Result<Vec<TemplateRoute>> {
    let mut out = Vec::new();
    for template in stacks {
        let resources = template["Resources"].as_mapping().ok_or_else(|| anyhow!("no Resources"))?;
        let binary_of = |function: &str| {
            template["Resources"][function]["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .map(str::to_owned)
        };
        for (name, res) in resources {
            match res["Type"].as_str() {
                Some("AWS::Serverless::Function") => {
                    let binary = binary_of(name.as_str().unwrap_or_default()).unwrap_or_default();
                    for (_, ev) in res["Properties"]["Events"].as_mapping().into_iter().flatten() {
                        if ev["Type"].as_str() != Some("HttpApi") {
                            continue;
                        }
                        let p = &ev["Properties"];
                        out.push(TemplateRoute {
                            method: p["Method"].as_str().unwrap_or_default().to_ascii_uppercase(),
                            path: p["Path"].as_str().unwrap_or_default().to_owned(),
                            binary: binary.clone(),
                            public: p["Auth"]["Authorizer"].as_str() == Some("NONE"),
                        });
                    }
                }
                Some("AWS::ApiGatewayV2::Route") => {
                    let p = &res["Properties"];
                    let key = p["RouteKey"].as_str().ok_or_else(|| anyhow!("{name:?}: no RouteKey"))?;
                    let (method, path) =
                        key.split_once(' ').ok_or_else(|| anyhow!("{name:?}: RouteKey {key}"))?;
                    let integration = sub_target(&p["Target"])
                        .ok_or_else(|| anyhow!("{name:?}: Target is not !Sub integrations/${{...}}"))?;
                    let uri = &template["Resources"][integration.as_str()]["Properties"]["IntegrationUri"];
                    let function = get_att_of(uri).ok_or_else(|| anyhow!("{integration}: IntegrationUri"))?;
                    let binary = binary_of(&function).ok_or_else(|| anyhow!("{function}: no binary"))?;
                    let public = match p["AuthorizationType"].as_str() {
                        Some("NONE") => true,
                        Some("CUSTOM") if !p["AuthorizerId"].is_null() => false,
                        other => bail!(
                            "{name:?}: AuthorizationType {other:?} (NONE, or CUSTOM with the authorizer)"
                        ),
                    };
                    out.push(TemplateRoute {
                        method: method.to_owned(),
                        path: path.to_owned(),
                        binary,
                        public,
                    });
                }
                _ => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `X` of `!Sub "integrations/${X}"`.
fn sub_target(v: &Value) -> Option<String> {
    let Value::Tagged(t) = v else { return None };
    let text = t.value.as_str()?;
    (t.tag == "Sub").then_some(())?;
    Some(text.strip_prefix("integrations/${")?.strip_suffix('}')?.to_owned())
}

/// `X` of `!GetAtt X.Arn`.
fn get_att_of(v: &Value) -> Option<String> {
    let Value::Tagged(t) = v else { return None };
    (t.tag == "GetAtt").then_some(())?;
    Some(t.value.as_str()?.strip_suffix(".Arn")?.to_owned())
}

/// Binaries of every function of the stacks (routes, the authorizer and scheduled ones).
pub fn binaries(stacks: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = stacks
        .iter()
        .flat_map(|template| template["Resources"].as_mapping().into_iter().flatten())
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .filter_map(|(_, r)| r["Metadata"]["BuildProperties"]["Binary"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

/// The table's `Properties`.
pub fn table(template: &Value) -> Result<&Value> {
    let t = &template["Resources"]["Table"]["Properties"];
    if t.is_mapping() { Ok(t) } else { Err(anyhow!("the template has no Resources.Table")) }
}
