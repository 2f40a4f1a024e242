//! Tests of the CRD schema validator in `support/crd.rs`: the guide's reference manifests in
//! `tests/data/seed/` are accepted, and each kind of mistake is rejected with a message naming its path.

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
        if name.starts_with("09-") {
            continue; // A Deployment: no CRD (see the next test).
        }
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
    assert_eq!(checked.len(), 23, "seed files checked: {checked:?}");
}

#[test]
fn a_kind_without_an_embedded_crd_is_an_error() {
    assert_eq!(
        errors(&seed("09-")),
        ["apiVersion: no embedded CRD for kind \"Deployment\" in apiVersion \"apps/v1\" (known: \
          networking.istio.io VirtualService and DestinationRule, gateway.networking.k8s.io HTTPRoute and \
          ReferenceGrant)"]
    );
    let mut manifest = seed("05-");
    set(&mut manifest, "/kind", json!("VirtualServic"));
    assert_eq!(errors(&manifest).len(), 1);
    assert!(errors(&manifest)[0].contains("no embedded CRD for kind \"VirtualServic\""));
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
        ["spec.http[0].retries.attemps: unknown field"]
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
        ["spec.http[0].match[0].headers[x-user-type].exakt: unknown field"]
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
    ];
    for manifest in &garbage {
        let found = errors(manifest);
        assert!(!found.is_empty(), "{manifest}");
    }
}
