//! Every Istio manifest of the guide is reproduced by an example in `examples/seed/`.
//!
//! Comparison rules are those of `tests/data/seed/README.md`: both sides are parsed and compared
//! as data; the `app.kubernetes.io/managed-by` label meshc adds is ignored; the guide's
//! deprecated `consecutiveErrors` is expected as `consecutive5xxErrors` (or not at all when the
//! manifest already sets that), and `LEAST_CONN` as `LEAST_REQUEST`.
//!
//! An example may emit more than its references only in one way: the guide shows routes to
//! subsets without the DestinationRule declaring them, while meshc requires subsets to be
//! declared, so such an example also emits a DestinationRule that holds just those subsets.

mod support;

use serde_json::Value;
use support::mesh;

/// (example, references it must reproduce, the distinct warning codes it must produce).
const SEEDS: &[(&str, &[&str], &[&str])] = &[
    (
        "01-httproute-path-routing",
        &["01-httproute-path-routing"],
        &["W0101", "W0102"],
    ),
    (
        "02-httproute-header-routing",
        &["02-httproute-header-routing"],
        &["W0101", "W0102"],
    ),
    (
        "03-vs-header-subset-routing",
        &["03-vs-header-subset-routing", "04-dr-subsets"],
        &["W0101", "W0102"],
    ),
    ("04-dr-subsets", &["04-dr-subsets"], &[]),
    (
        "05-vs-retries",
        &["05-vs-retries"],
        &["W0101", "W0102", "W0103"],
    ),
    ("06-vs-timeout", &["06-vs-timeout"], &["W0102"]),
    ("07-dr-connection-pool", &["07-dr-connection-pool"], &[]),
    (
        "08-dr-outlier-detection",
        &["08-dr-outlier-detection"],
        &["W0001"],
    ),
    (
        "09-deployment-canary-v2",
        &["09-deployment-canary-v2"],
        &["W0109"],
    ),
    (
        "10-vs-canary-10",
        &["10-vs-canary-10", "04-dr-subsets"],
        &["W0101", "W0102"],
    ),
    ("11-vs-fault-delay", &["11-vs-fault-delay"], &["W0102"]),
    ("12-vs-fault-abort", &["12-vs-fault-abort"], &["W0102"]),
    ("13-vs-mirror", &["13-vs-mirror"], &["W0101", "W0102"]),
    (
        "14-httproute-url-rewrite",
        &["14-httproute-url-rewrite"],
        &["W0101", "W0102"],
    ),
    (
        "15-httproute-header-modifier",
        &["15-httproute-header-modifier"],
        &["W0004", "W0101", "W0102"],
    ),
    (
        "16-vs-timeout-and-retries",
        &["16-vs-timeout-and-retries"],
        &["W0102", "W0103", "W0104"],
    ),
    (
        "17-dr-advanced-circuit-breaker",
        &["17-dr-advanced-circuit-breaker"],
        &["W0001"],
    ),
    ("18-dr-lb-round-robin", &["18-dr-lb-round-robin"], &[]),
    (
        "19-vs-canary-50",
        &["19-vs-canary-50", "04-dr-subsets"],
        &["W0101", "W0102"],
    ),
    (
        "20-vs-canary-100",
        &["20-vs-canary-100", "04-dr-subsets"],
        &["W0101", "W0102"],
    ),
    ("21-dr-lb-least-conn", &["21-dr-lb-least-conn"], &["W0001"]),
    ("22-dr-lb-random", &["22-dr-lb-random"], &[]),
    ("23-dr-lb-hash-header", &["23-dr-lb-hash-header"], &[]),
    ("24-dr-lb-hash-cookie", &["24-dr-lb-hash-cookie"], &[]),
];

/// Removes the label meshc adds to everything, and `labels` when nothing else is left.
fn without_managed_by(mut manifest: Value) -> Value {
    let metadata = manifest["metadata"]
        .as_object_mut()
        .expect("metadata is a map");
    if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
        labels.remove("app.kubernetes.io/managed-by");
        if labels.is_empty() {
            metadata.remove("labels");
        }
    }
    manifest
}

/// Applies the README's two allowances to a reference manifest.
fn modernised(mut reference: Value) -> Value {
    if let Some(outlier) = reference
        .pointer_mut("/spec/trafficPolicy/outlierDetection")
        .and_then(Value::as_object_mut)
    {
        if let Some(errors) = outlier.remove("consecutiveErrors") {
            outlier.entry("consecutive5xxErrors").or_insert(errors);
        }
    }
    if let Some(simple) = reference.pointer_mut("/spec/trafficPolicy/loadBalancer/simple") {
        if simple == "LEAST_CONN" {
            *simple = Value::from("LEAST_REQUEST");
        }
    }
    reference
}

fn key(manifest: &Value) -> (String, String) {
    let kind = manifest["kind"].as_str().unwrap_or_default().to_string();
    let name = manifest["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (kind, name)
}

/// The subsets a VirtualService routes or mirrors to.
fn routed_subsets(virtual_service: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for rule in virtual_service["spec"]["http"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let destinations = rule["route"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| &r["destination"]);
        for destination in destinations.chain(std::iter::once(&rule["mirror"])) {
            if let Some(subset) = destination["subset"].as_str() {
                out.push(subset.to_string());
            }
        }
    }
    out
}

/// How many of `references` the compilation reproduces; panics, naming `path`, at the first
/// one it does not, or at anything more it emits (other than a DestinationRule holding just
/// the subsets the references route to).
fn reproduces(path: &str, compilation: &meshc::Compilation, references: &[&str]) -> usize {
    let mut reproduced = 0;
    let mut emitted: Vec<Value> = mesh::manifests_as_data(compilation)
        .into_iter()
        .map(without_managed_by)
        .collect();
    for reference_name in references {
        let text = mesh::read(&format!("tests/data/seed/{reference_name}.yaml"));
        let reference =
            modernised(serde_saphyr::from_str::<Value>(&text).expect("reference parses"));
        let position = emitted
            .iter()
            .position(|m| key(m) == key(&reference))
            .unwrap_or_else(|| {
                panic!(
                    "{path}: no {:?} emitted for {reference_name}",
                    key(&reference)
                )
            });
        let manifest = emitted.remove(position);
        assert_eq!(
            manifest, reference,
            "{path} does not reproduce {reference_name}"
        );
        reproduced += 1;
    }
    // Anything left must be the DestinationRule declaring the subsets the routes use.
    for extra in &emitted {
        assert_eq!(
            extra["kind"],
            "DestinationRule",
            "{path}: unexpected {:?}",
            key(extra)
        );
        let spec_keys: Vec<&String> = extra["spec"].as_object().expect("spec").keys().collect();
        assert_eq!(
            spec_keys,
            ["host", "subsets"],
            "{path}: the extra DestinationRule holds more than subsets"
        );
    }
    if !emitted.is_empty() {
        let declared: Vec<&str> = emitted
            .iter()
            .flat_map(|dr| dr["spec"]["subsets"].as_array().into_iter().flatten())
            .filter_map(|s| s["name"].as_str())
            .collect();
        for reference_name in references {
            let text = mesh::read(&format!("tests/data/seed/{reference_name}.yaml"));
            let reference: Value = serde_saphyr::from_str(&text).expect("reference parses");
            for subset in routed_subsets(&reference) {
                assert!(
                    declared.contains(&subset.as_str()),
                    "{path}: subset {subset} is not declared"
                );
            }
        }
    }
    reproduced
}

#[test]
fn every_seed_example_reproduces_its_references() {
    let mut reproduced = 0;
    for (example, references, warnings) in SEEDS {
        let path = format!("examples/seed/{example}.mesh");
        let (_, compilation) = mesh::compile_file(&path);
        let mut codes: Vec<&str> = compilation
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        codes.sort();
        codes.dedup();
        assert_eq!(&codes, warnings, "{path}: diagnostics");
        reproduced += reproduces(&path, &compilation, references);
    }
    // 24 examples reproduce 28 reference manifests (04 four more times, as the subsets of 03, 10,
    // 19 and 20): every manifest of the guide.
    assert_eq!(reproduced, 28);
}

#[test]
fn the_readme_example_prints_the_reference_manifest() {
    // `meshc build examples/seed/05-vs-retries.mesh` prints exactly one document: reference 05.
    let (_, compilation) = mesh::compile_file("examples/seed/05-vs-retries.mesh");
    let yaml = meshc::emit::yaml::stream(&compilation.manifests());
    let documents = mesh::parse_yaml_documents(&yaml);
    let reference: Value =
        serde_saphyr::from_str(&mesh::read("tests/data/seed/05-vs-retries.yaml")).unwrap();
    assert_eq!(documents.len(), 1);
    assert_eq!(without_managed_by(documents[0].clone()), reference);
}

#[test]
fn the_canary_reproduces_its_three_steps() {
    // `--step 1`, `--step 2`, `--step 3` of examples/seed/canary.mesh are references 10, 19
    // and 20, each with the DestinationRule of reference 04.
    let path = "examples/seed/canary.mesh";
    let mut sources = meshc::SourceMap::new();
    sources.add(path, mesh::read(path));
    for (step, reference_name) in [
        (1, "10-vs-canary-10"),
        (2, "19-vs-canary-50"),
        (3, "20-vs-canary-100"),
    ] {
        let options = meshc::target::Options {
            step: Some(step),
            ..Default::default()
        };
        let compilation = meshc::compile_with(&mut sources, options);
        assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
        assert_eq!(compilation.steps, 3);
        let emitted: Vec<Value> = mesh::manifests_as_data(&compilation)
            .into_iter()
            .map(without_managed_by)
            .collect();
        let read = |name: &str| -> Value {
            serde_saphyr::from_str(&mesh::read(&format!("tests/data/seed/{name}.yaml")))
                .expect("reference parses")
        };
        // The two references, then the canary's alerts (checked in tests/examples.rs).
        assert_eq!(
            emitted[..2],
            [read("04-dr-subsets"), read(reference_name)],
            "step {step}"
        );
        assert_eq!(emitted.len(), 3);
        assert_eq!(emitted[2]["kind"], "PrometheusRule");
    }
}

/// `meshc import` of the guide's manifests (Istio, Gateway API and its Deployment) gives
/// programs that build them back (the round trip): each example's references, imported together (a VirtualService with the
/// DestinationRule of the subsets it routes to), compiled, compared as above.
#[test]
fn importing_the_guides_manifests_gives_them_back() {
    let mut reproduced = 0;
    for (example, references, _) in SEEDS {
        let texts: Vec<String> = references
            .iter()
            .map(|r| mesh::read(&format!("tests/data/seed/{r}.yaml")))
            .collect();
        let stream = texts.join("\n---\n");
        let (programs, diagnostics) = meshc::import::import_stream(0, &stream);
        // The guide mirrors to a subset that none of its DestinationRules declares: its labels
        // are unknown, so that VirtualService cannot be imported alone, and says why.
        if *example == "13-vs-mirror" {
            let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
            assert_eq!(codes, ["E0503", "E0503"], "{diagnostics:?}");
            assert!(
                diagnostics[0].message.contains("subset `v1`"),
                "{diagnostics:?}"
            );
            continue;
        }
        assert!(
            diagnostics.iter().all(|d| !d.is_error()),
            "{example}: {diagnostics:?}"
        );
        assert_eq!(programs.len(), 1, "{example}: one namespace");
        let path = format!("imported {example}");
        let (_, compilation) = mesh::compile_text("imported.mesh", &programs[0].text);
        assert!(
            !compilation.has_errors(),
            "{path}:\n{}\n{:?}",
            programs[0].text,
            compilation.diagnostics
        );
        reproduced += reproduces(&path, &compilation, references);
    }
    // Every manifest of the guide but 13: 23 files (27 with 04 again, as the subsets of 03,
    // 10, 19 and 20).
    assert_eq!(reproduced, 27);
}

/// `value` with every number as a float: as data, `100` and `100.0` are the same number (a
/// percentage Istio reads as a double).
fn numbers_as_floats(value: Value) -> Value {
    match value {
        Value::Number(n) => n.as_f64().map_or(Value::Number(n), Value::from),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The same round trip on a corpus of realistic manifests (`tests/data/import/`): each file is
/// imported, built, and every object of the file comes back as data, and nothing else.
#[test]
fn importing_the_corpus_gives_it_back() {
    let mut objects = 0;
    let dir = mesh::repo_root().join("tests/data/import");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/import exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let path = file.display().to_string();
        let (programs, diagnostics) = meshc::import::import_stream(0, &text);
        assert!(
            diagnostics.iter().all(|d| !d.is_error()),
            "{path}: {diagnostics:?}"
        );
        let mut emitted = Vec::new();
        for program in &programs {
            // Imported HTTPRoutes attached to Services say which target builds them back.
            let gamma = program
                .text
                .starts_with("// Build with `meshc build --target gateway-api`");
            let options = meshc::target::Options {
                target: if gamma {
                    meshc::target::Target::GatewayApi
                } else {
                    meshc::target::Target::Istio
                },
                ..meshc::target::Options::default()
            };
            let mut sources = meshc::SourceMap::new();
            sources.add("imported.mesh", &program.text);
            let compilation = meshc::compile_with(&mut sources, options);
            assert!(
                !compilation.has_errors(),
                "{path}:\n{}\n{:?}",
                program.text,
                compilation.diagnostics
            );
            emitted.extend(
                mesh::manifests_as_data(&compilation)
                    .into_iter()
                    .map(without_managed_by),
            );
        }
        let inputs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("the corpus parses");
        for input in &inputs {
            let position = emitted.iter().position(|m| key(m) == key(input));
            let position = position.unwrap_or_else(|| panic!("{path}: {:?} not built", key(input)));
            let built = numbers_as_floats(emitted.remove(position));
            let input = numbers_as_floats(input.clone());
            assert_eq!(built, input, "{path}: {:?}", key(&input));
            objects += 1;
        }
        assert!(emitted.is_empty(), "{path}: more was built: {emitted:?}");
    }
    assert_eq!(objects, 17, "the objects of the corpus");
}
