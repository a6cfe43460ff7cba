//! Reading `infra/template.yaml`, the single source of truth for routes and the table.

use anyhow::{Context, Result, anyhow};
use serde_yaml::Value;

pub fn path() -> std::path::PathBuf {
    crate::repo_root().join("infra").join("template.yaml")
}

/// The parsed template. CloudFormation's short tags (`!Ref`, `!GetAtt` ...) parse as tagged values.
pub fn load() -> Result<Value> {
    let text = std::fs::read_to_string(path()).context("reading infra/template.yaml")?;
    serde_yaml::from_str(&text).context("parsing infra/template.yaml")
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

pub fn routes(template: &Value) -> Result<Vec<TemplateRoute>> {
    let resources = template["Resources"].as_mapping().ok_or_else(|| anyhow!("no Resources"))?;
    let mut out = Vec::new();
    for (_, res) in resources {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = res["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or_default().to_owned();
        let Some(events) = res["Properties"]["Events"].as_mapping() else { continue };
        for (_, ev) in events {
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
    out.sort();
    Ok(out)
}

/// Binaries of every function in the template (routes, the authorizer and scheduled ones).
pub fn binaries(template: &Value) -> Vec<String> {
    let mut out: Vec<String> = template["Resources"]
        .as_mapping()
        .into_iter()
        .flatten()
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
