//! The contract that ties the pieces together: template ↔ router ↔ route table ↔ binaries, the
//! configuration chapter's table (`docs/configuration.md`), and the headers every response carries.

use std::collections::BTreeSet;

use auth_tests::{TestApp, unique_email};
use authctl::{repo_root, template};
use functions::routes::{AUTHORIZER, routes};

type RouteKey = (String, String, String, bool);

fn table_routes() -> BTreeSet<RouteKey> {
    routes()
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned(), r.function.to_owned(), r.is_public()))
        .collect()
}

#[test]
fn template_router_route_table_and_binaries_agree() {
    let stacks = template::stacks().unwrap();
    let from_template: BTreeSet<RouteKey> = template::routes(&stacks)
        .unwrap()
        .into_iter()
        .map(|r| (r.method, r.path, r.binary, r.public))
        .collect();
    assert_eq!(from_template, table_routes(), "the stacks (infra/) and functions::routes::routes() differ");

    // The `cargo lambda watch` router in the workspace Cargo.toml.
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap()).unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"].as_table().expect("a router");
    let mut from_router = BTreeSet::new();
    for (path, targets) in router {
        // The router is matchit's: API Gateway's greedy `{proxy+}` is its catch-all `{*proxy}`.
        let path = match path.split_once("{*") {
            Some((head, name)) => format!("{head}{{{}+}}", name.trim_end_matches('}')),
            None => path.clone(),
        };
        for t in targets.as_array().expect("a list of {method, function}") {
            from_router.insert((
                t["method"].as_str().unwrap().to_owned(),
                path.clone(),
                t["function"].as_str().unwrap().to_owned(),
            ));
        }
    }
    // `cargo lambda watch` answers CORS preflights itself: the preflight route is the one it lacks.
    let expected: BTreeSet<_> =
        table_routes().into_iter().filter(|(m, ..)| m != "OPTIONS").map(|(m, p, f, _)| (m, p, f)).collect();
    assert_eq!(from_router, expected, "the Cargo.toml router and the template differ");

    // Every function of the template is a binary, and every binary is a function of the template
    // (but `make bench`'s hello-world baseline, built beside them with the same profile).
    let bins: BTreeSet<String> = std::fs::read_dir(repo_root().join("functions/src/bin"))
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|name| name != "hello_baseline")
        .collect();
    let functions: BTreeSet<String> = template::binaries(&stacks).into_iter().collect();
    assert_eq!(bins, functions, "functions/src/bin and the template's functions differ");
    assert!(functions.contains(AUTHORIZER));
}

#[tokio::test]
async fn every_route_of_the_table_has_a_handler() {
    let app = TestApp::spawn().await;
    for r in routes() {
        let resp = app.call(r.method, &r.path.replace("{app_id}", "default")).send().await;
        assert!(resp.status < 500, "{} {} → {}: {}", r.method, r.path, resp.status, resp.text);
    }
}

/// The authorizer never rejects at the gateway, so every protected function must refuse on its own a
/// request that carries no verified identity.
#[tokio::test]
async fn every_protected_route_refuses_a_request_without_identity() {
    let app = TestApp::spawn().await;
    for r in routes().iter().filter(|r| !r.is_public()) {
        let path = r.path.replace("{app_id}", "default");
        let bare = app.call(r.method, &path).send().await;
        bare.assert_error(401, "unauthorized");
        let anonymous = app
            .call(r.method, &path)
            .authorizer_context(serde_json::json!({"auth_kind": "none"}))
            .send()
            .await;
        anonymous.assert_error(401, "unauthorized");
    }
}

#[test]
fn the_openapi_document_describes_every_route_of_the_template() {
    let doc = functions::discovery::openapi::document().expect("docs/openapi.yaml parses");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            documented.insert((method.to_ascii_uppercase(), path.clone(), !secured));
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} documents responses"
            );
        }
    }
    let routes: BTreeSet<_> = table_routes().into_iter().map(|(m, p, _, public)| (m, p, public)).collect();
    assert_eq!(documented, routes, "docs/openapi.yaml and the routes differ (method, path, public)");
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/openapi.json").send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"], "3.1.0");
    assert!(r.body["paths"]["/api/v1/auth/login"]["post"].is_object());
}

#[test]
fn the_docs_document_every_configuration_variable_with_its_default() {
    let chapter = std::fs::read_to_string(repo_root().join("docs/configuration.md")).unwrap();
    for (name, default) in shared::config::VARIABLES {
        let row = chapter
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .unwrap_or_else(|| panic!("docs/configuration.md has no row for {name}"));
        let shown = if default.is_empty() { "(empty)".to_owned() } else { format!("`{default}`") };
        assert!(
            row.contains(&shown),
            "docs/configuration.md's row for {name} does not show the default {shown}: {row}"
        );
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_request_id() {
    let app = TestApp::spawn().await;
    let email = unique_email("headers");
    let responses = vec![
        app.get("/api/v1/health").send().await,
        app.register(&email, "short").await,
        app.get("/api/v1/users/me").send().await,
        app.get("/.well-known/jwks.json").send().await,
        app.login(&email, "whatever-Password-1").await,
        app.call("DELETE", "/api/v1/auth/sessions/0000")
            .bearer(&app.logged_in(&unique_email("h404")).await.0)
            .send()
            .await,
    ];
    let limited = TestApp::spawn_with(&[("RATE_LIMITS", "on"), ("RATE_LIMIT_VERIFY_EMAIL", "1")]).await;
    let mut too_many =
        limited.post("/api/v1/auth/verify-email", serde_json::json!({"token": "x"})).send().await;
    // Two more, in case a 60-second window ended between the first two.
    for _ in 0..2 {
        if too_many.status != 429 {
            too_many =
                limited.post("/api/v1/auth/verify-email", serde_json::json!({"token": "x"})).send().await;
        }
    }
    too_many.assert_error(429, "rate_limited");
    let mut responses = responses;
    responses.push(too_many);
    for r in responses {
        assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"), "{}", r.text);
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(r.header("strict-transport-security").is_some_and(|v| v.contains("max-age=")));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert!(r.header("x-request-id").is_some_and(|v| !v.is_empty()));
    }
}

#[test]
fn the_template_passes_its_own_sanity_rules() {
    let stacks = template::stacks().unwrap();
    let tpl = &stacks[0];
    let table = &tpl["Resources"]["Table"]["Properties"];
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"].as_str(), Some("ttl"));
    assert_eq!(table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(), Some(true));
    assert_eq!(table["GlobalSecondaryIndexes"][0]["IndexName"].as_str(), Some("gsi1"));
    let authorizer = &tpl["Resources"]["LambdaAuthorizer"]["Properties"];
    assert_eq!(authorizer["AuthorizerPayloadFormatVersion"].as_str(), Some("2.0"));
    assert_eq!(authorizer["EnableSimpleResponses"].as_bool(), Some(true));
    // No caching: a revoked session is refused on the very next request.
    assert_eq!(authorizer["AuthorizerResultTtlInSeconds"].as_u64(), Some(0));
    assert!(
        authorizer["IdentitySource"].is_null(),
        "without a source, a request without a bearer reaches it too"
    );
    assert_eq!(
        tpl["Resources"]["LambdaAuthorizerPermission"]["Type"].as_str(),
        Some("AWS::Lambda::Permission")
    );
    for stack in &stacks {
        // Every function a route integrates may be invoked by the API: a permission beside it.
        let named = |kind: &str, field: &str| -> BTreeSet<String> {
            stack["Resources"]
                .as_mapping()
                .unwrap()
                .values()
                .filter(|r| r["Type"].as_str() == Some(kind))
                .map(|r| serde_yaml::to_string(&r["Properties"][field]).unwrap())
                .map(|v| {
                    v.trim()
                        .trim_start_matches("!GetAtt ")
                        .trim_start_matches("!Ref ")
                        .trim_end_matches(".Arn")
                        .to_owned()
                })
                .collect()
        };
        let integrated = named("AWS::ApiGatewayV2::Integration", "IntegrationUri");
        let permitted = named("AWS::Lambda::Permission", "FunctionName");
        assert!(integrated.is_subset(&permitted), "integrated {integrated:?}, permitted {permitted:?}");
        for (name, r) in stack["Resources"].as_mapping().unwrap() {
            match r["Type"].as_str() {
                Some("AWS::Serverless::Function") => {
                    assert_eq!(r["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{name:?}");
                    // Least privilege: no managed wildcard policies.
                    let policies = serde_yaml::to_string(&r["Properties"]["Policies"]).unwrap();
                    assert!(!policies.contains("dynamodb:*") && !policies.contains("CrudPolicy"), "{name:?}");
                }
                // API Gateway may invoke a function only through the stack's own API.
                Some("AWS::Lambda::Permission") => {
                    let source = serde_yaml::to_string(&r["Properties"]["SourceArn"]).unwrap();
                    assert_eq!(
                        r["Properties"]["Principal"].as_str(),
                        Some("apigateway.amazonaws.com"),
                        "{name:?}"
                    );
                    assert!(
                        source.contains("${ApiId}/") || source.contains("${HttpApi}/"),
                        "{name:?}: {source}"
                    );
                }
                _ => {}
            }
        }
    }
}

/// API Gateway may invoke a function for its own routes only: each function's permission names its
/// method and path (the `/apps/{app_id}` copy by a wildcard before the path), and every route the
/// function serves, as API Gateway names it when it invokes (`<stage>/<METHOD><path>`), matches it.
#[test]
fn each_invoke_permission_covers_its_functions_routes_and_names_them() {
    fn glob(pattern: &[u8], text: &[u8]) -> bool {
        match (pattern.first(), text.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&pattern[1..], text) || (!text.is_empty() && glob(pattern, &text[1..])),
            (Some(p), Some(t)) if p == t => glob(&pattern[1..], &text[1..]),
            _ => false,
        }
    }
    let yaml = |v: &serde_yaml::Value| serde_yaml::to_string(v).unwrap().trim().to_owned();
    for stack in template::stacks().unwrap() {
        let resources = stack["Resources"].as_mapping().unwrap();
        for (name, route) in
            resources.iter().filter(|(_, r)| r["Type"].as_str() == Some("AWS::ApiGatewayV2::Route"))
        {
            let key = route["Properties"]["RouteKey"].as_str().unwrap();
            let integration = yaml(&route["Properties"]["Target"]);
            let integration = integration.split("${").nth(1).unwrap().trim_end_matches(['}', '"', '\'']);
            let function = yaml(&stack["Resources"][integration]["Properties"]["IntegrationUri"]);
            let function = function.trim_start_matches("!GetAtt ").trim_end_matches(".Arn");
            let permission = resources
                .values()
                .find(|r| {
                    r["Type"].as_str() == Some("AWS::Lambda::Permission")
                        && yaml(&r["Properties"]["FunctionName"]) == format!("!Ref {function}")
                })
                .unwrap_or_else(|| panic!("{name:?}: {function} has no invoke permission"));
            let source = yaml(&permission["Properties"]["SourceArn"]);
            let pattern = source.split("${ApiId}/").nth(1).unwrap().trim_end_matches('"');
            let (method, path) = key.split_once(' ').unwrap();
            let invoked =
                path.replace("{proxy+}", "a/b").replace("{app_id}", "app_x").replace(['{', '}'], "");
            let arn = format!("$default/{method}{invoked}");
            assert!(glob(pattern.as_bytes(), arn.as_bytes()), "{function}: {pattern} does not cover {arn}");
            assert!(pattern != "*" && !pattern.starts_with("*/*/*"), "{function}: {pattern} names no route");
        }
    }
}

/// Every route is served at `P` and at `/apps/{app_id}P`, and wave 3 adds some forty endpoints:
/// the stack is split into a nested stack per area so that each stays far inside CloudFormation's
/// limit of 500 resources (counted as the SAM transform itself expands it), and the HTTP API
/// inside its quota of 300 routes.
#[test]
fn the_expanded_stack_stays_well_inside_cloudformations_resource_limit() {
    let root = repo_root().join("infra/template.yaml");
    let mut templates = vec![root];
    let mut areas: Vec<_> = std::fs::read_dir(repo_root().join("infra/areas"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    areas.sort();
    assert_eq!(areas.len() + 1, template::stacks().unwrap().len(), "every area's template is a nested stack");
    templates.extend(areas);
    let mut routes_counted = 0;
    for path in &templates {
        let out = std::process::Command::new(repo_root().join(".venv/bin/python"))
            .arg(repo_root().join("scripts/count_resources.py"))
            .arg(path)
            .output()
            .expect("the SAM translator runs (make test installs it into .venv)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let counted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let total = counted["total"].as_u64().unwrap();
        assert!(total < 400, "{} expands to {total} resources: {counted}", path.display());
        routes_counted += counted["by_type"]["AWS::ApiGatewayV2::Route"].as_u64().unwrap_or(0);
    }
    // Each route is one `AWS::ApiGatewayV2::Route` (none hides in an OpenAPI body).
    assert_eq!(routes_counted, routes().len() as u64);
    assert!(routes_counted < 250, "the HTTP API holds {routes_counted} routes");
}
