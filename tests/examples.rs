//! Every example compiles; its output is snapshotted, valid against the upstream CRDs, reads
//! back as written, and is the same on every run.

mod support;

use meshc::target::{Channel, LinkerdFlavour, Options, Target};
use support::{crd, mesh};

/// The Gateway API target with each channel.
const GATEWAY_API: [(Options, &str); 2] = [
    (
        Options {
            target: Target::GatewayApi,
            channel: Channel::Standard,
            linkerd: LinkerdFlavour::HttpRoute,
            step: None,
        },
        "gateway-api",
    ),
    (
        Options {
            target: Target::GatewayApi,
            channel: Channel::Experimental,
            linkerd: LinkerdFlavour::HttpRoute,
            step: None,
        },
        "gateway-api-experimental",
    ),
];

/// The examples written for the targets that roll canaries out: (target, flag, examples, the
/// kinds they must emit, the kinds the tool writes itself and meshc must not).
type RolloutTarget = (
    Target,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const ROLLOUT_TARGETS: [RolloutTarget; 2] = [
    (
        Target::Flagger,
        "flagger",
        &["examples/flagger-canary.mesh"],
        &["Canary", "Deployment", "PrometheusRule"],
        &["VirtualService", "DestinationRule", "Service"],
    ),
    (
        Target::ArgoRollouts,
        "argo-rollouts",
        &["examples/argo-rollout.mesh"],
        &[
            "Rollout",
            "AnalysisTemplate",
            "VirtualService",
            "DestinationRule",
            "Service",
            "PrometheusRule",
        ],
        &["Deployment"],
    ),
];

/// The examples written to compile for every target.
const PORTABLE: [&str; 1] = ["examples/portable-routes.mesh"];

/// `--target linkerd`.
const LINKERD: Options = Options {
    target: Target::Linkerd,
    channel: Channel::Standard,
    linkerd: LinkerdFlavour::HttpRoute,
    step: None,
};

/// `--target linkerd --linkerd-flavour service-profile`.
const LINKERD_PROFILE: Options = Options {
    linkerd: LinkerdFlavour::ServiceProfile,
    ..LINKERD
};

/// `--target consul`.
const CONSUL: Options = Options {
    target: Target::Consul,
    ..LINKERD
};

/// `--target resilience4j`.
const RESILIENCE4J: Options = Options {
    target: Target::Resilience4j,
    ..LINKERD
};

/// Compiles a repository file for `options` (with its project's mesh.toml otherwise).
fn compile(path: &str, options: Options) -> (meshc::SourceMap, meshc::Compilation) {
    mesh::compile_file_with(path, Some(options))
}

/// Checks every manifest of a compilation against its CRD (of `channel` for HTTPRoutes).
fn validate_all(path: &str, compilation: &meshc::Compilation, channel: Channel) -> usize {
    let channel = match channel {
        Channel::Standard => crd::Channel::Standard,
        Channel::Experimental => crd::Channel::Experimental,
    };
    let manifests = mesh::manifests_as_data(compilation);
    for manifest in &manifests {
        // Spring Boot properties, not a Kubernetes object: no CRD.
        if manifest.get("resilience4j").is_some() {
            resilience4j_properties(path, manifest);
            continue;
        }
        if manifest["kind"] == "ServiceProfile" {
            for route in manifest["spec"]["routes"].as_array().expect("routes") {
                one_condition(path, &route["condition"]);
            }
        }
        consul_rules(path, manifest);
        if let Err(errors) = crd::validate_with_channel(manifest, channel) {
            panic!(
                "{path}: {} is invalid:\n{}",
                manifest["metadata"]["name"],
                errors.join("\n")
            );
        }
    }
    manifests.len()
}

/// A ServiceProfile request match holds exactly one of `pathRegex`, `method`, `all`, `any`
/// (Linkerd's rule; its CRD does not check it, since `all` and `any` hold unchecked objects),
/// and so does each match inside `all` and `any`.
fn one_condition(path: &str, condition: &serde_json::Value) {
    let fields = condition.as_object().expect("a condition is a mapping");
    let keys: Vec<&String> = fields.keys().collect();
    assert!(
        keys.len() == 1 && ["pathRegex", "method", "all", "any"].contains(&keys[0].as_str()),
        "{path}: condition {condition} does not hold exactly one match"
    );
    if let Some(list) = fields.get("all").or(fields.get("any")) {
        let list = list.as_array().expect("a list of matches");
        assert!(list.len() >= 2, "{path}: {condition} lists fewer than two");
        for inner in list {
            one_condition(path, inner);
        }
    }
}

/// The rules Consul's server applies to config entries and its CRDs do not hold (they have no
/// enums, patterns or bounds), for the entries meshc writes.
fn consul_rules(path: &str, manifest: &serde_json::Value) {
    const RETRY_ON: [&str; 12] = [
        "5xx",
        "gateway-error",
        "reset",
        "connect-failure",
        "envoy-ratelimited",
        "retriable-4xx",
        "refused-stream",
        "cancelled",
        "deadline-exceeded",
        "internal",
        "resource-exhausted",
        "unavailable",
    ];
    let name = &manifest["metadata"]["name"];
    let spec = &manifest["spec"];
    let list = |value: &serde_json::Value| value.as_array().cloned().unwrap_or_default();
    match manifest["kind"].as_str() {
        Some("ServiceRouter") => {
            for route in list(&spec["routes"]) {
                let http = &route["match"]["http"];
                for key in ["pathExact", "pathPrefix"] {
                    if let Some(p) = http[key].as_str() {
                        assert!(p.starts_with('/'), "{path}: {name}: {key} {p:?}");
                    }
                }
                for matcher in list(&http["header"])
                    .iter()
                    .chain(&list(&http["queryParam"]))
                {
                    let set: Vec<&str> = ["exact", "prefix", "suffix", "regex", "present"]
                        .into_iter()
                        .filter(|k| !matcher[*k].is_null())
                        .collect();
                    assert_eq!(set.len(), 1, "{path}: {name}: matcher {matcher}");
                    assert_ne!(matcher[set[0]], "", "{path}: {name}: empty {matcher}");
                }
                let methods: Vec<String> = list(&http["methods"])
                    .iter()
                    .map(|m| m.to_string())
                    .collect();
                let mut unique = methods.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(
                    unique.len(),
                    methods.len(),
                    "{path}: {name}: methods {methods:?}"
                );
                let destination = &route["destination"];
                if !destination["prefixRewrite"].is_null() {
                    assert!(
                        !http["pathPrefix"].is_null() || !http["pathExact"].is_null(),
                        "{path}: {name}: prefixRewrite without a path match"
                    );
                }
                for condition in list(&destination["retryOn"]) {
                    let condition = condition.as_str().unwrap_or_default();
                    assert!(
                        RETRY_ON.contains(&condition),
                        "{path}: {name}: retryOn {condition}"
                    );
                }
            }
        }
        Some("ServiceSplitter") => {
            let splits = list(&spec["splits"]);
            let total: f64 = splits.iter().map(|s| s["weight"].as_f64().unwrap()).sum();
            assert!(
                (total - 100.0).abs() < 1e-9,
                "{path}: {name}: weights total {total}"
            );
            let targets: Vec<String> = splits
                .iter()
                .map(|s| format!("{}/{}/{}", s["service"], s["serviceSubset"], s["namespace"]))
                .collect();
            let mut unique = targets.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), targets.len(), "{path}: {name}: {targets:?}");
        }
        Some("ServiceResolver") => {
            let subsets = spec["subsets"].as_object().cloned().unwrap_or_default();
            for (subset, body) in subsets {
                let dns = subset
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                assert!(dns, "{path}: {name}: subset {subset}");
                let filter = body["filter"].as_str().unwrap_or_default();
                for condition in filter.split(" and ") {
                    let key = condition
                        .strip_prefix("Service.Meta.")
                        .and_then(|rest| rest.split_once(" == "))
                        .map(|(key, _)| key)
                        .unwrap_or_default();
                    let ident = key.starts_with(|c: char| c.is_ascii_alphabetic())
                        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    assert!(ident, "{path}: {name}: filter {filter:?}");
                }
            }
        }
        _ => {}
    }
}

/// What Resilience4j's Spring Boot binding accepts of the properties meshc writes (its modules,
/// their instances' property names, and their values' ranges and formats), as the
/// properties' table in the reference data gives them (`RetryConfigurationProperties` and the
/// others of resilience4j-spring-boot3).
fn resilience4j_properties(path: &str, manifest: &serde_json::Value) {
    // Spring's simple duration format: a whole number and one unit.
    let duration = |value: &serde_json::Value| {
        let text = value.as_str().unwrap_or_default();
        let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &text[digits.len()..];
        !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
            && ["ns", "us", "ms", "s", "m", "h", "d"].contains(&unit)
    };
    let count = |value: &serde_json::Value, min: u64, max: u64| {
        value.as_u64().is_some_and(|n| (min..=max).contains(&n))
    };
    let root = manifest.as_object().expect("a mapping");
    assert_eq!(root.len(), 1, "{path}: only `resilience4j` at the top");
    let modules = manifest["resilience4j"].as_object().expect("modules");
    assert!(!modules.is_empty(), "{path}: an empty `resilience4j`");
    for (module, body) in modules {
        let body = body.as_object().expect("a module is a mapping");
        assert_eq!(
            body.keys().collect::<Vec<_>>(),
            ["instances"],
            "{path}: {module}"
        );
        let instances = body["instances"].as_object().expect("instances");
        assert!(!instances.is_empty(), "{path}: {module} without instances");
        for (name, properties) in instances {
            let what = format!("{path}: {module}.instances.{name}");
            // A dotted name must be bracketed, or Spring nests it.
            assert!(
                !name.contains('.') || (name.starts_with('[') && name.ends_with(']')),
                "{what}"
            );
            for (key, value) in properties.as_object().expect("properties") {
                let valid = match (module.as_str(), key.as_str()) {
                    ("retry", "maxAttempts") => count(value, 1, i32::MAX as u64),
                    ("retry", "waitDuration") => duration(value),
                    ("circuitbreaker", "slidingWindowType") => {
                        value == "COUNT_BASED" || value == "TIME_BASED"
                    }
                    ("circuitbreaker", "slidingWindowSize" | "minimumNumberOfCalls") => {
                        count(value, 1, i32::MAX as u64)
                    }
                    ("circuitbreaker", "failureRateThreshold") => count(value, 1, 100),
                    ("circuitbreaker", "waitDurationInOpenState" | "slowCallDurationThreshold") => {
                        duration(value)
                    }
                    ("timelimiter", "timeoutDuration") => duration(value),
                    ("bulkhead", "maxConcurrentCalls") => count(value, 1, i32::MAX as u64),
                    _ => panic!("{what}: unknown property `{key}`"),
                };
                assert!(valid, "{what}: {key}: {value}");
            }
        }
    }
}

/// Source and diagnostics of one example, compiled with its project's settings. Its YAML is
/// in `NAME.expected.yaml` beside it, checked by `meshc test` (see
/// `examples_match_their_expectations`), so the snapshot does not hold a second copy.
fn render(path: &str) -> String {
    let (sources, compilation) = mesh::compile_file(path);
    assert!(!compilation.has_errors(), "{path} has errors");
    let diagnostics = meshc::diagnostics::render::human_string(&sources, &compilation.diagnostics);
    format!(
        "----- SOURCE\n{}\n----- DIAGNOSTICS\n{diagnostics}",
        mesh::read(path)
    )
}

/// Source, diagnostics and YAML of one example for another target, in one snapshot.
fn render_with(path: &str, options: Options) -> String {
    let (sources, compilation) = compile(path, options);
    assert!(!compilation.has_errors(), "{path} has errors");
    let diagnostics = meshc::diagnostics::render::human_string(&sources, &compilation.diagnostics);
    let yaml = meshc::emit::yaml::stream(&compilation.manifests());
    format!(
        "----- SOURCE\n{}\n----- DIAGNOSTICS\n{diagnostics}\n----- YAML\n{yaml}",
        mesh::read(path)
    )
}

/// `meshc test examples`, as CI and a user run it: every example's YAML equals its
/// `NAME.expected.yaml`, and every policy module compiles.
#[test]
fn examples_match_their_expectations() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_meshc"))
        .args(["test", "--color", "never", "examples"])
        .current_dir(mesh::repo_root())
        .output()
        .expect("meshc runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let examples = mesh::mesh_files("examples");
    let summary = format!(
        "test result: ok. {} passed; 0 failed; 0 updated",
        examples.len()
    );
    assert!(
        stdout.contains(&summary),
        "expected `{summary}` in:\n{stdout}"
    );
}

#[test]
fn examples_snapshots() {
    let examples = mesh::mesh_files("examples");
    assert!(
        examples.len() >= 25,
        "expected the 23 seed examples and the platform, found {examples:?}"
    );
    for path in examples {
        let name = path
            .trim_start_matches("examples/")
            .trim_end_matches(".mesh")
            .replace('/', "__");
        insta::with_settings!({ snapshot_path => "../tests/snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("example__{name}"), render(&path));
        });
    }
}

#[test]
fn portable_examples_compile_for_gateway_api() {
    for path in PORTABLE {
        let name = path
            .trim_start_matches("examples/")
            .trim_end_matches(".mesh");
        for (options, suffix) in GATEWAY_API {
            let (_, compilation) = compile(path, options);
            assert!(
                !compilation.has_errors(),
                "{path} for {suffix}: {:?}",
                compilation.diagnostics
            );
            assert!(validate_all(path, &compilation, options.channel) > 0);
            // Without retries, both channels give the same YAML: one snapshot.
            if options.channel == Channel::Standard {
                insta::with_settings!({ snapshot_path => "../tests/snapshots", prepend_module_to_snapshot => false }, {
                    insta::assert_snapshot!(format!("example__{name}__{suffix}"), render_with(path, options));
                });
            }
        }
    }
}

#[test]
fn rollout_targets_emit_valid_objects_for_their_tools() {
    for (target, flag, paths, present, absent) in ROLLOUT_TARGETS {
        let options = Options {
            target,
            ..Options::default()
        };
        for path in paths {
            let (_, compilation) = compile(path, options);
            assert!(
                !compilation.has_errors(),
                "{path} for {flag}: {:?}",
                compilation.diagnostics
            );
            let kinds: Vec<&str> = compilation.manifests().iter().map(|m| m.kind()).collect();
            for kind in present {
                assert!(
                    kinds.contains(kind),
                    "{path} for {flag}: no {kind} in {kinds:?}"
                );
            }
            for kind in absent {
                assert!(!kinds.contains(kind), "{path} for {flag}: {kind} emitted");
            }
            validate_all(path, &compilation, Channel::Standard);
            let name = path
                .trim_start_matches("examples/")
                .trim_end_matches(".mesh");
            insta::with_settings!({ snapshot_path => "../tests/snapshots", prepend_module_to_snapshot => false }, {
                insta::assert_snapshot!(format!("example__{name}__{flag}"), render_with(path, options));
            });
        }
    }
}

#[test]
fn the_profile_example_compiles_to_service_profiles() {
    let path = "examples/linkerd-profile.mesh";
    let (sources, compilation) = compile(path, LINKERD_PROFILE);
    let rendered = meshc::diagnostics::render::human_string(&sources, &compilation.diagnostics);
    assert!(compilation.diagnostics.is_empty(), "{rendered}");
    assert_eq!(validate_all(path, &compilation, Channel::Standard), 2);
    let manifests = mesh::manifests_as_data(&compilation);
    let kinds: Vec<&str> = manifests
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ServiceProfile", "ServiceProfile"]);
    // Named after the host; the split is the service's; only the idempotent half retries.
    let research = &manifests[0];
    assert_eq!(
        research["metadata"]["name"],
        "research-agent.team1.svc.cluster.local"
    );
    assert_eq!(research["spec"]["dstOverrides"][1]["weight"], 10);
    let retryable: Vec<bool> = (research["spec"]["routes"].as_array().unwrap().iter())
        .map(|route| route["isRetryable"] == true)
        .collect();
    assert_eq!(retryable, [false, true, false]);
    insta::with_settings!({ snapshot_path => "../tests/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(
            "example__linkerd-profile__service-profile",
            render_with(path, LINKERD_PROFILE)
        );
    });
}

#[test]
fn the_portable_platform_compiles_for_istio_gateway_api_linkerd_and_consul() {
    let path = "examples/portable.mesh";
    let experimental = GATEWAY_API[1].0;
    for options in [Options::default(), experimental, LINKERD, CONSUL] {
        let (sources, compilation) = compile(path, options);
        let rendered = meshc::diagnostics::render::human_string(&sources, &compilation.diagnostics);
        assert!(
            !compilation.has_errors(),
            "{path} ({options:?}):\n{rendered}"
        );
        assert!(compilation.diagnostics.is_empty(), "{rendered}");
        assert!(validate_all(path, &compilation, options.channel) >= 3);
    }
    insta::with_settings!({ snapshot_path => "../tests/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("example__portable__linkerd", render_with(path, LINKERD));
        insta::assert_snapshot!("example__portable__consul", render_with(path, CONSUL));
    });
}

#[test]
fn the_agents_platform_needs_istio_for_what_linkerd_consul_and_resilience4j_cannot_express() {
    for (options, name) in [
        (LINKERD, "linkerd"),
        (CONSUL, "consul"),
        (RESILIENCE4J, "resilience4j"),
    ] {
        platform_errors("agents-platform", options, name);
    }
}

/// The portable platform routes, and Resilience4j does not: each route is an error, at the
/// construct (book: Targets, Resilience4j).
#[test]
fn the_portable_platform_needs_a_mesh_to_route() {
    platform_errors("portable", RESILIENCE4J, "resilience4j");
}

/// The client example compiles for the mesh that enforces resilience for the caller (Istio)
/// and for the caller itself (Resilience4j), with the same meaning: three tries of up to 9s
/// and a 30s timeout, a breaker after 5 consecutive failures, 100 concurrent calls.
#[test]
fn the_client_example_compiles_for_istio_and_resilience4j() {
    let path = "examples/portable-client.mesh";
    for options in [Options::default(), RESILIENCE4J] {
        let (sources, compilation) = compile(path, options);
        let rendered = meshc::diagnostics::render::human_string(&sources, &compilation.diagnostics);
        assert!(
            compilation.diagnostics.is_empty(),
            "{options:?}:\n{rendered}"
        );
        assert!(validate_all(path, &compilation, options.channel) >= 1);
    }
    let (_, compilation) = compile(path, RESILIENCE4J);
    let manifests = mesh::manifests_as_data(&compilation);
    assert_eq!(manifests.len(), 1, "one application.yaml");
    let modules = &manifests[0]["resilience4j"];
    let research = |module: &str| &modules[module]["instances"]["research-agent"];
    assert_eq!(research("retry")["maxAttempts"], 3, "retry 2: three calls");
    assert_eq!(research("timelimiter")["timeoutDuration"], "9s");
    assert_eq!(research("circuitbreaker")["slidingWindowSize"], 5);
    assert_eq!(research("circuitbreaker")["waitDurationInOpenState"], "30s");
    assert_eq!(research("bulkhead")["maxConcurrentCalls"], 100);
    let orchestrator = &modules["retry"]["instances"]["orchestrator-agent"];
    assert_eq!(orchestrator["maxAttempts"], 1, "retry 0: one call");
    assert_eq!(
        modules["timelimiter"]["instances"]["orchestrator-agent"]["timeoutDuration"],
        "120s"
    );
    insta::with_settings!({ snapshot_path => "../tests/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(
            "example__portable-client__resilience4j",
            render_with(path, RESILIENCE4J)
        );
    });
    // What a mesh without per-try timeouts (Consul) or circuit breaking (Linkerd) reports.
    for (options, expected) in [(CONSUL, 2), (LINKERD, 8)] {
        let (_, compilation) = compile(path, options);
        assert_eq!(
            error_codes(&compilation),
            vec!["E0401"; expected],
            "{options:?}"
        );
    }
}

/// The codes of a compilation's errors, in order.
fn error_codes(compilation: &meshc::Compilation) -> Vec<&'static str> {
    let errors = compilation.diagnostics.iter().filter(|d| d.is_error());
    errors.map(|d| d.code.as_str()).collect()
}

/// A program's errors for a target, snapshotted.
fn platform_errors(example: &str, options: Options, name: &str) {
    let (sources, compilation) = compile(&format!("examples/{example}.mesh"), options);
    assert!(compilation.has_errors());
    assert!(compilation.manifests().is_empty());
    // Each error as `line: code message`: the documented list (book: Targets, Linkerd).
    let errors: Vec<String> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let line = sources
                .line_col(d.primary.span.file, d.primary.span.start)
                .0;
            format!("{line}: {} {}", d.code.as_str(), d.message)
        })
        .collect();
    insta::with_settings!({ snapshot_path => "../tests/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("example__{example}__{name}_errors"), errors.join("\n"));
    });
}

#[test]
fn the_experimental_channel_carries_retries() {
    let src = "namespace team1
service api { port 8080 }
route api retry 3 on 502, 503, 504 timeout 10s backend timeout 3s
";
    let mut sources = meshc::SourceMap::new();
    sources.add("retries.mesh", src);
    let standard = meshc::compile_with(&mut sources, GATEWAY_API[0].0);
    assert_eq!(
        error_codes(&standard),
        ["E0401"],
        "retries need the experimental channel"
    );
    let experimental = meshc::compile_with(&mut sources, GATEWAY_API[1].0);
    assert!(!experimental.has_errors(), "{:?}", experimental.diagnostics);
    validate_all("retries.mesh", &experimental, Channel::Experimental);
    let rule = &mesh::manifests_as_data(&experimental)[0]["spec"]["rules"][0];
    assert_eq!(rule["retry"]["attempts"], 3);
    assert_eq!(rule["retry"]["codes"], serde_json::json!([502, 503, 504]));
    assert_eq!(rule["timeouts"]["request"], "10s");
    assert_eq!(rule["timeouts"]["backendRequest"], "3s");
    // The standard CRD has no `retry` field: the experimental output is not valid there.
    let manifest = &mesh::manifests_as_data(&experimental)[0];
    assert!(crd::validate_with_channel(manifest, crd::Channel::Standard).is_err());
}

#[test]
fn what_gateway_api_cannot_express_is_an_error_at_its_construct() {
    // Every Istio-only construct of the examples is reported as E0401 (or, for a service
    // without a port, E0405), never anything else, and nothing is emitted. The client example
    // says `retry 0`, which Gateway API cannot write (E0202).
    // With Linkerd, also its limits (E0402), its redirect statuses (E0202) and the order of
    // routes it cannot keep (E0408).
    let targets = GATEWAY_API
        .iter()
        .map(|&(options, suffix)| (options, suffix, &["E0401", "E0405"][..]))
        .chain([
            (
                LINKERD,
                "linkerd",
                &["E0401", "E0405", "E0402", "E0202", "E0408"][..],
            ),
            (
                LINKERD_PROFILE,
                "linkerd-service-profile",
                &["E0401", "E0405", "E0409"][..],
            ),
            (CONSUL, "consul", &["E0401", "E0410"][..]),
            (
                RESILIENCE4J,
                "resilience4j",
                &["E0401", "E0411", "E0304"][..],
            ),
        ]);
    let targets: Vec<_> = targets.collect();
    let mut compiled = 0;
    let mut profiles = 0;
    let mut consul = 0;
    let mut resilience4j = 0;
    for path in mesh::mesh_files("examples") {
        for &(options, suffix, expected) in &targets {
            let (_, compilation) = compile(&path, options);
            let errors = error_codes(&compilation);
            let retry_0 =
                path == "examples/portable-client.mesh" && options.target == Target::GatewayApi;
            assert!(
                errors
                    .iter()
                    .all(|code| expected.contains(code) || (retry_0 && *code == "E0202")),
                "{path} for {suffix}: {errors:?}"
            );
            let linkerd = errors.is_empty() && options.target == Target::Linkerd;
            compiled += usize::from(linkerd && options.linkerd == LinkerdFlavour::HttpRoute);
            profiles += usize::from(linkerd && options.linkerd == LinkerdFlavour::ServiceProfile);
            consul += usize::from(errors.is_empty() && options.target == Target::Consul);
            resilience4j +=
                usize::from(errors.is_empty() && options.target == Target::Resilience4j);
            if errors.is_empty() {
                validate_all(&path, &compilation, options.channel);
            } else {
                assert!(compilation.manifests().is_empty());
            }
        }
    }
    assert_eq!(
        (compiled, profiles, consul, resilience4j),
        (8, 9, 22, 4),
        "examples that compile for Linkerd's HTTPRoutes and ServiceProfiles, Consul and Resilience4j"
    );
    // The platform uses subsets, pools, ejection, balancing and retries: each is reported.
    let (_, compilation) = compile("examples/agents-platform.mesh", GATEWAY_API[0].0);
    let messages: Vec<&str> = compilation
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    for concept in ["subsets", "`pool`", "`eject`", "`balance`", "`retry`"] {
        assert!(
            messages.iter().any(|m| m.contains(concept)),
            "{concept}: {messages:?}"
        );
    }
}

#[test]
fn every_emitted_manifest_is_valid_against_its_crd() {
    let mut checked = 0;
    for path in mesh::mesh_files("examples") {
        let (_, compilation) = mesh::compile_file(&path);
        checked += validate_all(&path, &compilation, Channel::Standard);
    }
    assert!(checked >= 36, "only {checked} manifests checked");
}

#[test]
fn output_is_byte_identical_across_runs() {
    for path in mesh::mesh_files("examples") {
        let first = render(&path);
        for _ in 0..3 {
            assert_eq!(render(&path), first, "{path} changed between runs");
        }
    }
}

/// Every target, with the Gateway API channels.
fn every_target() -> Vec<Options> {
    let targets = [
        Target::Istio,
        Target::Flagger,
        Target::ArgoRollouts,
        Target::Linkerd,
    ];
    let others = targets.map(|target| Options {
        target,
        ..Options::default()
    });
    GATEWAY_API
        .iter()
        .map(|(options, _)| *options)
        .chain(others)
        .chain([LINKERD_PROFILE, CONSUL, RESILIENCE4J])
        .collect()
}

#[test]
fn the_streamed_yaml_is_the_stream_on_any_number_of_threads() {
    let mut compared = 0;
    for path in mesh::mesh_files("examples") {
        for options in every_target() {
            let (_, compilation) = compile(&path, options);
            if compilation.has_errors() {
                continue;
            }
            let expected = meshc::emit::yaml::stream(&compilation.manifests());
            // More threads than batches too (8 threads, 4 parts each).
            for (threads, batch) in [(1, 1), (1, 256), (2, 1), (2, 2), (3, 1), (4, 256), (8, 4)] {
                let streamed = mesh::streamed_yaml(&compilation, threads, batch);
                assert!(
                    streamed == expected,
                    "{path} ({options:?}), {threads} threads, {batch} parts per piece:\n{streamed}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 7 * 60, "only {compared} streams compared");
}

#[test]
fn the_benchmarks_plain_writer_writes_what_meshc_writes() {
    // `compiler/examples/plain_writer.rs` is the floor meshc is measured against: the same
    // bytes, written with no parsing, checking or model. 4,000 services are a file of more
    // than 1 MiB (parsed in two halves) written on two threads.
    for (services, threads) in [(3, 1), (4000, 2)] {
        let text = meshc::testing::benchmark_program(services);
        let (_, compilation) = mesh::compile_text("bench.mesh", &text);
        assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
        let meshc_yaml = mesh::streamed_yaml(&compilation, threads, 256);
        let mut plain = Vec::new();
        meshc::testing::write_benchmark_yaml(services, &mut plain).expect("writes to memory");
        let plain = String::from_utf8(plain).expect("UTF-8");
        assert_eq!(
            mesh::first_differing_line(&plain, &meshc_yaml),
            None,
            "{services} services: the plain writer's YAML differs from meshc's at that line \
             (lengths {} and {})",
            plain.len(),
            meshc_yaml.len()
        );
        let manifests = meshc_yaml.matches("\nkind: ").count();
        assert_eq!(manifests, 2 * services, "two manifests per service");
    }
}

#[test]
fn istio_objects_written_without_models_are_the_models_yaml() {
    // `meshc build` writes DestinationRules and VirtualServices straight from the IR (see
    // `emit::istio::write_destination_rule`); the examples and the book's programs are compared
    // with their models elsewhere. This program has what those leave out, values that YAML 1.1
    // would misread, and a host long enough to be folded in a `- ` item. Each `odd-*` service
    // has one kind of key that must be quoted (a label, a header or query parameter matched, a
    // header set or added), which only the models' writer writes: the direct writer leaves
    // that object to it. One kind each, so that a missing check on one is not hidden by another.
    let long = "a-service-name-of-more-than-forty-characters-x";
    let text = format!(
        r#"namespace edge-cases-with-a-long-namespace

service api {{
  subset v1 (version = v1)
  subset v2 (version = "1e3") {{
    pool {{ max retries 3 }}
    balance hash query user
  }}
  balance hash source ip
  pool {{ max requests per connection 5 }}
  eject {{ after 5 consecutive 5xx }}
}}

route api when header x-on = "on" -> v1 timeout 5s
route api when header x-long = "a value of more than eighty characters, which the writer folds into a block scalar" -> v2 timeout 5s
route api when uri prefix "/old" redirect scheme https host example.com port 8443 prefix "/new" status 301
route api when query q = "~" -> v1 90%, v2 10% timeout 1500ms retry 2 on 5xx remote localities on

service {long} {{
  subset v1 (version = v1)
}}

route {long} -> v1 timeout 5s request remove x-a

service odd-label {{
  subset v1 (version = v1, on = "yes")
}}

service odd-header {{
  subset v1 (version = v1)
}}

route odd-header when header on = "1" -> v1 timeout 5s

service odd-query {{
  subset v1 (version = v1)
}}

route odd-query when query yes = "1" -> v1 timeout 5s

service odd-set {{
  subset v1 (version = v1)
}}

route odd-set -> v1 timeout 5s request set no = "x"

service odd-add {{
  subset v1 (version = v1)
}}

route odd-add -> v1 timeout 5s response add y = "x"
"#
    );
    let (_, compilation) = mesh::compile_text("edge.mesh", &text);
    assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
    let expected = meshc::emit::yaml::stream(&compilation.manifests());
    // One part per piece, so that two threads each write some.
    for (threads, batch) in [(1, 256), (2, 1)] {
        let streamed = mesh::streamed_yaml(&compilation, threads, batch);
        assert_eq!(streamed, expected, "{threads} threads");
    }
    for line in [
        "useSourceIp: true",
        "httpQueryParameterName: user",
        "maxRetries: 3",
        "maxRequestsPerConnection: 5",
        "version: \"1e3\"",
        "exact: \"on\"",
        "exact: \"~\"",
        "exact: >-",
        "scheme: https",
        "prefixRewrite: /new",
        "redirectCode: 301",
        "timeout: 1500ms",
        "retryRemoteLocalities: true",
        "  - >-\n    a-service-name-of-more-than-forty-characters-x.edge-cases-with-a-long-namespace.svc.cluster.local",
        "\"on\": \"yes\"",
        "\"on\":\n",
        "\"yes\":\n",
        "\"no\": x",
        "\"y\": x",
    ] {
        assert!(expected.contains(line), "no `{line}` in:\n{expected}");
    }
}

#[test]
fn a_failing_write_stops_the_stream_and_is_returned() {
    let text = meshc::testing::benchmark_program(300);
    let (_, compilation) = mesh::compile_text("bench.mesh", &text);
    assert!(!compilation.has_errors());
    for threads in [1, 2] {
        let mut pieces = 0;
        let result = meshc::emit::write_yaml_batched(
            &compilation.program,
            compilation.options,
            threads,
            4,
            &mut |_| {
                pieces += 1;
                if pieces == 3 {
                    Err("disk full")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(result, Err("disk full"));
        assert_eq!(pieces, 3, "no piece is written after the failure");
    }
}

#[test]
fn the_guide_one_liner_compiles_as_written() {
    let src = "namespace team1
service research {
  subset v1 (version = v1)
  subset v2 (version = v2)
}
route research -> v1 90%, v2 10% retry 3 timeout 15s
";
    let (_, compilation) = mesh::compile_text("one-liner.mesh", src);
    assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
    let documents = mesh::manifests_as_data(&compilation);
    let rule = &documents[1]["spec"]["http"][0];
    assert_eq!(rule["route"][0]["destination"]["subset"], "v1");
    assert_eq!(rule["route"][0]["weight"], 90);
    assert_eq!(rule["route"][1]["destination"]["subset"], "v2");
    assert_eq!(rule["route"][1]["weight"], 10);
    assert_eq!(rule["retries"]["attempts"], 3);
    assert_eq!(rule["timeout"], "15s");
}

#[test]
fn yaml_1_1_ambiguous_strings_are_quoted() {
    // Each value would be read as a bool, a number, a null or a time by a YAML 1.1 reader such
    // as Kubernetes' (or a YAML 1.2 reader) if it were written bare, or would not be read back
    // as written. (`compiler/src/emit/yaml/tests.rs` checks the writer with many more.)
    #[rustfmt::skip]
    let hazards = [
        // Booleans, YAML 1.1 (Kubernetes) and 1.2, in several cases.
        "on", "On", "ON", "off", "Off", "OFF", "yes", "Yes", "YES", "no", "No", "NO", "y", "Y",
        "n", "N", "true", "True", "TRUE", "false", "False", "FALSE",
        // Null.
        "~", "null", "Null", "NULL", "",
        // Numbers in every form: decimal, signed, octal (1.1 and 1.2), hex, binary, with `_`,
        // floats, exponents, infinity, not-a-number.
        "0", "10", "-1", "+1", "010", "017", "0o17", "0x1F", "0b101", "1_000", "1.5", "-1.5",
        "1.", ".5", "-.5", "1e3", "1E3", "1e-3", "-1.5e+3", ".inf", "-.Inf", "+.INF", ".nan",
        ".NaN", "nan", "inf",
        // Sexagesimal (YAML 1.1 base 60).
        "12:30", "190:20:30", "-12:30",
        // Dates and timestamps.
        "2024-01-01", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
        "2001-12-15T02:59:43.1Z",
        // YAML 1.1's merge and value keys.
        "<<", "=",
        // Indicator characters that start a node.
        "-", "- a", "?", "? a", ":", ": a", ",a", "[a]", "]", "{a}", "}", "#a", "&a", "*a", "!a",
        "|a", ">a", "'a'", "\"a\"", "%%a", "@a", "`a",
        // Document markers.
        "---", "...",
        // A mapping indicator or a comment inside; a trailing colon.
        "a: b", "a #b", "a:",
        // Leading or trailing white space, a tab.
        " a", "a ", "a\tb",
        // Characters a plain scalar cannot hold (byte order mark, line separator).
        "a\u{feff}b", "a\u{2028}b",
    ];
    let mut src = String::from("namespace team1\nservice web { }\nroute web\n");
    for (index, value) in hazards.iter().enumerate() {
        let literal = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\t', "\\t");
        src.push_str(&format!("  request set x-h{index} = \"{literal}\"\n"));
    }
    let (_, compilation) = mesh::compile_text("quoting.mesh", &src);
    assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
    let yaml = meshc::emit::yaml::stream(&compilation.manifests());
    for (index, value) in hazards.iter().enumerate() {
        let line = yaml
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("x-h{index}:")))
            .unwrap_or_else(|| panic!("no line for {value}:\n{yaml}"));
        let written = line.split_once(": ").expect("key: value").1;
        let quoted = |quote: char| {
            written.len() >= 2 && written.starts_with(quote) && written.ends_with(quote)
        };
        assert!(
            quoted('"') || quoted('\''),
            "`{value}` is written unquoted as `{written}`"
        );
    }
    // And the whole document reads back with every value a string.
    let documents = mesh::manifests_as_data(&compilation);
    let set = &documents[0]["spec"]["http"][0]["headers"]["request"]["set"];
    for (index, value) in hazards.iter().enumerate() {
        assert_eq!(set[format!("x-h{index}")], *value);
    }
}

/// The first fenced block of `language` in a Markdown text.
fn fenced_block<'a>(markdown: &'a str, language: &str) -> &'a str {
    let start = markdown
        .find(&format!("```{language}\n"))
        .expect("block present")
        + language.len()
        + 4;
    let end = start + markdown[start..].find("```").expect("block closed");
    &markdown[start..end]
}

#[test]
fn the_readme_shows_real_output() {
    let readme = mesh::read("README.md");
    let (_, compilation) = mesh::compile_text("app.mesh", fenced_block(&readme, "mesh"));
    assert!(!compilation.has_errors());
    assert_eq!(
        meshc::emit::yaml::stream(&compilation.manifests()),
        fenced_block(&readme, "yaml")
    );
    let typo = fenced_block(&readme, "mesh").replace("v2 10%", "v3 10%");
    let (sources, compilation) = mesh::compile_text("app.mesh", &typo);
    // The README shows the error; the best-practice warnings that come with it are left out.
    let errors: Vec<_> = compilation
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    let rendered = meshc::diagnostics::render::human_string(&sources, &errors);
    assert_eq!(
        rendered.trim_end(),
        fenced_block(&readme, "text").trim_end()
    );
}

/// Every policy of the standard library is applied by an example (so it has a snapshot and an
/// expectation): `use MODULE.POLICY(` in a file that imports `std/MODULE`.
#[test]
fn every_stdlib_policy_is_applied_by_an_example() {
    let examples: Vec<String> = mesh::mesh_files("examples")
        .iter()
        .map(|path| mesh::read(path))
        .collect();
    let mut missing = Vec::new();
    let mut policies = 0;
    for (module, text) in meshc::stdlib::MODULES {
        let mut sources = meshc::SourceMap::new();
        sources.add(format!("std/{module}.mesh"), *text);
        let compilation = meshc::compile(&mut sources);
        assert!(
            compilation.diagnostics.is_empty(),
            "std/{module}: {:?}",
            compilation.diagnostics
        );
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("policy ") else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            policies += 1;
            let import = format!("import std/{module}");
            let applied = format!("use {module}.{name}(");
            if !examples
                .iter()
                .any(|e| e.contains(&import) && e.contains(&applied))
            {
                missing.push(format!("std/{module}: {name}"));
            }
        }
    }
    assert!(policies >= 20, "found only {policies} policies");
    assert!(
        missing.is_empty(),
        "not applied by any example: {missing:?}"
    );
}

/// `@allow` covers the declaration it precedes and nothing else, among many declarations
/// (the lookup is a binary search over the declarations' spans).
#[test]
fn an_allow_covers_only_its_own_declaration() {
    let mut src = String::from("namespace team1\n");
    for i in 0..50 {
        src.push_str(&format!(
            "service s{i} {{ pool {{ max connections 10 }} }}\n{}route s{i} -> s{i}\n",
            if i % 2 == 0 {
                "@allow(missing-timeout)\n"
            } else {
                ""
            }
        ));
    }
    let (sources, compilation) = mesh::compile_text("allow.mesh", &src);
    let warned: Vec<String> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.code == meshc::Code::W0101)
        .map(|d| sources.text(d.primary.span.file)[d.primary.span.range()].to_string())
        .collect();
    let expected: Vec<String> = (0..50)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("route s{i}"))
        .collect();
    assert_eq!(warned, expected);
}

/// A very long invalid name is reported with its headline cut to 64 characters (the label
/// still covers the whole name).
#[test]
fn a_huge_name_gets_a_short_headline() {
    let name = "a".repeat(100_000);
    let (_, compilation) =
        mesh::compile_text("long.mesh", &format!("namespace t\nservice {name} {{ }}\n"));
    let diagnostic = compilation
        .diagnostics
        .iter()
        .find(|d| d.code == meshc::Code::E0205)
        .expect("E0205 for the name");
    assert_eq!(
        diagnostic.message,
        format!("invalid service name `{}…`", "a".repeat(64))
    );
    assert_eq!(diagnostic.primary.span.range().len(), 100_000);
}

/// One option set per target that emits Kubernetes objects (the Gateway API's experimental
/// channel, which has more fields).
const EVERY_KUBERNETES_TARGET: [Options; 7] = [
    Options {
        target: Target::Istio,
        channel: Channel::Standard,
        linkerd: LinkerdFlavour::HttpRoute,
        step: None,
    },
    GATEWAY_API[1].0,
    LINKERD,
    LINKERD_PROFILE,
    CONSUL,
    Options {
        target: Target::Flagger,
        ..LINKERD
    },
    Options {
        target: Target::ArgoRollouts,
        ..LINKERD
    },
];

/// Checking on several threads finds what checking on one finds: every example, for every
/// Kubernetes target, checked on one thread and on three (each taking a third of the
/// declarations and of the routes), has the same diagnostics and the same YAML.
#[test]
fn examples_checked_on_threads_as_on_one() {
    use meshc::diagnostics::render;
    let mut compared = 0;
    for path in mesh::mesh_files("examples") {
        for options in EVERY_KUBERNETES_TARGET {
            let (sources, one) = mesh::compile_file_on(&path, Some(options), 1);
            let (_, three) = mesh::compile_file_on(&path, Some(options), 3);
            let rendered = |c: &meshc::Compilation| render::human_string(&sources, &c.diagnostics);
            assert_eq!(rendered(&one), rendered(&three), "{path} ({options:?})");
            let yaml = |c: &meshc::Compilation| meshc::emit::yaml::stream(&c.manifests());
            assert_eq!(yaml(&one), yaml(&three), "{path} ({options:?})");
            compared += 1;
        }
    }
    assert!(compared > 250, "only {compared} compilations compared");
}

/// An object extended by `extra` blocks is written from its value; with nothing added, that
/// value writes the same YAML as the typed object, byte for byte, for every object of every
/// example and target (so `extra` changes nothing but the fields it adds).
#[test]
fn objects_as_values_write_the_same_yaml() {
    use meshc::emit::{yaml, Extended, Manifest};
    let mut objects = 0;
    for path in mesh::mesh_files("examples") {
        for options in EVERY_KUBERNETES_TARGET {
            let (_, compilation) = compile(&path, options);
            for manifest in compilation.manifests() {
                let (Some(api_version), Some(metadata)) =
                    (manifest.api_version(), manifest.metadata())
                else {
                    continue;
                };
                let extended = Manifest::Extended(Box::new(Extended {
                    api_version,
                    kind: manifest.kind(),
                    metadata: metadata.clone(),
                    value: meshc::extra::to_value(&manifest),
                }));
                assert_eq!(
                    yaml::document(&extended),
                    yaml::document(&manifest),
                    "{path}: {} {}",
                    manifest.kind(),
                    metadata.name
                );
                objects += 1;
            }
        }
    }
    assert!(objects > 300, "only {objects} objects compared");
}

/// Every field meshc writes in an object that `extra` blocks extend is in the table of modelled
/// fields, so that no `extra` block can set it (E0504) on any service, whether or not that
/// service's object has it; only entries of label and annotation maps, and the name of the rule
/// Argo Rollouts moves, are left to `extra` blocks (which may add them, never change meshc's). Checked on every example, for every
/// target.
#[test]
fn every_field_meshc_writes_is_modelled_for_extra_blocks() {
    use meshc::extra::{self, Kind, Step};
    fn leaves(value: &serde_json::Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        match value {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (key, inner) in map {
                    path.push(Step::Key(key.clone()));
                    leaves(inner, path, out);
                    path.pop();
                }
            }
            serde_json::Value::Array(items) if !items.is_empty() => {
                for (index, item) in items.iter().enumerate() {
                    path.push(Step::Index(index));
                    leaves(item, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let map_entry = |path: &[Step]| {
        path.windows(3).any(|w| {
            matches!(w, [Step::Key(m), Step::Key(map), Step::Key(_)]
                if m == "metadata" && (map == "labels" || map == "annotations"))
        })
    };
    let mut fields = 0;
    let mut unmodelled = std::collections::BTreeSet::new();
    for path in mesh::mesh_files("examples") {
        for options in EVERY_KUBERNETES_TARGET {
            let (_, compilation) = compile(&path, options);
            for manifest in compilation.manifests() {
                // What `extra` blocks added is the program's, not meshc's.
                if matches!(manifest, meshc::emit::Manifest::Extended(_)) {
                    continue;
                }
                let Some(kind) = extra::kind_of(&manifest) else {
                    continue;
                };
                let mut found = Vec::new();
                leaves(&extra::to_value(&manifest), &mut Vec::new(), &mut found);
                for field in found {
                    fields += 1;
                    // The one field meshc writes for a tool, not for the program: the name of
                    // the rule Argo Rollouts moves (`extra` may name the other rules; E0504
                    // refuses renaming that one, which the object already has).
                    let argo_route_name = options.target == Target::ArgoRollouts
                        && kind == Kind::VirtualService
                        && matches!(field.as_slice(), [Step::Key(s), Step::Key(h), Step::Index(_), Step::Key(n)]
                            if s == "spec" && h == "http" && n == "name");
                    if extra::modelled(kind, &field).is_none()
                        && !map_entry(&field)
                        && !argo_route_name
                    {
                        unmodelled.insert(format!("{} {}", kind.name(), extra::display(&field)));
                    }
                }
            }
        }
    }
    assert!(
        unmodelled.is_empty(),
        "written by meshc, settable by `extra`: {unmodelled:#?}"
    );
    assert!(fields > 3_000, "only {fields} fields looked at");
}
