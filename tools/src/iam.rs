//! `authctl iam-check`: every function's policy in `infra/template.yaml` held to what the code
//! asked of AWS during the test suite (the records of `shared::iam`).
//!
//! Two failures: a need that no statement of the function's policy allows (the call would be
//! denied on AWS, which moto never does), and a grant that nothing needed (least privilege), unless
//! the function lists it under `Metadata.IamUnexercised` with the reason the suite cannot exercise
//! it. Statements are matched as IAM matches them: `*` wildcards in actions and resources, and a
//! statement with a `Condition` only allows a request that carries each of its keys with a
//! matching value (`StringEquals`, `StringLike`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde_yaml::Value;
use serde_yaml::value::TaggedValue;

/// One (action, resource, condition) a function needed, as `shared::iam` records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
pub struct Need {
    pub function: String,
    pub action: String,
    pub resource: String,
    #[serde(default)]
    pub condition: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
pub struct Condition {
    pub key: String,
    pub value: String,
}

/// One allow statement of a function's policy, with its resources named as the records name them.
#[derive(Debug, Clone)]
pub struct Statement {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// (operator, key, allowed values).
    pub conditions: Vec<(String, String, Vec<String>)>,
}

/// A grant the suite may leave unexercised, and why.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub action: String,
    pub resource: String,
    pub why: String,
}

#[derive(Debug, Clone, Default)]
pub struct FunctionPolicy {
    pub statements: Vec<Statement>,
    pub waivers: Vec<Waiver>,
}

/// Every function's policy, by binary name.
pub fn policies(template: &Value) -> Result<BTreeMap<String, FunctionPolicy>> {
    let resources = template["Resources"].as_mapping().ok_or_else(|| anyhow!("no Resources"))?;
    let mut out = BTreeMap::new();
    for (name, res) in resources {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap_or_default();
        let binary = res["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .ok_or_else(|| anyhow!("{name} has no Metadata.BuildProperties.Binary"))?;
        let mut policy = FunctionPolicy::default();
        for p in res["Properties"]["Policies"].as_sequence().into_iter().flatten() {
            let statements = p["Statement"]
                .as_sequence()
                .ok_or_else(|| anyhow!("{name}: only inline `Statement` policies are understood here"))?;
            for s in statements {
                if s["Effect"].as_str() != Some("Allow") {
                    bail!("{name}: only Allow statements are understood here");
                }
                policy.statements.push(Statement {
                    actions: strings(&s["Action"]).with_context(|| format!("{name}: Action"))?,
                    resources: strings(&s["Resource"]).with_context(|| format!("{name}: Resource"))?,
                    conditions: conditions(&s["Condition"]).with_context(|| format!("{name}: Condition"))?,
                });
            }
        }
        for w in res["Metadata"]["IamUnexercised"].as_sequence().into_iter().flatten() {
            let field = |k: &str| {
                w[k].as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("{name}: IamUnexercised entry without {k}"))
            };
            let why = field("Why")?;
            if why.trim().len() < 10 {
                bail!("{name}: an IamUnexercised entry needs a real reason");
            }
            policy.waivers.push(Waiver { action: field("Action")?, resource: field("Resource")?, why });
        }
        out.insert(binary.to_owned(), policy);
    }
    Ok(out)
}

/// A string, a CloudFormation reference, or a list of them, as the records name resources:
/// `!GetAtt Table.Arn` and `!Ref SigningKeys` by the logical id, `!Sub "${Table.Arn}/index/x"`
/// with each `${...}` replaced by its logical id.
fn strings(v: &Value) -> Result<Vec<String>> {
    match v {
        Value::Sequence(items) => items.iter().map(one_string).collect(),
        other => Ok(vec![one_string(other)?]),
    }
}

fn one_string(v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Tagged(t) => tagged(t),
        Value::Mapping(m) if m.len() == 1 => {
            // The long forms: {"Ref": X}, {"Fn::GetAtt": [X, Arn]}, {"Fn::Sub": "..."}.
            let (k, inner) = m.iter().next().expect("one entry");
            let tag = match k.as_str() {
                Some("Ref") => "!Ref",
                Some("Fn::GetAtt") => "!GetAtt",
                Some("Fn::Sub") => "!Sub",
                _ => bail!("unsupported intrinsic {k:?}"),
            };
            tagged(&TaggedValue { tag: serde_yaml::value::Tag::new(tag), value: inner.clone() })
        }
        other => bail!("unsupported value {other:?}"),
    }
}

fn tagged(t: &TaggedValue) -> Result<String> {
    let tag = t.tag.to_string();
    let logical = |s: &str| s.split('.').next().unwrap_or(s).to_owned();
    match (tag.trim_start_matches('!'), &t.value) {
        ("Ref", Value::String(s)) => Ok(s.clone()),
        ("GetAtt", Value::String(s)) => Ok(logical(s)),
        ("GetAtt", Value::Sequence(parts)) => {
            Ok(parts.first().and_then(Value::as_str).map(str::to_owned).unwrap_or_default())
        }
        ("Sub", Value::String(s)) => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let end = rest[start..].find('}').ok_or_else(|| anyhow!("unclosed ${{ in {s}"))? + start;
                out.push_str(&logical(&rest[start + 2..end]));
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            Ok(out)
        }
        _ => bail!("unsupported tag {tag}"),
    }
}

fn conditions(v: &Value) -> Result<Vec<(String, String, Vec<String>)>> {
    let mut out = Vec::new();
    let Some(ops) = v.as_mapping() else { return Ok(out) };
    for (op, keys) in ops {
        let op = op.as_str().ok_or_else(|| anyhow!("condition operator"))?;
        // `ForAllValues:StringLike` on a single-valued need (one leading key) is `StringLike`.
        if !matches!(op, "StringEquals" | "StringLike" | "ForAllValues:StringLike") {
            bail!("condition operator {op} is not understood here");
        }
        for (key, values) in keys.as_mapping().ok_or_else(|| anyhow!("{op} needs keys"))? {
            out.push((op.to_owned(), key.as_str().unwrap_or_default().to_owned(), strings(values)?));
        }
    }
    Ok(out)
}

/// IAM's `*` (any run) and `?` (any one character), case-sensitive as for resources (actions are
/// compared lower-cased by the caller, as IAM does).
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

fn action_matches(pattern: &str, action: &str) -> bool {
    glob(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

impl Statement {
    fn allows(&self, need: &Need) -> bool {
        self.actions.iter().any(|a| action_matches(a, &need.action))
            && self.resources.iter().any(|r| glob(r, &need.resource))
            // A condition key the statement does not name does not restrict it.
            && self.conditions.iter().all(|(op, key, values)| match &need.condition {
                Some(c) if c.key == *key => values.iter().any(|v| match op.as_str() {
                    "StringEquals" => *v == c.value,
                    _ => glob(v, &c.value),
                }),
                // IAM: a condition on a key the request does not carry is not met.
                _ => false,
            })
    }
}

/// What the check found, in words; empty when every policy fits the code.
pub fn check(policies: &BTreeMap<String, FunctionPolicy>, needs: &BTreeSet<Need>) -> Vec<String> {
    let mut problems = Vec::new();
    for need in needs {
        let Some(policy) = policies.get(&need.function) else {
            problems.push(format!(
                "{}: recorded, but no function of the template has that binary",
                need.function
            ));
            continue;
        };
        if !policy.statements.iter().any(|s| s.allows(need)) {
            let cond =
                need.condition.as_ref().map(|c| format!(" with {} = {}", c.key, c.value)).unwrap_or_default();
            problems.push(format!(
                "{}: needs {} on {}{cond}, which its policy does not allow (AWS would deny the call)",
                need.function, need.action, need.resource
            ));
        }
    }
    for (function, policy) in policies {
        let used: Vec<&Need> = needs.iter().filter(|n| n.function == *function).collect();
        for s in &policy.statements {
            // A key that seals several kinds of secret opens each only for its use: a grant that
            // names no purpose would let a flow open (or forge) what another use sealed.
            let kms =
                s.actions.iter().any(|a| ["kms:Encrypt", "kms:Decrypt"].iter().any(|k| action_matches(a, k)));
            // Named exactly: `StringEquals` on values without wildcards.
            let named = s.conditions.iter().any(|(op, key, values)| {
                key == shared::iam::KMS_PURPOSE
                    && op == "StringEquals"
                    && !values.is_empty()
                    && values.iter().all(|v| !v.contains(['*', '?']))
            });
            if kms && !named {
                problems.push(format!(
                    "{function}: grants {} without a {} condition (StringEquals) naming its use",
                    s.actions.join(", "),
                    shared::iam::KMS_PURPOSE
                ));
            }
            for action in &s.actions {
                for resource in &s.resources {
                    let exercised = used.iter().any(|n| {
                        action_matches(action, &n.action) && glob(resource, &n.resource) && s.allows(n)
                    });
                    let waived =
                        policy.waivers.iter().any(|w| w.action == *action && w.resource == *resource);
                    if !exercised && !waived {
                        problems.push(format!(
                            "{function}: grants {action} on {resource}, which nothing in the suite needed \
                             (remove it, or list it under Metadata.IamUnexercised with the reason)"
                        ));
                    }
                    if exercised && waived {
                        problems.push(format!(
                            "{function}: {action} on {resource} is listed as unexercised but the suite needed it"
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// Every record under `dir` (the `*.jsonl` files the test processes wrote).
pub fn read_records(dir: &Path) -> Result<BTreeSet<Need>> {
    let mut out = BTreeSet::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            // A process killed mid-write may leave a torn last line; the same need is recorded
            // again by every other process that met it.
            if let Ok(need) = serde_json::from_str::<Need>(line) {
                out.insert(need);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Login:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties: {Binary: login}
      IamUnexercised:
        - Action: dynamodb:DeleteItem
          Resource: Table
          Why: only a crash between two writes reaches it
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:DeleteItem]
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub "${Table.Arn}/index/*"
            - Effect: Allow
              Action: [ses:SendEmail]
              Resource: "*"
              Condition:
                StringEquals:
                  ses:FromAddress: !Ref MailFrom
"#;

    fn need(action: &str, resource: &str, from: Option<&str>) -> Need {
        Need {
            function: "login".into(),
            action: action.into(),
            resource: resource.into(),
            condition: from.map(|v| Condition { key: "ses:FromAddress".into(), value: v.into() }),
        }
    }

    fn run(needs: &[Need]) -> Vec<String> {
        let template: Value = serde_yaml::from_str(TEMPLATE).unwrap();
        check(&policies(&template).unwrap(), &needs.iter().cloned().collect())
    }

    #[test]
    fn a_policy_that_fits_the_calls_passes() {
        let needs = [
            need("dynamodb:GetItem", "Table", None),
            need("dynamodb:Query", "Table/index/gsi1", None),
            need("ses:SendEmail", "*", Some("MailFrom")),
        ];
        assert_eq!(run(&needs), Vec::<String>::new());
    }

    #[test]
    fn a_call_the_policy_does_not_allow_fails() {
        let needs = [
            need("dynamodb:GetItem", "Table", None),
            need("dynamodb:Query", "Table/index/gsi1", None),
            need("ses:SendEmail", "*", Some("MailFrom")),
            need("dynamodb:BatchGetItem", "Table", None),
            // A query of the table itself is not a query of an index.
            need("dynamodb:Query", "Table", None),
            // A send from another address does not meet the condition.
            need("ses:SendEmail", "*", Some("someone@else.example")),
        ];
        let problems = run(&needs);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("BatchGetItem"));
    }

    #[test]
    fn a_grant_nothing_needed_fails_unless_waived_with_a_reason() {
        let problems = run(&[need("dynamodb:GetItem", "Table", None)]);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains("dynamodb:Query on Table/index/*")));
        assert!(problems.iter().any(|p| p.contains("ses:SendEmail")));
        assert!(!problems.iter().any(|p| p.contains("DeleteItem")), "the waived grant is not reported");
    }

    #[test]
    fn a_waiver_for_a_grant_the_suite_did_need_is_reported() {
        let needs = [
            need("dynamodb:GetItem", "Table", None),
            need("dynamodb:DeleteItem", "Table", None),
            need("dynamodb:Query", "Table/index/gsi1", None),
            need("ses:SendEmail", "*", Some("MailFrom")),
        ];
        let problems = run(&needs);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].contains("listed as unexercised"));
    }

    const SEALING: &str = r#"
Resources:
  OutboxKey: {Type: AWS::KMS::Key}
  Register:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties: {Binary: register}
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [kms:Encrypt]
              Resource: !GetAtt OutboxKey.Arn
              Condition:
                StringEquals:
                  kms:EncryptionContext:purpose: outbox-link
  Mailer:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties: {Binary: mailer}
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [kms:Decrypt]
              Resource: !GetAtt OutboxKey.Arn
  Console:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties: {Binary: console}
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [kms:Encrypt]
              Resource: !GetAtt OutboxKey.Arn
              Condition:
                StringLike:
                  kms:EncryptionContext:purpose: "*"
"#;

    fn sealing(function: &str, action: &str, purpose: Option<&str>) -> Need {
        Need {
            function: function.into(),
            action: action.into(),
            resource: "OutboxKey".into(),
            condition: purpose.map(|v| Condition { key: shared::iam::KMS_PURPOSE.into(), value: v.into() }),
        }
    }

    #[test]
    fn a_kms_grant_needs_a_purpose_and_a_call_of_another_purpose_is_denied() {
        let template: Value = serde_yaml::from_str(SEALING).unwrap();
        let policies = policies(&template).unwrap();
        let needs = [
            sealing("register", "kms:Encrypt", Some("outbox-link")),
            sealing("register", "kms:Encrypt", Some("provider-secret")),
            sealing("register", "kms:Encrypt", None),
            sealing("mailer", "kms:Decrypt", Some("outbox-link")),
            sealing("console", "kms:Encrypt", Some("outbox-link")),
        ];
        let problems = check(&policies, &needs.iter().cloned().collect());
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(
            problems.iter().any(|p| p.starts_with("console: grants kms:Encrypt without")),
            "a wildcard purpose"
        );
        assert!(problems.iter().any(|p| p.contains("provider-secret")), "another purpose: {problems:#?}");
        assert!(
            problems.iter().any(|p| p.starts_with("register: needs kms:Encrypt on OutboxKey,")),
            "no purpose"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("mailer: grants kms:Decrypt without")),
            "the unconditioned grant: {problems:#?}"
        );
    }
}
