//! Tests of the CRD schema validator in `compiler/src/validate.rs`: the guide's reference manifests in
//! `tests/data/seed/` are accepted, and each kind of mistake is rejected with a message naming its path. The
//! CEL rules are tested with the manifests of `tests/data/cel/` (see its README), the built-in kinds
//! (`apps/v1` Deployment, `v1` Service) at the end of this file.

mod support;

use serde_json::{json, Value};
use std::path::PathBuf;
use support::crd::{self, Channel};

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/seed")
}

/// The seed manifest whose file name starts with `prefix` (e.g. `"05-"`), parsed.
fn seed(prefix: &str) -> Value {
    let entries = std::fs::read_dir(seed_dir()).expect("tests/data/seed exists");
    let path = entries
        .map(|entry| entry.expect("readable directory entry").path())
        .find(|path| {
            path.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no seed file starting with {prefix}"));
    parse(&std::fs::read_to_string(&path).expect("readable seed file"))
}

fn parse(yaml: &str) -> Value {
    serde_saphyr::from_str::<Value>(yaml).expect("valid YAML")
}

/// The errors for `manifest`, which must be invalid.
#[track_caller]
fn errors(manifest: &Value) -> Vec<String> {
    match crd::validate(manifest) {
        Ok(()) => panic!("expected errors, the manifest validated:\n{manifest:#}"),
        Err(errors) => errors,
    }
}

/// Sets the field at the JSON `pointer` (its parent must be an object) to `value`.
#[track_caller]
fn set(manifest: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a '/'");
    let parent = manifest.pointer_mut(parent).and_then(Value::as_object_mut);
    parent
        .unwrap_or_else(|| panic!("no object at {pointer}"))
        .insert(key.to_string(), value);
}

/// Removes the field at the JSON `pointer`, which must exist.
#[track_caller]
fn remove(manifest: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a '/'");
    let parent = manifest.pointer_mut(parent).and_then(Value::as_object_mut);
    let removed = parent.and_then(|p| p.remove(key));
    assert!(removed.is_some(), "nothing at {pointer}");
}

#[test]
fn every_seed_reference_manifest_validates() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(seed_dir())
        .expect("tests/data/seed exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    paths.sort();
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for path in &paths {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let manifest = parse(&std::fs::read_to_string(path).expect("readable seed file"));
        if let Err(errors) = crd::validate(&manifest) {
            failures.push(format!("{name}:\n  {}", errors.join("\n  ")));
        }
        checked.push(name);
    }
    assert!(
        failures.is_empty(),
        "invalid seed manifests:\n{}",
        failures.join("\n")
    );
    assert_eq!(checked.len(), 24, "seed files checked: {checked:?}");
}

#[test]
fn a_kind_without_an_embedded_crd_is_an_error() {
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
    assert_eq!(
        errors(&config_map),
        ["apiVersion: no embedded CRD or built-in schema for kind \"ConfigMap\" in apiVersion \"v1\" \
          (known: networking.istio.io VirtualService and DestinationRule; gateway.networking.k8s.io HTTPRoute \
          and ReferenceGrant; flagger.app Canary, MetricTemplate and AlertProvider; argoproj.io Rollout and \
          AnalysisTemplate; monitoring.coreos.com PrometheusRule; policy.linkerd.io HTTPRoute; linkerd.io ServiceProfile; consul.hashicorp.com ServiceDefaults, \
          ServiceResolver, ServiceRouter and ServiceSplitter; built-in: \
          apps/v1 Deployment, v1 Service)"]
    );
    let mut manifest = seed("05-");
    set(&mut manifest, "/kind", json!("VirtualServic"));
    assert_eq!(errors(&manifest).len(), 1);
    assert!(errors(&manifest)[0]
        .contains("no embedded CRD or built-in schema for kind \"VirtualServic\""));
    // The built-in kinds are known to validate and validate_with_channel only.
    let crd = standard_httproute_crd();
    let found = crd::validate_with_crd(&seed("09-"), &crd).expect_err("not an HTTPRoute");
    assert!(
        found[0]
            .starts_with("apiVersion: no embedded CRD or built-in schema for kind \"Deployment\""),
        "{found:?}"
    );
}

#[test]
fn every_served_version_is_accepted_and_others_are_not() {
    for api_version in [
        "networking.istio.io/v1beta1",
        "networking.istio.io/v1alpha3",
    ] {
        let mut manifest = seed("05-");
        set(&mut manifest, "/apiVersion", json!(api_version));
        assert_eq!(crd::validate(&manifest), Ok(()), "{api_version}");
    }
    let mut route = seed("01-");
    set(
        &mut route,
        "/apiVersion",
        json!("gateway.networking.k8s.io/v1beta1"),
    );
    assert_eq!(crd::validate(&route), Ok(()));

    let mut manifest = seed("05-");
    set(
        &mut manifest,
        "/apiVersion",
        json!("networking.istio.io/v2"),
    );
    assert_eq!(
        errors(&manifest),
        ["apiVersion: version \"v2\" of VirtualService is not served (served: v1, v1alpha3, v1beta1)"]
    );
}

#[test]
fn unknown_field_is_rejected() {
    let mut manifest = seed("05-");
    remove(&mut manifest, "/spec/http/0/retries/attempts");
    set(&mut manifest, "/spec/http/0/retries/attemps", json!(3));
    assert_eq!(
        errors(&manifest),
        ["spec.http[0].retries.attemps: unknown field (did you mean `attempts`?)"]
    );
}

#[test]
fn unknown_field_in_a_map_value_is_rejected() {
    let mut manifest = seed("03-");
    set(
        &mut manifest,
        "/spec/http/0/match/0/headers/x-user-type",
        json!({"exakt": "beta"}),
    );
    assert_eq!(
        errors(&manifest),
        ["spec.http[0].match[0].headers[x-user-type].exakt: unknown field (did you mean `exact`?)"]
    );
}

#[test]
fn wrong_type_is_rejected() {
    let mut manifest = seed("05-");
    set(&mut manifest, "/spec/http/0/retries/attempts", json!("3"));
    assert_eq!(
        errors(&manifest),
        ["spec.http[0].retries.attempts: expected integer, got string \"3\""]
    );

    // An integral float is an integer (as in the API server's JSON decoding), 3.5 is not.
    set(&mut manifest, "/spec/http/0/retries/attempts", json!(3.0));
    assert_eq!(crd::validate(&manifest), Ok(()));
    set(&mut manifest, "/spec/http/0/retries/attempts", json!(3.5));
    assert_eq!(
        errors(&manifest),
        ["spec.http[0].retries.attempts: expected integer, got number 3.5"]
    );
}

#[test]
fn integers_are_valid_numbers() {
    let mut manifest = seed("13-");
    set(
        &mut manifest,
        "/spec/http/0/mirrorPercentage/value",
        json!(10),
    );
    assert_eq!(crd::validate(&manifest), Ok(()));
    set(
        &mut manifest,
        "/spec/http/0/mirrorPercentage/value",
        json!("10"),
    );
    assert_eq!(
        errors(&manifest),
        ["spec.http[0].mirrorPercentage.value: expected number, got string \"10\""]
    );
}

#[test]
fn bad_enum_value_is_rejected() {
    let mut manifest = seed("18-");
    set(
        &mut manifest,
        "/spec/trafficPolicy/loadBalancer/simple",
        json!("FASTEST"),
    );
    assert_eq!(
        errors(&manifest),
        ["spec.trafficPolicy.loadBalancer.simple: unsupported value \"FASTEST\"; supported values: \
          \"UNSPECIFIED\", \"LEAST_CONN\", \"RANDOM\", \"PASSTHROUGH\", \"ROUND_ROBIN\", \"LEAST_REQUEST\""]
    );
}

#[test]
fn missing_required_field_is_rejected() {
    let mut manifest = seed("05-");
    remove(&mut manifest, "/spec/http/0/route/0/destination/host");
    assert_eq!(
        errors(&manifest),
        ["spec.http[0].route[0].destination.host: required field is missing"]
    );
}

#[test]
fn mutually_exclusive_fields_violate_one_of() {
    let mut manifest = seed("23-");
    set(
        &mut manifest,
        "/spec/trafficPolicy/loadBalancer/consistentHash/useSourceIp",
        json!(true),
    );
    assert_eq!(
        errors(&manifest),
        ["spec.trafficPolicy.loadBalancer.consistentHash: must match exactly one oneOf alternative, \
          matches 2: required [httpHeaderName] | required [useSourceIp]"]
    );

    // simple and consistentHash are exclusive one level up.
    let mut manifest = seed("23-");
    set(
        &mut manifest,
        "/spec/trafficPolicy/loadBalancer/simple",
        json!("RANDOM"),
    );
    assert_eq!(
        errors(&manifest),
        [
            "spec.trafficPolicy.loadBalancer: must match exactly one oneOf alternative, \
          matches 2: required [simple] | required [consistentHash]"
        ]
    );

    // A header match sets one of exact, prefix and regex.
    let mut manifest = seed("03-");
    set(
        &mut manifest,
        "/spec/http/0/match/0/headers/x-user-type/prefix",
        json!("beta"),
    );
    let found = errors(&manifest);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "spec.http[0].match[0].headers[x-user-type]: must match exactly one oneOf"
        ),
        "{found:?}"
    );
}

#[test]
fn bad_durations_are_rejected() {
    let message = "must be a valid duration greater than 1ms";
    let cases = [
        ("0s", format!("{message}: \"0s\" is less than 1ms")),
        ("0", format!("{message}: \"0\" is less than 1ms")),
        ("0.5ms", format!("{message}: \"0.5ms\" is less than 1ms")),
        ("999us", format!("{message}: \"999us\" is less than 1ms")),
        ("-1s", format!("{message}: \"-1s\" is less than 1ms")),
        (
            "5 s",
            format!("{message}: \"5 s\" is not a Go duration (unknown unit \" s\")"),
        ),
        (
            "10",
            format!("{message}: \"10\" is not a Go duration (missing unit)"),
        ),
        (
            "1d",
            format!("{message}: \"1d\" is not a Go duration (unknown unit \"d\")"),
        ),
        ("", format!("{message}: \"\" is not a Go duration (empty)")),
        (
            "s",
            format!("{message}: \"s\" is not a Go duration (expected a number)"),
        ),
        (
            "9999999999h",
            format!("{message}: \"9999999999h\" is not a Go duration (out of range)"),
        ),
    ];
    for (duration, expected) in cases {
        let mut manifest = seed("06-");
        set(&mut manifest, "/spec/http/0/timeout", json!(duration));
        assert_eq!(
            errors(&manifest),
            [format!("spec.http[0].timeout: {expected}")],
            "{duration:?}"
        );
    }

    // The same rule guards DestinationRule durations.
    let mut manifest = seed("08-");
    set(
        &mut manifest,
        "/spec/trafficPolicy/outlierDetection/interval",
        json!("30"),
    );
    assert_eq!(
        errors(&manifest),
        [format!(
            "spec.trafficPolicy.outlierDetection.interval: {message}: \"30\" is not a Go duration (missing unit)"
        )]
    );
}

#[test]
fn go_durations_of_at_least_1ms_are_accepted() {
    for duration in [
        "1ms",
        "1.5ms",
        "500ms",
        "10s",
        "1.5s",
        "1m30s",
        "2h45m",
        "1h0m0.5s",
        "1000us",
        "1000\u{b5}s",
        "1000\u{3bc}s",
        "1000000ns",
        ".5s",
        "5.s",
        "+3s",
    ] {
        let mut manifest = seed("06-");
        set(&mut manifest, "/spec/http/0/timeout", json!(duration));
        assert_eq!(crd::validate(&manifest), Ok(()), "{duration:?}");
    }
}

#[test]
fn unknown_httproute_filter_type_is_rejected() {
    let mut manifest = seed("14-");
    set(
        &mut manifest,
        "/spec/rules/0/filters/0/type",
        json!("Rewrite"),
    );
    // The CEL rules are evaluated too (the API server would skip them after an enum error).
    assert_eq!(
        errors(&manifest),
        [
            "spec.rules[0].filters[0].type: unsupported value \"Rewrite\"; supported values: \
             \"RequestHeaderModifier\", \"ResponseHeaderModifier\", \"RequestMirror\", \"RequestRedirect\", \
             \"URLRewrite\", \"ExtensionRef\", \"CORS\"",
            "spec.rules[0].filters[0]: filter.urlRewrite must be nil if the filter.type is not URLRewrite",
        ]
    );
}

#[test]
fn metadata_is_checked() {
    let mut manifest = seed("05-");
    remove(&mut manifest, "/metadata/name");
    assert_eq!(
        errors(&manifest),
        ["metadata.name: required field is missing"]
    );

    let mut manifest = seed("05-");
    remove(&mut manifest, "/metadata");
    assert_eq!(errors(&manifest), ["metadata: required field is missing"]);

    let mut manifest = seed("05-");
    set(&mut manifest, "/metadata/name", json!("Research_Agent"));
    set(&mut manifest, "/metadata/namespace", json!("team.one"));
    set(
        &mut manifest,
        "/metadata/labels",
        json!({"app.kubernetes.io/managed-by": "meshc", "bad key!": "x"}),
    );
    set(
        &mut manifest,
        "/metadata/annotations",
        json!({"meshc.dev/source": 3}),
    );
    set(&mut manifest, "/metadata/nickname", json!("ra"));
    assert_eq!(
        errors(&manifest),
        [
            "metadata.annotations[meshc.dev/source]: expected string, got integer 3",
            "metadata.labels[bad key!]: key is not a qualified name ([prefix/]name)",
            "metadata.name: \"Research_Agent\" is not a DNS-1123 subdomain (lower-case alphanumerics, '-' \
             and '.', at most 253 characters)",
            "metadata.namespace: \"team.one\" is not a DNS-1123 label (lower-case alphanumerics and '-', at \
             most 63 characters)",
            "metadata.nickname: unknown field",
        ]
    );
}

#[test]
fn top_level_fields_are_checked() {
    let mut manifest = seed("01-");
    set(&mut manifest, "/data", json!({}));
    set(&mut manifest, "/status", json!({"anything": true}));
    assert_eq!(errors(&manifest), ["data: unknown field"]);

    // The HTTPRoute schema requires spec.
    let mut manifest = seed("01-");
    remove(&mut manifest, "/spec");
    assert_eq!(errors(&manifest), ["spec: required field is missing"]);

    assert_eq!(
        errors(&json!({"kind": 3})),
        [
            "apiVersion: required field is missing",
            "kind: expected string, got integer 3"
        ]
    );
}

#[test]
fn experimental_httproute_fields_need_the_experimental_channel() {
    let mut manifest = seed("01-");
    set(
        &mut manifest,
        "/spec/rules/0/retry",
        json!({"attempts": 2, "codes": [503]}),
    );
    assert_eq!(errors(&manifest), ["spec.rules[0].retry: unknown field"]);
    assert_eq!(
        crd::validate_with_channel(&manifest, Channel::Experimental),
        Ok(())
    );
    assert_eq!(
        crd::validate_with_channel(&seed("01-"), Channel::Experimental),
        Ok(())
    );

    set(&mut manifest, "/spec/rules/0/retry/codes", json!([600]));
    assert_eq!(
        crd::validate_with_channel(&manifest, Channel::Experimental),
        Err(vec![
            "spec.rules[0].retry.codes[0]: 600 must be at most 599".to_string()
        ])
    );
}

#[test]
fn list_map_and_set_entries_must_be_unique() {
    let mut manifest = seed("15-");
    let modifier = "/spec/rules/0/filters/0/requestHeaderModifier";
    set(
        &mut manifest,
        &format!("{modifier}/set"),
        json!([{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]),
    );
    set(
        &mut manifest,
        &format!("{modifier}/remove"),
        json!(["X", "Y", "X"]),
    );
    assert_eq!(
        errors(&manifest),
        [
            "spec.rules[0].filters[0].requestHeaderModifier.remove[2]: duplicate value \"X\", already at \
             spec.rules[0].filters[0].requestHeaderModifier.remove[0]",
            "spec.rules[0].filters[0].requestHeaderModifier.set[1]: duplicate key (name) = [\"A\"], already at \
             spec.rules[0].filters[0].requestHeaderModifier.set[0]",
        ]
    );
}

#[test]
fn string_and_number_limits_are_checked() {
    let mut manifest = seed("01-");
    set(&mut manifest, "/spec/hostnames", json!(["Agents_Local"]));
    set(
        &mut manifest,
        "/spec/rules/0/backendRefs/0/port",
        json!(70000),
    );
    set(
        &mut manifest,
        "/spec/rules/0/backendRefs/0/weight",
        json!(-1),
    );
    set(&mut manifest, "/spec/rules/0/backendRefs/0/name", json!(""));
    let found = errors(&manifest);
    assert_eq!(
        found,
        [
            "spec.hostnames[0]: \"Agents_Local\" does not match pattern \
             \"^(\\\\*\\\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$\"",
            "spec.rules[0].backendRefs[0].name: has 0 characters, fewer than minLength 1",
            "spec.rules[0].backendRefs[0].port: 70000 must be at most 65535",
            "spec.rules[0].backendRefs[0].weight: -1 must be at least 0",
        ]
    );
}

#[test]
fn item_count_limits_are_checked() {
    let mut manifest = seed("01-");
    let rule = manifest.pointer("/spec/rules/0").cloned().expect("a rule");
    set(&mut manifest, "/spec/rules", Value::Array(vec![rule; 17]));
    assert_eq!(
        errors(&manifest),
        ["spec.rules: has 17 items, more than maxItems 16"]
    );
    set(&mut manifest, "/spec/rules", json!([]));
    assert_eq!(
        errors(&manifest),
        ["spec.rules: has 0 items, fewer than minItems 1"]
    );
}

#[test]
fn int32_format_range_is_checked() {
    let mut manifest = seed("05-");
    set(
        &mut manifest,
        "/spec/http/0/retries/attempts",
        json!(3_000_000_000_u64),
    );
    assert_eq!(
        errors(&manifest),
        ["spec.http[0].retries.attempts: 3000000000 is out of range for format int32"]
    );
}

#[test]
fn null_is_accepted_only_where_nullable() {
    let mut manifest = seed("05-");
    set(&mut manifest, "/spec/http/0/retries/attempts", Value::Null);
    assert_eq!(
        errors(&manifest),
        ["spec.http[0].retries.attempts: expected integer, got null"]
    );

    let mut manifest = seed("18-");
    set(
        &mut manifest,
        "/spec/trafficPolicy/loadBalancer/localityLbSetting",
        json!({"enabled": null}),
    );
    assert_eq!(crd::validate(&manifest), Ok(()));
}

#[test]
fn garbage_never_panics() {
    let garbage = [
        json!(null),
        json!([]),
        json!("VirtualService"),
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": []}),
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": 1}, "spec": "x"}),
        json!({"apiVersion": "networking.istio.io", "kind": "DestinationRule", "metadata": {"name": "a"}}),
        json!({"apiVersion": "/", "kind": "", "metadata": {"name": "a"}}),
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "a"},
               "spec": {"rules": [null, 1, {"matches": "x", "filters": [{"type": null}]}]}}),
        json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "a"},
               "spec": {"trafficPolicy": {"loadBalancer": {"consistentHash": [], "simple": {}}}}}),
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "a"},
               "spec": {"http": [{"timeout": "\u{b5}\u{b5}.", "retries": {"perTryTimeout": "1.\u{3bc}s"}}]}}),
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "a"}}),
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "a"},
               "spec": {"restartAt": "\u{130}\u{130}\u{130}\u{130}-\u{b5}T\u{130}", "strategy": {"canary": {"steps": "x"}}}}),
        json!({"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": {"name": "a"},
               "spec": {"analysis": [], "service": {"mirror": [{"backendRef": {"group": 1, "kind": null}}]}}}),
        json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "a"},
               "spec": {"groups": [{"name": null, "rules": [{"expr": 1.5}]}, {}]}}),
    ];
    for manifest in &garbage {
        let found = errors(manifest);
        assert!(!found.is_empty(), "{manifest}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// CEL rules (`x-kubernetes-validations`), with the manifests of `tests/data/cel/` (see its README).

/// The documents of the YAML files in `tests/data/cel/<dir>/`, each with a name for messages
/// (`invalid/filters.yaml#3 cors-repeated`).
fn cel_documents(dir: &str) -> Vec<(String, Value)> {
    let dir_path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/cel")
        .join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir_path)
        .unwrap_or_else(|e| panic!("{}: {e}", dir_path.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    paths.sort();
    let mut documents = Vec::new();
    for path in paths {
        let file = format!(
            "{dir}/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let text = std::fs::read_to_string(&path).expect("readable YAML file");
        let parsed: Vec<Value> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}"));
        for (index, document) in parsed.into_iter().enumerate() {
            let name = document
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?");
            documents.push((format!("{file}#{index} {name}"), document));
        }
    }
    assert!(
        !documents.is_empty(),
        "no documents in {}",
        dir_path.display()
    );
    documents
}

/// The annotation `meshc.dev/<name>` of `manifest`.
fn annotation<'a>(manifest: &'a Value, name: &str) -> Option<&'a str> {
    let annotations = manifest.pointer("/metadata/annotations")?;
    annotations.get(format!("meshc.dev/{name}"))?.as_str()
}

/// The channel a document of `tests/data/cel/` is validated with.
fn cel_channel(manifest: &Value) -> Channel {
    match annotation(manifest, "channel") {
        Some("experimental") => Channel::Experimental,
        None | Some("standard") => Channel::Standard,
        Some(other) => panic!("unknown channel {other:?}"),
    }
}

/// The errors a document of `tests/data/cel/invalid/` expects (its annotation `meshc.dev/expect`).
fn expected_errors(manifest: &Value) -> Vec<String> {
    let expect = annotation(manifest, "expect").unwrap_or("");
    expect
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn cel_rule_violations_are_rejected_with_the_rules_message() {
    let mut failures = Vec::new();
    for (name, manifest) in cel_documents("invalid") {
        let expected = expected_errors(&manifest);
        assert!(
            !expected.is_empty(),
            "{name}: no meshc.dev/expect annotation"
        );
        let found = crd::validate_with_channel(&manifest, cel_channel(&manifest))
            .err()
            .unwrap_or_default();
        if found != expected {
            failures.push(format!(
                "{name}:\n  expected {expected:#?}\n  found {found:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn manifests_close_to_the_cel_rules_limits_are_accepted() {
    let mut failures = Vec::new();
    for (name, manifest) in cel_documents("valid") {
        if let Err(errors) = crd::validate_with_channel(&manifest, cel_channel(&manifest)) {
            failures.push(format!("{name}:\n  {}", errors.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The seed HTTPRoutes are valid on both channels.
    for prefix in ["01-", "02-", "14-", "15-"] {
        for channel in [Channel::Standard, Channel::Experimental] {
            assert_eq!(
                crd::validate_with_channel(&seed(prefix), channel),
                Ok(()),
                "{prefix} {channel:?}"
            );
        }
    }
}

#[test]
fn every_cel_rule_of_the_embedded_crds_is_evaluated_or_listed_as_not_evaluated() {
    let rules = crd::embedded_cel_rules().expect("the embedded CRDs parse");
    let unknown: Vec<String> = rules
        .iter()
        .filter(|rule| rule.handling == crd::CelHandling::Unknown)
        .map(|rule| format!("{} {} {}: {}", rule.crd, rule.version, rule.path, rule.rule))
        .collect();
    assert!(
        unknown.is_empty(),
        "CEL rules neither implemented in CEL_RULES nor listed in NOT_EVALUATED (compiler/src/validate.rs):\n{}",
        unknown.join("\n")
    );
    assert_eq!(crd::cel_table_problems(), Ok(vec![]));

    // The rule counts per version that shared/tools/k8s-validate --crd-stats reports, so the search for rules
    // misses none.
    let count = |crd: &str, version: &str| {
        rules
            .iter()
            .filter(|rule| rule.crd == crd && rule.version == version)
            .count()
    };
    for version in ["v1", "v1beta1"] {
        assert_eq!(count("httproutes.gateway.networking.k8s.io", version), 89);
        assert_eq!(
            count(
                "httproutes.gateway.networking.k8s.io (experimental)",
                version
            ),
            106
        );
        assert_eq!(
            count("referencegrants.gateway.networking.k8s.io", version),
            0
        );
    }
    for version in ["v1", "v1beta1", "v1alpha3"] {
        assert_eq!(count("virtualservices.networking.istio.io", version), 6);
        assert_eq!(count("destinationrules.networking.istio.io", version), 47);
    }
    // Canary's one rule is HTTPRoute's backendRef port rule; Rollout's is the transition rule
    // `self == oldSelf`, not evaluated.
    assert_eq!(count("canaries.flagger.app", "v1beta1"), 1);
    assert_eq!(count("metrictemplates.flagger.app", "v1beta1"), 0);
    assert_eq!(count("alertproviders.flagger.app", "v1beta1"), 0);
    assert_eq!(count("rollouts.argoproj.io", "v1alpha1"), 1);
    assert_eq!(count("analysistemplates.argoproj.io", "v1alpha1"), 0);
    assert_eq!(count("prometheusrules.monitoring.coreos.com", "v1"), 0);
    assert_eq!(
        crd::cel_handling("self == oldSelf"),
        crd::CelHandling::NotEvaluated(
            "a transition rule (it reads oldSelf): the API server evaluates it only when an object is \
             updated, never on create, which is what this validator checks"
        )
    );
    let mut texts: Vec<&str> = rules.iter().map(|rule| rule.rule.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), 64, "distinct rule texts");
}

#[test]
fn every_evaluated_cel_rule_has_a_violating_manifest() {
    let mut expected_messages = Vec::new();
    for (_, manifest) in cel_documents("invalid") {
        for error in expected_errors(&manifest) {
            let (_, message) = error.split_once(": ").expect("<path>: <message>");
            expected_messages.push(message.to_string());
        }
    }
    // Violated in a test below: the enum of `type` makes it fail only together with an enum error.
    expected_messages.push(PATH_TYPE_MESSAGE.to_string());
    let rules = crd::embedded_cel_rules().expect("the embedded CRDs parse");
    let mut missing: Vec<String> = rules
        .iter()
        .filter(|rule| rule.handling == crd::CelHandling::Evaluated)
        .filter(|rule| {
            !expected_messages
                .iter()
                .any(|m| *m == rule.message || m.starts_with(&format!("{}: ", rule.message)))
        })
        .map(|rule| format!("{} {}: {}", rule.crd, rule.path, rule.message))
        .collect();
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "no manifest in tests/data/cel/invalid violates:\n{}",
        missing.join("\n")
    );
}

const PATH_TYPE_MESSAGE: &str = "type must be one of ['Exact', 'PathPrefix', 'RegularExpression']";

#[test]
fn path_type_rule_backs_up_the_enum() {
    let mut route = seed("01-");
    set(
        &mut route,
        "/spec/rules/0/matches/0/path/type",
        json!("Prefix"),
    );
    assert_eq!(
        errors(&route),
        [
            "spec.rules[0].matches[0].path.type: unsupported value \"Prefix\"; supported values: \"Exact\", \
             \"PathPrefix\", \"RegularExpression\""
                .to_string(),
            format!("spec.rules[0].matches[0].path: {PATH_TYPE_MESSAGE}"),
        ]
    );
}

#[test]
fn gep_2257_timeouts_are_checked() {
    let pattern = "\"^([0-9]{1,5}(h|m|s|ms)){1,4}$\"";
    for bad in [
        "1.5s",
        "1d",
        "0",
        "-1s",
        "100000s",
        "1h1m1s1ms1s",
        "10 s",
        "1us",
        "PT1S",
        "",
    ] {
        let mut route = seed("01-");
        set(
            &mut route,
            "/spec/rules/0/timeouts",
            json!({"request": bad}),
        );
        assert_eq!(
            errors(&route),
            [format!(
                "spec.rules[0].timeouts.request: {bad:?} does not match pattern {pattern}"
            )],
            "{bad:?}"
        );
    }
    for good in ["0s", "1ms", "99999h", "1h30m", "1h1m1s1ms", "90m", "1s1s"] {
        let mut route = seed("01-");
        set(
            &mut route,
            "/spec/rules/0/timeouts",
            json!({"request": good, "backendRequest": good}),
        );
        assert_eq!(crd::validate(&route), Ok(()), "{good:?}");
    }
    // A duration the pattern rejects but Go parses is still compared.
    let mut route = seed("01-");
    set(
        &mut route,
        "/spec/rules/0/timeouts",
        json!({"request": "1.5s", "backendRequest": "2s"}),
    );
    assert_eq!(
        errors(&route),
        [
            format!("spec.rules[0].timeouts.request: \"1.5s\" does not match pattern {pattern}"),
            "spec.rules[0].timeouts: backendRequest timeout cannot be longer than request timeout"
                .to_string(),
        ]
    );
}

#[test]
fn cel_rules_see_the_defaults() {
    // backendRefs[].group defaults to "" and kind to Service: a Service reference needs a port.
    let mut route = seed("01-");
    remove(&mut route, "/spec/rules/0/backendRefs/0/port");
    assert_eq!(
        errors(&route),
        ["spec.rules[0].backendRefs[0]: Must have port for Service reference"]
    );
    set(
        &mut route,
        "/spec/rules/0/backendRefs/0/kind",
        json!("Backend"),
    );
    set(
        &mut route,
        "/spec/rules/0/backendRefs/0/group",
        json!("example.com"),
    );
    assert_eq!(crd::validate(&route), Ok(()));

    // A rule without matches gets a PathPrefix match on "/", good for a prefix rewrite.
    let mut route = seed("14-");
    remove(&mut route, "/spec/rules/0/matches");
    assert_eq!(crd::validate(&route), Ok(()));
    set(
        &mut route,
        "/spec/rules/0/matches",
        json!([{"path": {"value": "/a"}}, {"headers": [{"name": "x-v", "value": "2"}]}]),
    );
    assert_eq!(
        errors(&route),
        ["spec.rules[0]: When using URLRewrite filter with path.replacePrefixMatch, exactly one \
          PathPrefix match must be specified"]
    );
}

#[test]
fn cel_rules_that_cannot_be_evaluated_are_reported_only_without_other_errors() {
    // numerator is required: CEL's "no such key" is explained by the missing field.
    let mut route = seed("01-");
    set(
        &mut route,
        "/spec/rules/0/filters",
        json!([{"type": "RequestMirror", "requestMirror": {
            "backendRef": {"name": "shadow", "port": 8080}, "fraction": {"denominator": 10}}}]),
    );
    assert_eq!(
        errors(&route),
        ["spec.rules[0].filters[0].requestMirror.fraction.numerator: required field is missing"]
    );

    // A filter type of the wrong type: the type error only.
    let mut route = seed("15-");
    set(&mut route, "/spec/rules/0/filters/0/type", json!(7));
    assert_eq!(
        errors(&route),
        ["spec.rules[0].filters[0].type: expected string, got integer 7"]
    );
}

/// The embedded standard HTTPRoute CRD, parsed.
fn standard_httproute_crd() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/crds/gateway-api/standard/gateway.networking.k8s.io_httproutes.yaml");
    parse(&std::fs::read_to_string(path).expect("readable CRD"))
}

#[test]
fn an_unknown_cel_rule_is_an_error() {
    let mut crd = standard_httproute_crd();
    assert_eq!(crd::validate_with_crd(&seed("01-"), &crd), Ok(()));
    let rules = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/rules\
                 /x-kubernetes-validations/0";
    let rule = crd
        .pointer_mut(&format!("{rules}/rule"))
        .expect("the rule on spec.rules");
    let text = rule.as_str().expect("a string").replace("<= 128", "<= 64");
    *rule = json!(text);
    assert_eq!(crd::cel_handling(&text), crd::CelHandling::Unknown);
    assert_eq!(
        crd::validate_with_crd(&seed("01-"), &crd),
        Err(vec![format!("unknown CEL rule at spec.rules: {text}")])
    );

    // So are rule keys this validator does not know, such as fieldPath.
    let mut crd = standard_httproute_crd();
    set(&mut crd, &format!("{rules}/fieldPath"), json!(".rules"));
    let found = crd::validate_with_crd(&seed("01-"), &crd).expect_err("an unsupported key");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "spec.rules: x-kubernetes-validations keys [\"fieldPath\"] are not supported"
        ),
        "{found:?}"
    );

    // A rule without a message gets the API server's message.
    let mut crd = standard_httproute_crd();
    remove(&mut crd, &format!("{rules}/message"));
    let mut route = seed("01-");
    let rule = route.pointer("/spec/rules/0").cloned().expect("a rule");
    let mut many = json!({"matches": vec![json!({}); 64]});
    many["backendRefs"] = rule["backendRefs"].clone();
    set(&mut route, "/spec/rules", json!([many, many, rule]));
    let found = crd::validate_with_crd(&route, &crd).expect_err("129 matches");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.rules: failed rule: (self.size() > 0"),
        "{found:?}"
    );
}

#[test]
fn reference_grant_is_validated() {
    let grant = json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "ReferenceGrant",
        "metadata": {"name": "routes-from-team1", "namespace": "agents"},
        "spec": {
            "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "team1"}],
            "to": [{"group": "", "kind": "Service"}]
        }
    });
    assert_eq!(crd::validate(&grant), Ok(()));
    assert_eq!(
        crd::validate_with_channel(&grant, Channel::Experimental),
        Ok(())
    );
    let mut beta = grant.clone();
    set(
        &mut beta,
        "/apiVersion",
        json!("gateway.networking.k8s.io/v1beta1"),
    );
    assert_eq!(crd::validate(&beta), Ok(()));

    let mut bad = grant.clone();
    remove(&mut bad, "/spec/from/0/namespace");
    set(&mut bad, "/spec/to/0/kind", json!("service!"));
    set(&mut bad, "/spec/to/0/port", json!(8080));
    assert_eq!(
        errors(&bad),
        [
            "spec.from[0].namespace: required field is missing",
            "spec.to[0].kind: \"service!\" does not match pattern \"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$\"",
            "spec.to[0].port: unknown field",
        ]
    );
    let mut empty = grant;
    set(&mut empty, "/spec/to", json!([]));
    assert_eq!(
        errors(&empty),
        ["spec.to: has 0 items, fewer than minItems 1"]
    );
}

// ---------------------------------------------------------------------------------------------------------
// Progressive delivery and monitoring: Flagger `Canary` and `MetricTemplate` (flagger.app/v1beta1), Argo
// Rollouts `Rollout` and `AnalysisTemplate` (argoproj.io/v1alpha1), prometheus-operator `PrometheusRule`
// (monitoring.coreos.com/v1). Every manifest and expected error here was cross-checked by hand with
// `shared/tools/k8s-validate --strict`, which agrees (in the API server's wording) except where a test says
// otherwise.

/// A minimal Flagger Canary: Istio, a Deployment target, a service port and a step-weight analysis.
const CANARY: &str = r#"
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: reviews
  namespace: bookinfo
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: reviews
  service:
    port: 9080
  analysis:
    interval: 1m
    threshold: 5
    stepWeights: [10, 50]
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
      - name: request-duration
        thresholdRange:
          max: 500
        interval: 1m
"#;

/// A Flagger MetricTemplate for Prometheus.
const METRIC_TEMPLATE: &str = r#"
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: error-rate
  namespace: bookinfo
spec:
  provider:
    type: prometheus
    address: http://prometheus.istio-system:9090
  query: |
    100 - sum(rate(istio_requests_total{destination_workload="{{ target }}",response_code!~"5.*"}[{{ interval }}]))
    / sum(rate(istio_requests_total{destination_workload="{{ target }}"}[{{ interval }}])) * 100
"#;

/// An Argo Rollout with a canary strategy routed by Istio, and its pod template.
const ROLLOUT: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: reviews
  namespace: bookinfo
spec:
  replicas: 3
  selector:
    matchLabels:
      app: reviews
  template:
    metadata:
      labels:
        app: reviews
    spec:
      containers:
        - name: reviews
          image: docker.io/istio/examples-bookinfo-reviews-v2:1.20.1
          ports:
            - name: http
              containerPort: 9080
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
  strategy:
    canary:
      canaryService: reviews-canary
      stableService: reviews-stable
      trafficRouting:
        istio:
          virtualService:
            name: reviews
            routes:
              - primary
          destinationRule:
            name: reviews
            canarySubsetName: canary
            stableSubsetName: stable
      steps:
        - setWeight: 10
        - pause:
            duration: 1m
        - analysis:
            templates:
              - templateName: success-rate
"#;

/// An Argo AnalysisTemplate with two Prometheus metrics.
const ANALYSIS_TEMPLATE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
  namespace: bookinfo
spec:
  args:
    - name: service-name
  metrics:
    - name: success-rate
      interval: 1m
      successCondition: "result[0] >= 0.99"
      failureLimit: 3
      provider:
        prometheus:
          address: http://prometheus.istio-system:9090
          query: |
            sum(irate(istio_requests_total{destination_service=~"{{args.service-name}}",response_code!~"5.*"}[1m]))
            / sum(irate(istio_requests_total{destination_service=~"{{args.service-name}}"}[1m]))
    - name: latency-p99
      interval: 1m
      successCondition: "result[0] <= 500"
      failureLimit: 3
      provider:
        prometheus:
          address: http://prometheus.istio-system:9090
          query: |
            histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{destination_service=~"{{args.service-name}}"}[1m])) by (le))
"#;

/// A PrometheusRule with one alerting rule.
const PROMETHEUS_RULE: &str = r#"
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: reviews-canary
  namespace: bookinfo
  labels:
    release: prometheus
spec:
  groups:
    - name: reviews.rules
      rules:
        - alert: ReviewsHighErrorRate
          expr: |
            sum(rate(istio_requests_total{destination_service_name="reviews",response_code=~"5.."}[5m]))
            / sum(rate(istio_requests_total{destination_service_name="reviews"}[5m])) > 0.01
          for: 5m
          labels:
            severity: critical
          annotations:
            summary: More than 1% of the requests to reviews fail
"#;

#[test]
fn progressive_delivery_and_monitoring_kinds_validate() {
    for (name, yaml) in [
        ("Canary", CANARY),
        ("MetricTemplate", METRIC_TEMPLATE),
        ("Rollout", ROLLOUT),
        ("AnalysisTemplate", ANALYSIS_TEMPLATE),
        ("PrometheusRule", PROMETHEUS_RULE),
    ] {
        let manifest = parse(yaml);
        assert_eq!(crd::validate(&manifest), Ok(()), "{name}");
        assert_eq!(
            crd::validate_with_channel(&manifest, Channel::Experimental),
            Ok(()),
            "{name}"
        );
    }
}

#[test]
fn only_the_served_versions_of_the_new_kinds_are_accepted() {
    for (yaml, api_version, expected) in [
        (
            CANARY,
            "flagger.app/v1alpha3",
            "apiVersion: version \"v1alpha3\" of Canary is not served (served: v1beta1)",
        ),
        (
            ROLLOUT,
            "argoproj.io/v1",
            "apiVersion: version \"v1\" of Rollout is not served (served: v1alpha1)",
        ),
        (
            PROMETHEUS_RULE,
            "monitoring.coreos.com/v1alpha1",
            "apiVersion: version \"v1alpha1\" of PrometheusRule is not served (served: v1)",
        ),
    ] {
        let mut manifest = parse(yaml);
        set(&mut manifest, "/apiVersion", json!(api_version));
        assert_eq!(errors(&manifest), [expected]);
    }
}

#[test]
fn canary_mistakes_are_rejected() {
    // Unknown field (a misspelt thresholdRange).
    let mut canary = parse(CANARY);
    let range = canary
        .pointer("/spec/analysis/metrics/0/thresholdRange")
        .cloned()
        .expect("a thresholdRange");
    remove(&mut canary, "/spec/analysis/metrics/0/thresholdRange");
    set(
        &mut canary,
        "/spec/analysis/metrics/0/thresholdrange",
        range,
    );
    assert_eq!(
        errors(&canary),
        ["spec.analysis.metrics[0].thresholdrange: unknown field (did you mean `thresholdRange`?)"]
    );

    // Wrong type: the port is a number.
    let mut canary = parse(CANARY);
    set(&mut canary, "/spec/service/port", json!("9080"));
    assert_eq!(
        errors(&canary),
        ["spec.service.port: expected number, got string \"9080\""]
    );

    // Flagger's interval pattern: minutes or seconds only. It is not anchored at the end.
    for (pointer, bad) in [
        ("/spec/analysis/interval", "1h"),
        ("/spec/analysis/metrics/1/interval", "30 s"),
    ] {
        let mut canary = parse(CANARY);
        set(&mut canary, pointer, json!(bad));
        let path = pointer[1..]
            .replace("/metrics/1/", ".metrics[1].")
            .replace('/', ".");
        assert_eq!(
            errors(&canary),
            [format!(
                "{path}: {bad:?} does not match pattern \"^[0-9]+(m|s)\""
            )]
        );
    }
    let mut canary = parse(CANARY);
    set(&mut canary, "/spec/analysis/interval", json!("90s"));
    set(
        &mut canary,
        "/spec/analysis/metrics/1/interval",
        json!("2m30s"),
    );
    assert_eq!(crd::validate(&canary), Ok(()));

    // Enums.
    let mut canary = parse(CANARY);
    set(&mut canary, "/spec/targetRef/kind", json!("StatefulSet"));
    assert_eq!(
        errors(&canary),
        ["spec.targetRef.kind: unsupported value \"StatefulSet\"; supported values: \"DaemonSet\", \
          \"Deployment\", \"Service\""]
    );
    let mut canary = parse(CANARY);
    set(&mut canary, "/spec/provider", json!("istio-ambient"));
    let found = errors(&canary);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "spec.provider: unsupported value \"istio-ambient\"; supported values: \"apisix\", "
        ),
        "{found:?}"
    );
}

#[test]
fn canary_analysis_needs_exactly_one_progression() {
    // iterations, stepWeight or stepWeights (oneOf).
    let mut canary = parse(CANARY);
    set(&mut canary, "/spec/analysis/stepWeight", json!(10));
    assert_eq!(
        errors(&canary),
        ["spec.analysis: must match exactly one oneOf alternative, matches 2: required [interval, threshold, \
          stepWeight] | required [interval, threshold, stepWeights]"]
    );
    let mut canary = parse(CANARY);
    remove(&mut canary, "/spec/analysis/stepWeights");
    assert_eq!(
        errors(&canary),
        ["spec.analysis: must match exactly one oneOf alternative, matches none of: required [interval, \
          threshold, iterations] | required [interval, threshold, stepWeight] | required [interval, threshold, \
          stepWeights]"]
    );
    set(&mut canary, "/spec/analysis/iterations", json!(10));
    assert_eq!(crd::validate(&canary), Ok(()));
}

#[test]
fn canary_mirror_backend_ref_needs_a_port() {
    // The CEL rule of spec.service.mirror[].backendRef, with the defaults group "" and kind Service.
    let mut canary = parse(CANARY);
    set(
        &mut canary,
        "/spec/service/mirror",
        json!([{"backendRef": {"name": "reviews-shadow"}}]),
    );
    assert_eq!(
        errors(&canary),
        ["spec.service.mirror[0].backendRef: Must have port for Service reference"]
    );
    set(
        &mut canary,
        "/spec/service/mirror/0/backendRef/port",
        json!(9080),
    );
    assert_eq!(crd::validate(&canary), Ok(()));
}

#[test]
fn metric_template_and_alert_provider_mistakes_are_rejected() {
    let mut template = parse(METRIC_TEMPLATE);
    set(
        &mut template,
        "/spec/provider/type",
        json!("victoriametrics"),
    );
    assert_eq!(
        errors(&template),
        ["spec.provider.type: unsupported value \"victoriametrics\"; supported values: \"prometheus\", \
          \"influxdb\", \"datadog\", \"externalmetrics\", \"stackdriver\", \"cloudwatch\", \"newrelic\", \
          \"graphite\", \"dynatrace\", \"keptn\", \"splunk\""]
    );
    let mut template = parse(METRIC_TEMPLATE);
    remove(&mut template, "/spec/query");
    assert_eq!(errors(&template), ["spec.query: required field is missing"]);

    // AlertProvider, the third CRD of Flagger's file: an address or a secretRef (oneOf).
    let provider = json!({
        "apiVersion": "flagger.app/v1beta1",
        "kind": "AlertProvider",
        "metadata": {"name": "on-call", "namespace": "bookinfo"},
        "spec": {"type": "slack", "channel": "on-call", "address": "https://hooks.slack.com/services/x"}
    });
    assert_eq!(crd::validate(&provider), Ok(()));
    let mut both = provider;
    set(&mut both, "/spec/secretRef", json!({"name": "slack-url"}));
    assert_eq!(
        errors(&both),
        ["spec: must match exactly one oneOf alternative, matches 2: required [type, address] | required \
          [type, secretRef]"]
    );
}

#[test]
fn rollout_mistakes_are_rejected() {
    // Unknown field: a misspelt setWeight.
    let mut rollout = parse(ROLLOUT);
    remove(&mut rollout, "/spec/strategy/canary/steps/0/setWeight");
    set(
        &mut rollout,
        "/spec/strategy/canary/steps/0/setWeigth",
        json!(10),
    );
    assert_eq!(
        errors(&rollout),
        ["spec.strategy.canary.steps[0].setWeigth: unknown field (did you mean `setWeight`?)"]
    );

    // Wrong types: setWeight is an integer, a pause duration an integer or a string.
    let mut rollout = parse(ROLLOUT);
    set(
        &mut rollout,
        "/spec/strategy/canary/steps/0/setWeight",
        json!("10%"),
    );
    set(
        &mut rollout,
        "/spec/strategy/canary/steps/1/pause/duration",
        json!(true),
    );
    assert_eq!(
        errors(&rollout),
        [
            "spec.strategy.canary.steps[0].setWeight: expected integer, got string \"10%\"",
            "spec.strategy.canary.steps[1].pause.duration: expected integer or string, got boolean true",
        ]
    );
    let mut rollout = parse(ROLLOUT);
    set(
        &mut rollout,
        "/spec/strategy/canary/steps/1/pause/duration",
        json!(60),
    );
    assert_eq!(crd::validate(&rollout), Ok(()));

    // Missing required field.
    let mut rollout = parse(ROLLOUT);
    remove(
        &mut rollout,
        "/spec/strategy/canary/trafficRouting/istio/destinationRule/stableSubsetName",
    );
    assert_eq!(
        errors(&rollout),
        ["spec.strategy.canary.trafficRouting.istio.destinationRule.stableSubsetName: required field is \
          missing"]
    );
}

#[test]
fn rollout_pod_template_is_checked_against_the_crd() {
    // Container ports are a list map keyed by containerPort and protocol (defaulted to TCP).
    let mut rollout = parse(ROLLOUT);
    set(
        &mut rollout,
        "/spec/template/spec/containers/0/ports",
        json!([{"containerPort": 9080}, {"containerPort": 9080, "protocol": "TCP", "name": "http2"}]),
    );
    assert_eq!(
        errors(&rollout),
        [
            "spec.template.spec.containers[0].ports[1]: duplicate key (containerPort, protocol) = \
          [9080,\"TCP\"], already at spec.template.spec.containers[0].ports[0]"
        ]
    );

    // resources.requests and .limits keep any content (x-kubernetes-preserve-unknown-fields without a
    // type), as in the API server; their neighbours are still checked.
    let mut rollout = parse(ROLLOUT);
    set(
        &mut rollout,
        "/spec/template/spec/containers/0/resources",
        json!({"requests": {"cpu": "lots", "x": [1]}, "limits": 5, "request": {"cpu": "1"}}),
    );
    assert_eq!(
        errors(&rollout),
        ["spec.template.spec.containers[0].resources.request: unknown field (did you mean `requests`?)"]
    );

    // Only the CRD's schema applies, not the native rules of a Deployment's pod template.
    let mut rollout = parse(ROLLOUT);
    set(
        &mut rollout,
        "/spec/template/spec/containers/0/name",
        json!("Reviews_v2"),
    );
    assert_eq!(crd::validate(&rollout), Ok(()));

    // The transition rule of spec.selector (`self == oldSelf`) is not evaluated on create.
    let mut rollout = parse(ROLLOUT);
    set(
        &mut rollout,
        "/spec/selector/matchLabels/app",
        json!("other"),
    );
    set(
        &mut rollout,
        "/spec/template/metadata/labels/app",
        json!("other"),
    );
    assert_eq!(crd::validate(&rollout), Ok(()));
}

#[test]
fn analysis_template_mistakes_are_rejected() {
    // Unknown field: a misspelt address.
    let mut template = parse(ANALYSIS_TEMPLATE);
    remove(&mut template, "/spec/metrics/0/provider/prometheus/address");
    set(
        &mut template,
        "/spec/metrics/0/provider/prometheus/adress",
        json!("http://prometheus.istio-system:9090"),
    );
    assert_eq!(
        errors(&template),
        ["spec.metrics[0].provider.prometheus.adress: unknown field (did you mean `address`?)"]
    );

    // Wrong types: failureLimit is an integer or a string, the Prometheus timeout an integer (seconds).
    let mut template = parse(ANALYSIS_TEMPLATE);
    set(&mut template, "/spec/metrics/0/failureLimit", json!(true));
    set(
        &mut template,
        "/spec/metrics/1/provider/prometheus/timeout",
        json!("30s"),
    );
    assert_eq!(
        errors(&template),
        [
            "spec.metrics[0].failureLimit: expected integer or string, got boolean true",
            "spec.metrics[1].provider.prometheus.timeout: expected integer, got string \"30s\"",
        ]
    );
    let mut template = parse(ANALYSIS_TEMPLATE);
    set(
        &mut template,
        "/spec/metrics/0/failureLimit",
        json!("{{args.limit}}"),
    );
    set(
        &mut template,
        "/spec/metrics/1/provider/prometheus/timeout",
        json!(30),
    );
    assert_eq!(crd::validate(&template), Ok(()));

    // Missing required field.
    let mut template = parse(ANALYSIS_TEMPLATE);
    remove(&mut template, "/spec/metrics/1/provider");
    assert_eq!(
        errors(&template),
        ["spec.metrics[1].provider: required field is missing"]
    );
}

const PROMETHEUS_DURATION: &str =
    "\"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?\
                                   (([0-9]+)ms)?)$\"";

#[test]
fn prometheus_rule_mistakes_are_rejected() {
    // Prometheus durations: units y w d h m s ms, largest first, no spaces.
    let mut rule = parse(PROMETHEUS_RULE);
    set(&mut rule, "/spec/groups/0/rules/0/for", json!("5 minutes"));
    assert_eq!(
        errors(&rule),
        [format!(
            "spec.groups[0].rules[0].for: \"5 minutes\" does not match pattern {PROMETHEUS_DURATION}"
        )]
    );
    for good in ["0", "1h30m", "90s", "500ms", "1w"] {
        set(&mut rule, "/spec/groups/0/rules/0/for", json!(good));
        assert_eq!(crd::validate(&rule), Ok(()), "{good:?}");
    }

    // Unknown field, and a label value of the wrong type.
    let mut rule = parse(PROMETHEUS_RULE);
    set(&mut rule, "/spec/groups/0/rules/0/duration", json!("5m"));
    set(
        &mut rule,
        "/spec/groups/0/rules/0/labels/severity",
        json!(2),
    );
    assert_eq!(
        errors(&rule),
        [
            "spec.groups[0].rules[0].duration: unknown field",
            "spec.groups[0].rules[0].labels[severity]: expected string, got integer 2",
        ]
    );

    // expr is required; group names are unique (a list map keyed by name).
    let mut rule = parse(PROMETHEUS_RULE);
    remove(&mut rule, "/spec/groups/0/rules/0/expr");
    assert_eq!(
        errors(&rule),
        ["spec.groups[0].rules[0].expr: required field is missing"]
    );
    let mut rule = parse(PROMETHEUS_RULE);
    let group = rule.pointer("/spec/groups/0").cloned().expect("a group");
    set(&mut rule, "/spec/groups", json!([group, group]));
    assert_eq!(
        errors(&rule),
        ["spec.groups[1]: duplicate key (name) = [\"reviews.rules\"], already at spec.groups[0]"]
    );
}

// ---------------------------------------------------------------------------------------------------------
// String formats.

#[test]
fn date_time_format_is_checked_like_the_api_server() {
    // kube-openapi's strfmt.IsDateTime: a real date, `T`, seconds, and a zone. k8s-validate is more lenient
    // here: it accepts a space for `T`, no seconds, no zone, and any day up to 31.
    for good in [
        "2026-08-22T10:00:00Z",
        "2026-08-22t10:00:00.5+02:00",
        "2024-02-29T23:59:59-07:00",
    ] {
        let mut rollout = parse(ROLLOUT);
        set(&mut rollout, "/spec/restartAt", json!(good));
        assert_eq!(crd::validate(&rollout), Ok(()), "{good:?}");
    }
    for bad in [
        "2026-08-22 10:00:00Z",
        "2026-08-22T10:00Z",
        "2026-08-22T10:00:00",
        "2026-02-29T10:00:00Z",
        "2026-13-01T10:00:00Z",
        "2026-8-22T10:00:00Z",
        "2026-08-22T24:00:00Z",
        "tomorrow",
    ] {
        let mut rollout = parse(ROLLOUT);
        set(&mut rollout, "/spec/restartAt", json!(bad));
        assert_eq!(
            errors(&rollout),
            [format!(
                "spec.restartAt: {bad:?} is not a date-time (RFC 3339, e.g. \"2026-01-02T15:04:05Z\")"
            )],
            "{bad:?}"
        );
    }
}

#[test]
fn byte_format_is_checked_like_the_api_server() {
    // govalidator's IsBase64: padded standard base64, not empty (k8s-validate accepts "").
    let response = |bytes: &str| {
        json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": "reviews"},
            "spec": {"hosts": ["reviews"], "http": [{"directResponse": {"status": 200, "body": {"bytes": bytes}}}]}
        })
    };
    for good in ["aGVsbG8=", "aGVsbA==", "aGVs", "a+/b"] {
        assert_eq!(crd::validate(&response(good)), Ok(()), "{good:?}");
    }
    for bad in ["hello!", "aGVsbG8", "a GVs", "aGVsbG8-", ""] {
        assert_eq!(
            errors(&response(bad)),
            [format!(
                "spec.http[0].directResponse.body.bytes: {bad:?} is not base64 (format byte)"
            )],
            "{bad:?}"
        );
    }
}

#[test]
fn formats_outside_the_api_servers_registry_are_ignored_and_others_not_supported_are_errors() {
    // A CRD of our own with one string field per format.
    let crd = |format: &str| {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "things.example.com"},
            "spec": {"group": "example.com", "names": {"kind": "Thing"}, "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                    "type": "object", "properties": {"value": {"type": "string", "format": format}}
                }}}}
            }]}
        })
    };
    let thing = |value: &str| {
        json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "a"},
               "spec": {"value": value}})
    };
    for format in [
        "url",
        "string",
        "double",
        "int32",
        "int-or-string",
        "password",
    ] {
        assert_eq!(
            crd::validate_with_crd(&thing("not checked!"), &crd(format)),
            Ok(()),
            "{format}"
        );
    }
    assert_eq!(
        crd::validate_with_crd(&thing("2026-02-28"), &crd("date")),
        Ok(())
    );
    assert_eq!(
        crd::validate_with_crd(&thing("2026-02-30"), &crd("date")),
        Err(vec![
            "spec.value: \"2026-02-30\" is not a date (YYYY-MM-DD)".to_string()
        ])
    );
    // Durations (Linkerd's timeouts) are checked as Go durations.
    for good in ["30s", "1m30s", "1500ms", "0"] {
        assert_eq!(
            crd::validate_with_crd(&thing(good), &crd("duration")),
            Ok(()),
            "{good}"
        );
    }
    for bad in ["30", "1d", "thirty seconds", ""] {
        assert_eq!(
            crd::validate_with_crd(&thing(bad), &crd("duration")),
            Err(vec![format!(
                "spec.value: {bad:?} is not a Go duration (e.g. \"30s\")"
            )]),
            "{bad}"
        );
    }
    for format in ["uri", "hostname", "ipv4", "uuid", "k8s-short-name"] {
        assert_eq!(
            crd::validate_with_crd(&thing("x"), &crd(format)),
            Err(vec![format!(
                "spec.value: cannot check format {format:?}: not supported by this validator"
            )]),
            "{format}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// Built-in kinds: `apps/v1` Deployment and `v1` Service, against Kubernetes' OpenAPI documents in
// `schemas/kubernetes/` and the API server's native rules.

/// A Deployment as `meshc` emits one: probe, resources, env and a named port.
const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: research-agent-v2
  namespace: team1
  labels:
    app: research-agent
    version: v2
spec:
  replicas: 2
  selector:
    matchLabels:
      app: research-agent
      version: v2
  template:
    metadata:
      labels:
        app: research-agent
        version: v2
    spec:
      containers:
      - name: agent
        image: localhost:5000/research-agent:v0.0.16
        ports:
        - containerPort: 8000
          name: http
        env:
        - name: LOG_LEVEL
          value: info
        - name: MODEL
          value: llama3
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8000
          initialDelaySeconds: 5
          periodSeconds: 10
        resources:
          requests:
            cpu: 250m
            memory: 256Mi
          limits:
            cpu: "500m"
            memory: "512Mi"
"#;

/// A Service in front of it.
const SERVICE: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: research-agent
  namespace: team1
spec:
  selector:
    app: research-agent
  ports:
  - name: http
    port: 8080
    targetPort: 8000
"#;

fn deployment() -> Value {
    parse(DEPLOYMENT)
}

fn service() -> Value {
    parse(SERVICE)
}

const CONTAINER: &str = "/spec/template/spec/containers/0";

#[test]
fn seed_deployment_validates() {
    assert_eq!(crd::validate(&seed("09-")), Ok(()));
    assert_eq!(
        crd::validate_with_channel(&seed("09-"), Channel::Experimental),
        Ok(())
    );
}

#[test]
fn deployment_with_probe_resources_env_and_ports_validates() {
    assert_eq!(crd::validate(&deployment()), Ok(()));

    // Named probe port, numeric quantities, matchExpressions, status (ignored), more fields.
    let mut manifest = deployment();
    set(
        &mut manifest,
        &format!("{CONTAINER}/readinessProbe/httpGet/port"),
        json!("http"),
    );
    set(
        &mut manifest,
        &format!("{CONTAINER}/livenessProbe"),
        json!({"tcpSocket": {"port": 8000}, "failureThreshold": 3, "timeoutSeconds": 1}),
    );
    set(
        &mut manifest,
        &format!("{CONTAINER}/resources/limits"),
        json!({"cpu": 0.5, "memory": "1Gi", "ephemeral-storage": "2e9"}),
    );
    set(
        &mut manifest,
        &format!("{CONTAINER}/imagePullPolicy"),
        json!("IfNotPresent"),
    );
    set(
        &mut manifest,
        "/spec/selector/matchExpressions",
        json!([{"key": "version", "operator": "In", "values": ["v1", "v2"]},
               {"key": "canary", "operator": "DoesNotExist"}]),
    );
    set(
        &mut manifest,
        "/spec/strategy",
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}),
    );
    set(&mut manifest, "/status", json!({"replicas": "anything"}));
    assert_eq!(crd::validate(&manifest), Ok(()));
}

#[test]
fn service_validates_with_or_without_selector() {
    assert_eq!(crd::validate(&service()), Ok(()));
    let mut manifest = service();
    remove(&mut manifest, "/spec/selector");
    assert_eq!(crd::validate(&manifest), Ok(()));

    // Several ports (named), a named targetPort, a type; a headless Service needs no ports.
    let mut manifest = service();
    set(
        &mut manifest,
        "/spec/ports",
        json!([{"name": "http", "port": 80, "targetPort": "http"},
               {"name": "grpc", "port": 9090, "targetPort": 9090, "protocol": "TCP"}]),
    );
    set(&mut manifest, "/spec/type", json!("ClusterIP"));
    assert_eq!(crd::validate(&manifest), Ok(()));
    let mut headless = service();
    remove(&mut headless, "/spec/ports");
    set(&mut headless, "/spec/clusterIP", json!("None"));
    assert_eq!(crd::validate(&headless), Ok(()));
}

#[test]
fn unknown_field_in_a_container_is_rejected() {
    let mut manifest = deployment();
    set(
        &mut manifest,
        &format!("{CONTAINER}/imagePulPolicy"),
        json!("Always"),
    );
    assert_eq!(
        errors(&manifest),
        ["spec.template.spec.containers[0].imagePulPolicy: unknown field (did you mean `imagePullPolicy`?)"]
    );
    let mut manifest = service();
    set(&mut manifest, "/spec/ports/0/containerPort", json!(8000));
    set(&mut manifest, "/spec/selectors", json!({}));
    assert_eq!(
        errors(&manifest),
        [
            "spec.ports[0].containerPort: unknown field",
            "spec.selectors: unknown field (did you mean `selector`?)"
        ]
    );
}

#[test]
fn replicas_as_a_string_is_rejected() {
    let mut manifest = deployment();
    set(&mut manifest, "/spec/replicas", json!("1"));
    assert_eq!(
        errors(&manifest),
        ["spec.replicas: expected integer, got string \"1\""]
    );
    set(&mut manifest, "/spec/replicas", json!(3_000_000_000_u64));
    assert_eq!(
        errors(&manifest),
        ["spec.replicas: 3000000000 is out of range for format int32"]
    );
    set(&mut manifest, "/spec/replicas", json!(-1));
    assert_eq!(errors(&manifest), ["spec.replicas: -1 must be at least 0"]);
}

#[test]
fn selector_must_match_the_template_labels() {
    let mut manifest = deployment();
    set(
        &mut manifest,
        "/spec/template/metadata/labels",
        json!({"app": "research-agent", "version": "v1"}),
    );
    assert_eq!(
        errors(&manifest),
        [
            "spec.template.metadata.labels: selector does not match template labels: \
          spec.selector.matchLabels[version] = \"v2\", the template has version = \"v1\""
        ]
    );
    remove(&mut manifest, "/spec/template/metadata/labels");
    assert_eq!(
        errors(&manifest),
        [
            "spec.template.metadata.labels: selector does not match template labels: \
             spec.selector.matchLabels[app] = \"research-agent\", the template has no label app",
            "spec.template.metadata.labels: selector does not match template labels: \
             spec.selector.matchLabels[version] = \"v2\", the template has no label version",
        ]
    );

    // Extra template labels are fine; matchExpressions count too.
    let mut manifest = deployment();
    set(
        &mut manifest,
        "/spec/template/metadata/labels/tier",
        json!("agents"),
    );
    assert_eq!(crd::validate(&manifest), Ok(()));
    set(
        &mut manifest,
        "/spec/selector/matchExpressions",
        json!([{"key": "tier", "operator": "NotIn", "values": ["agents"]}]),
    );
    assert_eq!(
        errors(&manifest),
        ["spec.template.metadata.labels: selector does not match template labels: \
          spec.selector.matchExpressions[0] (tier NotIn [\"agents\"]) does not hold, the template has \
          tier = \"agents\""]
    );

    // An empty selector, or a malformed one, is an error of its own (and is not matched).
    let mut manifest = deployment();
    set(&mut manifest, "/spec/selector", json!({}));
    assert_eq!(
        errors(&manifest),
        ["spec.selector: empty selector is invalid for deployment (set matchLabels or matchExpressions)"]
    );
    set(
        &mut manifest,
        "/spec/selector",
        json!({"matchExpressions": [{"key": "version", "operator": "Is", "values": ["v2"]},
                                     {"key": "app", "operator": "In"}]}),
    );
    assert_eq!(
        errors(&manifest),
        [
            "spec.selector.matchExpressions[0].operator: unsupported value \"Is\"; supported values: \
             \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
            "spec.selector.matchExpressions[1].values: must be specified when operator is In or NotIn",
        ]
    );
}

#[test]
fn missing_selector_is_rejected() {
    let mut manifest = deployment();
    remove(&mut manifest, "/spec/selector");
    assert_eq!(
        errors(&manifest),
        ["spec.selector: required field is missing"]
    );

    // A Deployment without spec (or template) has the zero value, and misses both.
    let mut manifest = deployment();
    remove(&mut manifest, "/spec");
    assert_eq!(
        errors(&manifest),
        [
            "spec.selector: required field is missing",
            "spec.template: required field is missing"
        ]
    );
}

#[test]
fn bad_quantity_is_rejected() {
    let mut manifest = deployment();
    set(
        &mut manifest,
        &format!("{CONTAINER}/resources/limits/memory"),
        json!("5 GB"),
    );
    assert_eq!(
        errors(&manifest),
        ["spec.template.spec.containers[0].resources.limits[memory]: \"5 GB\" is not a valid quantity: \
          quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"]
    );

    let path = "spec.template.spec.containers[0].resources.requests[cpu]";
    let format = "quantities must match the regular expression \
                  '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
    let suffix = "unable to parse quantity's suffix";
    for (bad, why) in [
        ("1gb", format),
        ("1KB", format),
        ("", format),
        ("1.2.3", format),
        // Stricter than the API server, whose scanner reads a quantity without digits as 0.
        ("m", format),
        ("1K", suffix),
        ("1Mi5", suffix),
        ("2e", suffix),
        ("1mi", suffix),
    ] {
        let mut manifest = deployment();
        set(
            &mut manifest,
            &format!("{CONTAINER}/resources/requests/cpu"),
            json!(bad),
        );
        assert_eq!(
            errors(&manifest),
            [format!("{path}: {bad:?} is not a valid quantity: {why}")],
            "{bad:?}"
        );
    }
    for good in [
        "0", "1", "0.5", ".5", "100m", "1500m", "1.5", "2Gi", "512Mi", "1e3", "1E-3", "+1", "-1",
        "1k", "1M", "3Ti", "5Ei", "10u", "7n",
    ] {
        let mut manifest = deployment();
        set(
            &mut manifest,
            &format!("{CONTAINER}/resources/requests/cpu"),
            json!(good),
        );
        assert_eq!(crd::validate(&manifest), Ok(()), "{good:?}");
    }
    let mut manifest = deployment();
    set(
        &mut manifest,
        &format!("{CONTAINER}/resources/requests/cpu"),
        json!(true),
    );
    assert_eq!(
        errors(&manifest),
        [format!(
            "{path}: expected quantity (string or number), got boolean true"
        )]
    );
}

#[test]
fn container_name_must_be_a_dns_label() {
    let mut manifest = deployment();
    set(
        &mut manifest,
        &format!("{CONTAINER}/name"),
        json!("Agent_1"),
    );
    assert_eq!(
        errors(&manifest),
        ["spec.template.spec.containers[0].name: \"Agent_1\" is not a DNS-1123 label (lower-case \
          alphanumerics and '-', at most 63 characters)"]
    );

    // Unique across containers and init containers.
    let mut manifest = deployment();
    let container = manifest.pointer(CONTAINER).cloned().expect("a container");
    set(
        &mut manifest,
        "/spec/template/spec/initContainers",
        json!([{"name": "agent", "image": "busybox"}]),
    );
    let containers = manifest
        .pointer_mut("/spec/template/spec/containers")
        .expect("containers");
    *containers = json!([container.clone(), container]);
    assert_eq!(
        errors(&manifest),
        [
            "spec.template.spec.containers[1]: duplicate key (name) = [\"agent\"], already at \
             spec.template.spec.containers[0]",
            "spec.template.spec.initContainers[0].name: duplicate container name \"agent\", already used at \
             spec.template.spec.containers[0]",
        ]
    );
}

#[test]
fn port_out_of_range_is_rejected() {
    let message = "is not a valid port number (must be between 1 and 65535, inclusive)";
    let mut manifest = deployment();
    set(
        &mut manifest,
        &format!("{CONTAINER}/ports/0/containerPort"),
        json!(70000),
    );
    assert_eq!(
        errors(&manifest),
        [format!(
            "spec.template.spec.containers[0].ports[0].containerPort: 70000 {message}"
        )]
    );
    let mut manifest = service();
    set(&mut manifest, "/spec/ports/0/port", json!(70000));
    set(&mut manifest, "/spec/ports/0/targetPort", json!(0)); // 0: defaulted to port
    assert_eq!(
        errors(&manifest),
        [format!("spec.ports[0].port: 70000 {message}")]
    );
    set(&mut manifest, "/spec/ports/0/port", json!(0));
    set(&mut manifest, "/spec/ports/0/targetPort", json!(65536));
    assert_eq!(
        errors(&manifest),
        [
            format!("spec.ports[0].port: 0 {message}"),
            format!("spec.ports[0].targetPort: 65536 {message}"),
        ]
    );

    // Probe ports, host ports, and port names (IANA service names).
    let mut manifest = deployment();
    set(
        &mut manifest,
        &format!("{CONTAINER}/readinessProbe/httpGet/port"),
        json!(0),
    );
    set(
        &mut manifest,
        &format!("{CONTAINER}/ports/0/hostPort"),
        json!(-1),
    );
    set(
        &mut manifest,
        &format!("{CONTAINER}/ports/0/name"),
        json!("http_api"),
    );
    let name_message =
        "is not a valid port name (an IANA service name: at most 15 characters, lower-case \
                        alphanumerics and '-', at least one letter, no '--', no '-' at either end)";
    assert_eq!(
        errors(&manifest),
        [
            format!("spec.template.spec.containers[0].ports[0].hostPort: -1 {message}"),
            format!("spec.template.spec.containers[0].ports[0].name: \"http_api\" {name_message}"),
            format!("spec.template.spec.containers[0].readinessProbe.httpGet.port: 0 {message}"),
        ]
    );
    for name in ["8080", "a-very-long-port-name", "-http", "h--p", "HTTP"] {
        let mut manifest = service();
        set(&mut manifest, "/spec/ports/0/targetPort", json!(name));
        assert_eq!(
            errors(&manifest),
            [format!("spec.ports[0].targetPort: {name:?} {name_message}")],
            "{name:?}"
        );
    }
}

#[test]
fn missing_containers_are_rejected() {
    let mut manifest = deployment();
    remove(&mut manifest, "/spec/template/spec/containers");
    assert_eq!(
        errors(&manifest),
        ["spec.template.spec.containers: required field is missing"]
    );
    set(&mut manifest, "/spec/template/spec/containers", json!([]));
    assert_eq!(
        errors(&manifest),
        ["spec.template.spec.containers: must list at least one container"]
    );
    // A template without spec has the zero PodSpec.
    remove(&mut manifest, "/spec/template/spec");
    assert_eq!(
        errors(&manifest),
        ["spec.template.spec.containers: required field is missing"]
    );
    let mut manifest = deployment();
    remove(&mut manifest, &format!("{CONTAINER}/image"));
    remove(&mut manifest, &format!("{CONTAINER}/name"));
    assert_eq!(
        errors(&manifest),
        [
            "spec.template.spec.containers[0].image: required field is missing",
            "spec.template.spec.containers[0].name: required field is missing",
        ]
    );
}

#[test]
fn native_enums_are_checked() {
    let mut manifest = deployment();
    set(
        &mut manifest,
        &format!("{CONTAINER}/ports/0/protocol"),
        json!("tcp"),
    );
    set(
        &mut manifest,
        &format!("{CONTAINER}/imagePullPolicy"),
        json!("IfAbsent"),
    );
    set(
        &mut manifest,
        "/spec/template/spec/restartPolicy",
        json!("Never"),
    );
    assert_eq!(
        errors(&manifest),
        [
            "spec.template.spec.containers[0].imagePullPolicy: unsupported value \"IfAbsent\"; supported \
             values: \"Always\", \"Never\", \"IfNotPresent\"",
            "spec.template.spec.containers[0].ports[0].protocol: unsupported value \"tcp\"; supported \
             values: \"TCP\", \"UDP\", \"SCTP\"",
            "spec.template.spec.restartPolicy: unsupported value \"Never\" for a Deployment; supported \
             values: \"Always\"",
        ]
    );
    let mut manifest = service();
    set(&mut manifest, "/spec/type", json!("Internal"));
    assert_eq!(
        errors(&manifest),
        ["spec.type: unsupported value \"Internal\"; supported values: \"ClusterIP\", \"NodePort\", \
          \"LoadBalancer\", \"ExternalName\""]
    );
}

#[test]
fn service_ports_are_checked() {
    let mut manifest = service();
    remove(&mut manifest, "/spec/ports");
    assert_eq!(
        errors(&manifest),
        ["spec.ports: must list at least one port (unless clusterIP is None or type is ExternalName)"]
    );
    set(&mut manifest, "/spec/type", json!("ExternalName"));
    set(
        &mut manifest,
        "/spec/externalName",
        json!("agents.example.com"),
    );
    assert_eq!(crd::validate(&manifest), Ok(()));

    let mut manifest = service();
    set(
        &mut manifest,
        "/spec/ports",
        json!([{"name": "http", "port": 80}, {"port": 81}, {"name": "http", "port": 82},
               {"name": "Web", "port": 83}, {"name": "grpc", "port": 80}]),
    );
    assert_eq!(
        errors(&manifest),
        [
            "spec.ports[1].name: required when the Service has more than one port",
            "spec.ports[2].name: duplicate port name \"http\", already at spec.ports[0]",
            "spec.ports[3].name: \"Web\" is not a DNS-1123 label (lower-case alphanumerics and '-', at most \
             63 characters)",
            // protocol defaults to TCP: same (port, protocol) key.
            "spec.ports[4]: duplicate key (port, protocol) = [80,\"TCP\"], already at spec.ports[0]",
        ]
    );
    let mut manifest = service();
    set(
        &mut manifest,
        "/spec/selector",
        json!({"app": "research agent", "x/": "a"}),
    );
    assert_eq!(
        errors(&manifest),
        [
            "spec.selector[app]: \"research agent\" is not a valid label value",
            "spec.selector[x/]: key is not a qualified name ([prefix/]name)",
        ]
    );
}

#[test]
fn probes_are_checked() {
    let mut manifest = deployment();
    let probe = format!("{CONTAINER}/readinessProbe");
    set(
        &mut manifest,
        &format!("{probe}/tcpSocket"),
        json!({"port": "http"}),
    );
    set(&mut manifest, &format!("{probe}/periodSeconds"), json!(-10));
    assert_eq!(
        errors(&manifest),
        [
            "spec.template.spec.containers[0].readinessProbe.periodSeconds: -10 must be at least 0",
            "spec.template.spec.containers[0].readinessProbe: may not specify more than 1 handler type \
             (found httpGet, tcpSocket)",
        ]
    );
    let mut manifest = deployment();
    remove(&mut manifest, &format!("{probe}/httpGet"));
    assert_eq!(
        errors(&manifest),
        ["spec.template.spec.containers[0].readinessProbe: must specify a handler type (exec, grpc, \
          httpGet or tcpSocket)"]
    );
    let mut manifest = deployment();
    set(&mut manifest, &format!("{probe}/httpGet/port"), json!(80.5));
    remove(&mut manifest, &format!("{probe}/httpGet/path"));
    set(
        &mut manifest,
        &format!("{probe}/httpGet/scheme"),
        json!("https"),
    );
    assert_eq!(
        errors(&manifest),
        [
            "spec.template.spec.containers[0].readinessProbe.httpGet.port: expected integer or string, got \
             number 80.5",
            "spec.template.spec.containers[0].readinessProbe.httpGet.scheme: unsupported value \"https\"; \
             supported values: \"HTTP\", \"HTTPS\"",
        ]
    );
}

#[test]
fn pod_template_metadata_is_checked() {
    let mut manifest = deployment();
    set(
        &mut manifest,
        "/spec/template/metadata/labels/bad key!",
        json!("x"),
    );
    set(
        &mut manifest,
        "/spec/template/metadata/annotations",
        json!({"meshc.dev/source": 3}),
    );
    set(
        &mut manifest,
        "/spec/template/metadata/nickname",
        json!("ra"),
    );
    assert_eq!(
        errors(&manifest),
        [
            "spec.template.metadata.annotations[meshc.dev/source]: expected string, got integer 3",
            "spec.template.metadata.labels[bad key!]: key is not a qualified name ([prefix/]name)",
            "spec.template.metadata.nickname: unknown field",
        ]
    );
}

#[test]
fn other_versions_of_the_built_in_kinds_are_not_served() {
    let mut manifest = deployment();
    set(&mut manifest, "/apiVersion", json!("apps/v1beta2"));
    assert_eq!(
        errors(&manifest),
        ["apiVersion: version \"v1beta2\" of Deployment is not served (served: v1)"]
    );
    let mut manifest = service();
    set(&mut manifest, "/apiVersion", json!("core/v1"));
    let found = errors(&manifest);
    assert!(
        found[0].starts_with("apiVersion: no embedded CRD or built-in schema for kind \"Service\""),
        "{found:?}"
    );
}

#[test]
fn built_in_garbage_never_panics() {
    let garbage = [
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}, "spec": []}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
               "spec": {"selector": {"matchLabels": [], "matchExpressions": {}}, "template": null}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
               "spec": {"selector": {"matchExpressions": [null, 1, {"operator": 3, "values": "x"}]},
                        "template": {"metadata": [], "spec": {"containers": [null, 1, {"ports": [null, {"name": 1}],
                        "readinessProbe": {"httpGet": [], "grpc": {"port": "x"}}}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"},
               "spec": {"ports": [null, {"name": 1, "port": "80", "targetPort": []}], "selector": "app"}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": null}),
    ];
    for manifest in &garbage {
        let found = errors(manifest);
        assert!(!found.is_empty(), "{manifest}");
    }
}

/// The embedded OpenAPI document `schemas/kubernetes/<file>`, parsed.
fn openapi_document(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/kubernetes")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable document"))
        .expect("valid JSON")
}

/// The keywords used anywhere in `schema` (not inside `default`s or `enum`s).
fn keywords(schema: &Value, found: &mut std::collections::BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                found.insert(key.clone());
                match key.as_str() {
                    "default" | "enum" | "x-kubernetes-group-version-kind" => {}
                    "properties" => value
                        .as_object()
                        .into_iter()
                        .flatten()
                        .for_each(|(_, p)| keywords(p, found)),
                    _ => keywords(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keywords(item, found)),
        _ => {}
    }
}

#[test]
fn openapi_refs_are_resolved_with_a_recursion_guard() {
    for (file, name) in [
        (
            "apis__apps__v1_openapi.json",
            "io.k8s.api.apps.v1.Deployment",
        ),
        ("api__v1_openapi.json", "io.k8s.api.core.v1.Service"),
    ] {
        let resolved = crd::resolve_openapi_schema(&openapi_document(file), name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut found = std::collections::BTreeSet::new();
        keywords(&resolved, &mut found);
        for gone in ["$ref", "allOf", "oneOf", "description"] {
            assert!(!found.contains(gone), "{name}: {gone} left in {found:?}");
        }
        assert!(found.contains("x-meshc-object-meta"), "{name}: {found:?}");
    }

    let cyclic = json!({"components": {"schemas": {
        "A": {"type": "object", "properties": {"b": {"allOf": [{"$ref": "#/components/schemas/B"}]}}},
        "B": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/A"}}}},
    }}});
    assert_eq!(
        crd::resolve_openapi_schema(&cyclic, "A"),
        Err("$ref cycle: A -> B -> A".to_string())
    );
    let dangling = json!({"components": {"schemas": {"A": {"$ref": "#/components/schemas/C"}}}});
    assert_eq!(
        crd::resolve_openapi_schema(&dangling, "A"),
        Err("$ref to \"C\", which the document does not define".to_string())
    );
}

#[test]
fn linkerd_httproutes_are_checked_against_linkerds_crd() {
    let route = |rule: serde_json::Value| {
        json!({"apiVersion": "policy.linkerd.io/v1beta3", "kind": "HTTPRoute",
               "metadata": {"name": "web", "namespace": "team1"},
               "spec": {"parentRefs": [{"group": "core", "kind": "Service", "name": "web"}],
                        "rules": [rule]}})
    };
    let backend = json!([{"name": "web", "port": 8080}]);
    let ok = route(json!({"backendRefs": backend, "timeouts": {"request": "1m30s"}}));
    assert_eq!(crd::validate(&ok), Ok(()));
    // At most 8 alternatives per rule.
    let nine: Vec<_> = (0..9)
        .map(|i| json!({"path": {"type": "PathPrefix", "value": format!("/{i}")}}))
        .collect();
    let too_many = route(json!({"matches": nine, "backendRefs": backend}));
    assert!(crd::validate(&too_many).is_err());
    // Redirects with 301 or 302 only; timeouts are durations; no `retry` field.
    let redirect = route(json!({"filters": [{"type": "RequestRedirect",
        "requestRedirect": {"statusCode": 308}}]}));
    assert!(crd::validate(&redirect).is_err());
    let bad_timeout = route(json!({"backendRefs": backend, "timeouts": {"request": "soon"}}));
    assert_eq!(
        errors(&bad_timeout),
        ["spec.rules[0].timeouts.request: \"soon\" is not a Go duration (e.g. \"30s\")"]
    );
    let retry = route(json!({"backendRefs": backend, "retry": {"attempts": 2}}));
    assert_eq!(errors(&retry), ["spec.rules[0].retry: unknown field"]);
}
