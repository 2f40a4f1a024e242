//! Modules and policies, through the library: what `use` and `defaults` add, and what wins.
//! (Diagnostics have their fixtures in `tests/fixtures/err/`; the CLI's reading of files and
//! mesh.toml is tested in `tests/cli.rs`.)

#[path = "support/mesh.rs"]
#[allow(dead_code)]
mod mesh;

use meshc::SourceMap;
use serde_json::Value;

/// Compiles files (name, text) with the standard library only; panics on errors.
fn compile(files: &[(&str, &str)]) -> (Vec<Value>, Vec<String>) {
    let mut sources = SourceMap::new();
    for (name, text) in files {
        sources.add(*name, *text);
    }
    let compilation = meshc::compile(&mut sources);
    let rendered = meshc::diagnostics::render::human_string(&sources, &compilation.diagnostics);
    assert!(!compilation.has_errors(), "{rendered}");
    let codes = compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str().to_string())
        .collect();
    (mesh::manifests_as_data(&compilation), codes)
}

fn object<'a>(manifests: &'a [Value], kind: &str, name: &str) -> &'a Value {
    manifests
        .iter()
        .find(|m| m["kind"] == kind && m["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {manifests:#?}"))
}

const LIBRARY: &str = "
policy agent-call(timeout: duration = 30s, tries: count = 2, try-timeout: duration = 10s) {
  timeout timeout
  retry tries per try try-timeout on 5xx, reset
}

policy breaker(max: count = 100) {
  pool { max connections max }
  eject { after 5 consecutive 5xx  for 30s }
}

policy sticky(header: string = \"x-user-id\") {
  balance hash header header
}
";

#[test]
fn a_declaration_wins_over_its_uses_and_uses_over_defaults() {
    let program = "
import \"./lib.mesh\"

namespace team1

defaults {
  use lib.agent-call()
  use lib.breaker()
}

service a { }
service b { pool { max connections 7 } }
service c { use lib.breaker(max = 50) }

route a
route b timeout 5s retry 1 per try 2s
route c use lib.agent-call(60s, 3, 15s)
";
    let (manifests, _) = compile(&[("main.mesh", program), ("lib.mesh", LIBRARY)]);
    // a: everything from the defaults.
    let a = &object(&manifests, "VirtualService", "a")["spec"]["http"][0];
    assert_eq!(a["timeout"], "30s");
    assert_eq!(a["retries"]["attempts"], 2);
    assert_eq!(a["retries"]["perTryTimeout"], "10s");
    let a_policy = &object(&manifests, "DestinationRule", "a")["spec"]["trafficPolicy"];
    assert_eq!(a_policy["connectionPool"]["tcp"]["maxConnections"], 100);
    assert_eq!(a_policy["outlierDetection"]["consecutive5xxErrors"], 5);
    // b: its own timeout, retry and pool; the defaults' ejection (another kind).
    let b = &object(&manifests, "VirtualService", "b")["spec"]["http"][0];
    assert_eq!(b["timeout"], "5s");
    assert_eq!(b["retries"]["attempts"], 1);
    let b_policy = &object(&manifests, "DestinationRule", "b")["spec"]["trafficPolicy"];
    assert_eq!(b_policy["connectionPool"]["tcp"]["maxConnections"], 7);
    assert_eq!(b_policy["outlierDetection"]["consecutive5xxErrors"], 5);
    // c: its `use`s, with positional arguments.
    let c = &object(&manifests, "VirtualService", "c")["spec"]["http"][0];
    assert_eq!(c["timeout"], "60s");
    assert_eq!(c["retries"]["attempts"], 3);
    assert_eq!(c["retries"]["perTryTimeout"], "15s");
    let c_policy = &object(&manifests, "DestinationRule", "c")["spec"]["trafficPolicy"];
    assert_eq!(c_policy["connectionPool"]["tcp"]["maxConnections"], 50);
}

#[test]
fn a_services_policies_reach_its_routes_and_string_parameters_name_headers() {
    let program = "
import \"./lib.mesh\"

namespace team1

service a {
  use lib.agent-call(timeout = 20s, try-timeout = 5s)
  use lib.sticky(header = \"x-session\")
}

route a when header x-beta = \"1\" timeout 8s
route a
";
    let (manifests, codes) = compile(&[("main.mesh", program), ("lib.mesh", LIBRARY)]);
    let http = &object(&manifests, "VirtualService", "a")["spec"]["http"];
    assert_eq!(http[0]["timeout"], "8s");
    assert_eq!(http[0]["retries"]["perTryTimeout"], "5s");
    assert_eq!(http[1]["timeout"], "20s");
    let lb = &object(&manifests, "DestinationRule", "a")["spec"]["trafficPolicy"]["loadBalancer"];
    assert_eq!(lb["consistentHash"]["httpHeaderName"], "x-session");
    // Consistent hashing with retries: the note says what Istio does with them.
    assert!(codes.contains(&"N0002".to_string()), "{codes:?}");
}

#[test]
fn defaults_skip_ingress_routes_redirects_and_other_namespaces() {
    let program = "
import std/timeouts

namespace team1

defaults { use timeouts.interactive() }

service web { port 8080 }

ingress public { gateway edge in istio-system  hostname web.example.com }

route public -> web
route web when uri prefix \"/old\" redirect path \"/new\"
route web
";
    let other = "
namespace team2

service api { }

route api
";
    let (manifests, _) = compile(&[("main.mesh", program), ("team2.mesh", other)]);
    let http = &object(&manifests, "VirtualService", "web")["spec"]["http"];
    assert!(http[0].get("timeout").is_none(), "a redirect: {}", http[0]);
    assert_eq!(http[1]["timeout"], "2s");
    let rule = &object(&manifests, "HTTPRoute", "public")["spec"]["rules"][0];
    assert!(rule.get("timeouts").is_none(), "an ingress route: {rule}");
    let api = &object(&manifests, "VirtualService", "api")["spec"]["http"][0];
    assert!(
        api.get("timeout").is_none(),
        "team1's defaults in team2: {api}"
    );
}

#[test]
fn canaries_take_presets_and_write_what_they_change() {
    let program = "
import std/canary

namespace team1

service a {
  subset v1 (version = v1)
  subset v2 (version = v2)
}

canary a {
  from v1
  to v2
  use canary.standard()
  steps 25%, 100%
}
";
    let (manifests, _) = compile(&[("main.mesh", program)]);
    let route = &object(&manifests, "VirtualService", "a")["spec"]["http"][0]["route"];
    assert_eq!(route[0]["weight"], 75, "the canary's own `steps` win");
    assert!(
        manifests.iter().any(|m| m["kind"] == "PrometheusRule"),
        "the preset's checks become alerts"
    );
}

#[test]
fn an_allow_on_defaults_covers_what_the_defaults_bring() {
    let program = "
import std/retries

namespace team1

@allow(retry-budget)
defaults { use retries.idempotent(attempts = 5) }

service a { pool { max connections 10 } }

route a
";
    let (_, codes) = compile(&[("main.mesh", program)]);
    assert!(!codes.contains(&"W0104".to_string()), "{codes:?}");
    let (_, codes) = compile(&[("main.mesh", &program.replace("@allow(retry-budget)", ""))]);
    assert!(codes.contains(&"W0104".to_string()), "{codes:?}");
}

#[test]
fn a_module_compiles_alone_to_nothing() {
    let (manifests, codes) = compile(&[("lib.mesh", LIBRARY)]);
    assert!(manifests.is_empty());
    assert!(codes.is_empty(), "{codes:?}");
}

/// The diagnostics of compiling `files`, as (code, message).
fn diagnostics_of(files: &[(String, String)]) -> Vec<(String, String)> {
    let mut sources = SourceMap::new();
    for (name, text) in files {
        sources.add(name.as_str(), text.as_str());
    }
    meshc::compile(&mut sources)
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str().to_string(), d.message.clone()))
        .collect()
}

#[test]
fn a_chain_of_policies_deeper_than_the_limit_is_one_error_not_a_stack_overflow() {
    // Test threads have small stacks: each level used to recurse once.
    let depth = 20_000;
    let mut text = String::from("namespace team1\nservice web { }\nroute web use p0()\n");
    for level in 0..depth {
        text.push_str(&format!("policy p{level}() {{ use p{}() }}\n", level + 1));
    }
    text.push_str(&format!("policy p{depth}() {{ timeout 5s }}\n"));
    let found = diagnostics_of(&[("deep.mesh".to_string(), text)]);
    let errors: Vec<_> = found
        .iter()
        .filter(|(code, _)| code.starts_with('E'))
        .collect();
    assert_eq!(
        errors,
        [&(
            "E0312".to_string(),
            format!(
                "policy `p{}` is nested more than {} policies deep",
                meshc::modules::MAX_NESTING,
                meshc::modules::MAX_NESTING
            )
        )],
        "{found:?}"
    );
}

#[test]
fn an_import_cycle_through_thousands_of_files_is_reported_briefly() {
    let count = 3_000;
    let files: Vec<(String, String)> = (0..count)
        .map(|i| {
            let next = (i + 1) % count;
            let text =
                format!("import \"./f{next}.mesh\" as next\npolicy p() {{ use next.p() }}\n");
            (format!("f{i}.mesh"), text)
        })
        .collect();
    let found = diagnostics_of(&files);
    let cycles: Vec<_> = found.iter().filter(|(code, _)| code == "E0110").collect();
    assert_eq!(cycles.len(), 1, "{found:?}");
    assert_eq!(
        cycles[0].1,
        format!(
            "import cycle: f0.mesh → f1.mesh → f2.mesh → f3.mesh → … {} more … → f2997.mesh → f2998.mesh → f2999.mesh → f0.mesh",
            count + 1 - 8
        )
    );
}
