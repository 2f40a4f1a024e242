//! End-to-end runs of the `meshc` binary: output streams, exit statuses, `-o DIR`, `explain`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::mesh::repo_root;

fn meshc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshc"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("meshc runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meshc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    path.to_string_lossy().into_owned()
}

const BROKEN: &str = "namespace team1
service research-agent {
  subset v1 (version = v1)
}
route research-agnet -> v1 100%
route research-agent -> v3 100% timeout 5
route research-agent retry 3 on 5xx, rest
";

#[test]
fn build_prints_the_manifest_and_exits_0() {
    let output = meshc(&["build", "examples/seed/05-vs-retries.mesh"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).starts_with("apiVersion: networking.istio.io/v1\nkind: VirtualService\n")
    );
    // The guide's manifest gets the guide's own advice as warnings, and nothing else.
    for lint in ["warning[W0101]", "warning[W0102]", "warning[W0103]"] {
        assert!(
            stderr(&output).contains(lint),
            "{lint}: {}",
            stderr(&output)
        );
    }
    assert!(!stderr(&output).contains("error"));
    // Allowed on the command line, they are gone.
    let quiet = meshc(&[
        "build",
        "-A",
        "missing-timeout",
        "-A",
        "missing-circuit-breaker",
        "--allow",
        "retry-non-idempotent",
        "examples/seed/05-vs-retries.mesh",
    ]);
    assert_eq!(stderr(&quiet), "");
    assert_eq!(stdout(&quiet), stdout(&output));
    // Denied, one of them fails the build.
    let denied = meshc(&[
        "build",
        "-D",
        "retry-non-idempotent",
        "examples/seed/05-vs-retries.mesh",
    ]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(stderr(&denied).contains("error[W0103]"));
    assert_eq!(stdout(&denied), "");
    // An unknown lint is a usage error, with a suggestion.
    let unknown = meshc(&[
        "build",
        "-A",
        "missing-timeouts",
        "examples/seed/05-vs-retries.mesh",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("did you mean `missing-timeout`?"));
}

#[test]
fn warnings_go_to_stderr_and_deny_warnings_fails() {
    let output = meshc(&[
        "build",
        "--color",
        "never",
        "examples/seed/21-dr-lb-least-conn.mesh",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("warning[W0001]"));
    assert!(stdout(&output).contains("LEAST_REQUEST"));

    let denied = meshc(&[
        "build",
        "--deny-warnings",
        "examples/seed/21-dr-lb-least-conn.mesh",
    ]);
    assert_eq!(denied.status.code(), Some(1));
    assert_eq!(
        stdout(&denied),
        "",
        "nothing is emitted when warnings are denied"
    );
}

#[test]
fn every_error_is_reported_at_its_line_and_exit_is_1() {
    let dir = scratch("errors");
    let file = write(&dir, "broken.mesh", BROKEN);
    let output = meshc(&["check", "--message-format", "json", &file]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let found: Vec<(String, u64)> = stderr(&output)
        .lines()
        .map(|line| {
            let value: serde_json::Value =
                serde_json::from_str(line).expect("one JSON object per line");
            for field in [
                "severity",
                "message",
                "file",
                "column",
                "end_line",
                "end_column",
                "labels",
                "help",
            ] {
                assert!(value.get(field).is_some(), "missing {field} in {line}");
            }
            (
                value["code"].as_str().unwrap().to_string(),
                value["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("W0102", 2),
        ("E0101", 5),
        ("E0102", 6),
        ("E0201", 6),
        ("W0101", 7),
        ("W0002", 7),
        ("E0203", 7),
    ];
    let expected: Vec<(String, u64)> = expected.iter().map(|(c, l)| (c.to_string(), *l)).collect();
    assert_eq!(found, expected);
}

#[test]
fn human_diagnostics_point_at_the_source() {
    let dir = scratch("human");
    let file = write(&dir, "broken.mesh", BROKEN);
    let output = meshc(&["build", "--color", "never", &file]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("error[E0101]: unknown service `research-agnet`"),
        "{text}"
    );
    assert!(
        text.contains("help: did you mean `research-agent`?"),
        "{text}"
    );
    assert!(text.contains("help: did you mean `reset`?"), "{text}");
    assert!(text.contains("broken.mesh:5:7"), "{text}");
}

#[test]
fn out_dir_gets_one_file_per_manifest() {
    let dir = scratch("out");
    let out = dir.join("manifests");
    // The platform has a canary: `--step 1` writes that one step, flat.
    let output = meshc(&[
        "build",
        "--step",
        "1",
        "examples/agents-platform.mesh",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "team1.deployment.code-agent-v1.yaml",
            "team1.deployment.orchestrator-agent-v1.yaml",
            "team1.deployment.research-agent-v1.yaml",
            "team1.deployment.research-agent-v2.yaml",
            "team1.destinationrule.code-agent.yaml",
            "team1.destinationrule.orchestrator-agent.yaml",
            "team1.destinationrule.research-agent.yaml",
            "team1.httproute.agent-routes.yaml",
            "team1.prometheusrule.research-agent-canary.yaml",
            "team1.service.code-agent.yaml",
            "team1.service.orchestrator-agent.yaml",
            "team1.service.research-agent.yaml",
            "team1.virtualservice.code-agent.yaml",
            "team1.virtualservice.orchestrator-agent.yaml",
            "team1.virtualservice.research-agent.yaml",
        ]
    );
    let text = std::fs::read_to_string(out.join("team1.virtualservice.code-agent.yaml")).unwrap();
    assert!(text.starts_with("apiVersion: networking.istio.io/v1\nkind: VirtualService\n"));
    // Nothing is left behind beside the output directory.
    let siblings = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(siblings, 1);
}

#[test]
fn resilience4j_properties_are_one_application_yaml() {
    let dir = scratch("r4j");
    let out = dir.join("config");
    let example = "examples/portable-client.mesh";
    let args = ["build", "--target", "resilience4j", example];
    let printed = meshc(&args);
    assert_eq!(printed.status.code(), Some(0), "{}", stderr(&printed));
    assert!(stdout(&printed).starts_with("resilience4j:\n  retry:\n"));
    let written = meshc(&[&args[..], &["-o", out.to_str().unwrap()]].concat());
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    let files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["application.yaml"]);
    let text = std::fs::read_to_string(out.join("application.yaml")).unwrap();
    assert_eq!(text, stdout(&printed));
    // What Resilience4j cannot express fails the build, and writes nothing.
    let failed = dir.join("failed");
    let output = meshc(&[
        "build",
        "--target",
        "resilience4j",
        "examples/portable.mesh",
        "-o",
        failed.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("error[E0401]"),
        "{}",
        stderr(&output)
    );
    assert!(!failed.exists());
}

#[test]
fn validate_reports_rejected_fields_at_their_lines() {
    let dir = scratch("validate");
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n\
         spec:\n  hosts:\n  - reviews\n  http:\n  - route:\n    - destination:\n        host: reviews\n\
         \x20   retries:\n      attemps: 3\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    )
    .unwrap();
    let output = meshc(&["validate", "--color", "never", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains(
            "error[E0501]: VirtualService `reviews`: spec.http[0].retries.attemps: unknown field"
        ),
        "{text}"
    );
    assert!(text.contains("bad.yaml:13:7"), "{text}");
    assert!(text.contains("note[N0003]"), "{text}");
    assert!(
        text.contains("1 manifest in 1 file checked: 1 error"),
        "{text}"
    );
    // What meshc emits is valid; a directory is searched for YAML files.
    let good = dir.join("good");
    std::fs::create_dir(&good).unwrap();
    let platform =
        std::fs::read_to_string(repo_root().join("examples/agents-platform.expected.yaml"))
            .unwrap();
    std::fs::write(good.join("platform.yml"), platform).unwrap();
    let output = meshc(&["validate", good.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("15 manifests in 1 file checked: 0 errors"));
    // No YAML in a directory, or a missing file: usage errors.
    let empty = dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(
        meshc(&["validate", empty.to_str().unwrap()]).status.code(),
        Some(2)
    );
    let missing = dir.join("missing.yaml");
    assert_eq!(
        meshc(&["validate", missing.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn fmt_rewrites_files_and_check_lists_them() {
    let dir = scratch("fmt");
    let messy = dir.join("messy.mesh");
    let text = "namespace team1\n@allow(missing-circuit-breaker)\nservice web {   port 8080 }  // the shop\n\n\n\nroute web   timeout 5s\n";
    std::fs::write(&messy, text).unwrap();
    let broken = dir.join("broken.mesh");
    std::fs::write(&broken, "namespace team1\nroute web ->\n").unwrap();
    // A syntax error anywhere: reported, and nothing is written.
    let output = meshc(&["fmt", messy.to_str().unwrap(), broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("error[E0001]"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), text);
    std::fs::remove_file(&broken).unwrap();
    // `--check` lists what would change and writes nothing.
    let output = meshc(&["fmt", "--check", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output).trim(), messy.to_str().unwrap());
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), text);
    // `fmt` rewrites it; then it is clean, and nothing else is left in the directory.
    let output = meshc(&["fmt", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "namespace team1\n@allow(missing-circuit-breaker)\nservice web { port 8080 }  // the shop\n\nroute web timeout 5s\n"
    );
    assert_eq!(
        meshc(&["fmt", "--check", dir.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn import_prints_the_program_and_writes_one_file_per_namespace() {
    let dir = scratch("import");
    let seed = |n: &str| {
        std::fs::read_to_string(repo_root().join(format!("tests/data/seed/{n}.yaml"))).unwrap()
    };
    let input = dir.join("in.yaml");
    std::fs::write(
        &input,
        format!(
            "{}\n---\n{}",
            seed("03-vs-header-subset-routing"),
            seed("04-dr-subsets")
        ),
    )
    .unwrap();
    let output = meshc(&["import", input.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "namespace team1\n\nservice research-agent {\n  routes named research-agent-vs\n  policy named research-agent-dr\n  subset v1 (version = v1)\n  subset v2 (version = v2)\n}\nroute research-agent when header x-user-type = \"beta-tester\" -> v2 100%\nroute research-agent -> v1 100%\n"
    );
    let out = dir.join("mesh");
    let output = meshc(&[
        "import",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(out.join("team1.mesh")).unwrap(),
        stdout(&meshc(&["import", input.to_str().unwrap()]))
    );
    // The two objects in two files of a directory are one input.
    let split = dir.join("split");
    std::fs::create_dir(&split).unwrap();
    std::fs::write(split.join("vs.yaml"), seed("03-vs-header-subset-routing")).unwrap();
    std::fs::write(split.join("dr.yml"), seed("04-dr-subsets")).unwrap();
    let output = meshc(&["import", split.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        stdout(&meshc(&["import", input.to_str().unwrap()]))
    );
    // A VirtualService alone, routing to undeclared subsets: an error, nothing printed.
    let alone = dir.join("alone.yaml");
    std::fs::write(&alone, seed("03-vs-header-subset-routing")).unwrap();
    let output = meshc(&["import", alone.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("error[E0503]"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn out_dir_is_not_touched_when_there_are_errors() {
    let dir = scratch("atomic");
    let broken = write(&dir, "broken.mesh", BROKEN);
    let good = "examples/seed/05-vs-retries.mesh";
    let out = dir.join("manifests");
    let output = meshc(&["build", good, &broken, "-o", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !out.exists(),
        "a failed build must not create the output directory"
    );
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1, "only the input file remains");
}

#[test]
fn directories_are_searched_for_mesh_files() {
    let dir = scratch("dir");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    write(
        &dir,
        "services.mesh",
        "namespace team1\nservice web {\n  subset v1 (version = v1)\n}\n",
    );
    write(
        &dir.join("sub"),
        "routes.mesh",
        "namespace team1\nroute web -> v1 100% timeout 5s\n",
    );
    write(&dir, "notes.txt", "not a mesh file");
    let output = meshc(&["build", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("kind: DestinationRule") && text.contains("kind: VirtualService"),
        "{text}"
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let missing = meshc(&["build", "does/not/exist.mesh"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read `does/not/exist.mesh`"));
    assert_eq!(meshc(&["build"]).status.code(), Some(2));
    assert_eq!(
        meshc(&["build", "--message-format", "xml", "x.mesh"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(meshc(&["frobnicate"]).status.code(), Some(2));
    let dir = scratch("empty");
    assert_eq!(
        meshc(&["build", dir.to_str().unwrap()]).status.code(),
        Some(2)
    );
    let flavour = meshc(&[
        "build",
        "--linkerd-flavour",
        "service-profile",
        "examples/linkerd-profile.mesh",
    ]);
    assert_eq!(flavour.status.code(), Some(2));
    assert!(stderr(&flavour).contains("`--linkerd-flavour` applies to `--target linkerd` only"));
    let binary = dir.join("binary.mesh");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    let output = meshc(&["build", binary.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not UTF-8"));
}

#[test]
fn explain_lists_every_code_and_prints_pages() {
    let list = meshc(&["explain"]);
    assert_eq!(list.status.code(), Some(0));
    let lines: Vec<String> = stdout(&list).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), meshc::Code::ALL.len());
    for (line, code) in lines.iter().zip(meshc::Code::ALL) {
        let expected = match meshc::diagnostics::lints::name(*code) {
            Some(lint) => format!("{} {} [{lint}]", code.as_str(), code.summary()),
            None => format!("{} {}", code.as_str(), code.summary()),
        };
        assert_eq!(line, &expected);
    }
    let by_name = meshc(&["explain", "missing-timeout"]);
    assert_eq!(stdout(&by_name), meshc::Code::W0101.explanation());
    let page = meshc(&["explain", "E0102"]);
    assert_eq!(page.status.code(), Some(0));
    assert_eq!(stdout(&page), meshc::Code::E0102.explanation());
    assert!(stdout(&page).starts_with("# E0102"));
    let lower = meshc(&["explain", "e0102"]);
    assert_eq!(stdout(&lower), stdout(&page));
    assert_eq!(meshc(&["explain", "E9999"]).status.code(), Some(2));
}

#[test]
fn a_syntax_error_in_one_file_does_not_cascade_into_others() {
    let mut sources = meshc::SourceMap::new();
    sources.add(
        "services.mesh",
        "namespace team1\nservice web {\n  subset v1 (version v1)\n}\n",
    );
    sources.add(
        "routes.mesh",
        "namespace team1\nroute web -> v1 100% timeout 5\n",
    );
    let compilation = meshc::compile(&mut sources);
    let codes: Vec<&str> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.as_str())
        .collect();
    // The syntax error, and the real mistake in the other file; no "unknown service `web`".
    assert_eq!(codes, ["E0001", "E0201"]);
}

#[test]
fn canary_steps_are_chosen_with_step_and_all_written_with_out_dir() {
    let first = meshc(&["build", "examples/seed/canary.mesh"]);
    let step1 = meshc(&["build", "--step", "1", "examples/seed/canary.mesh"]);
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(
        stdout(&first),
        stdout(&step1),
        "without --step, the first step"
    );
    let step3 = meshc(&["build", "--step", "3", "examples/seed/canary.mesh"]);
    assert!(
        stdout(&step3).contains("subset: v2\n      weight: 100"),
        "{}",
        stdout(&step3)
    );
    assert!(!stdout(&step3).contains("subset: v1\n      weight"));
    let too_far = meshc(&["build", "--step", "4", "examples/seed/canary.mesh"]);
    assert_eq!(too_far.status.code(), Some(2));
    assert!(stderr(&too_far).contains("have 3 steps"));
    let no_canary = meshc(&["build", "--step", "1", "examples/seed/05-vs-retries.mesh"]);
    assert_eq!(no_canary.status.code(), Some(2));
    assert_eq!(
        meshc(&["build", "--step", "0", "examples/seed/canary.mesh"])
            .status
            .code(),
        Some(2)
    );

    let dir = scratch("steps");
    let out = dir.join("rollout");
    let written = meshc(&[
        "build",
        "examples/seed/canary.mesh",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    for step in 1..=3 {
        let expected = meshc(&[
            "build",
            "--step",
            &step.to_string(),
            "examples/seed/canary.mesh",
        ]);
        let stream = stdout(&expected);
        let documents: Vec<&str> = stream.split("\n---\n").map(str::trim_end).collect();
        let step_dir = out.join(format!("step-{step}"));
        let files: Vec<PathBuf> = std::fs::read_dir(&step_dir)
            .unwrap_or_else(|e| panic!("{}: {e}", step_dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        // Every object of `--step K`, each file one whole document of it.
        assert_eq!(files.len(), documents.len(), "step {step}: {files:?}");
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            assert!(
                documents.contains(&text.trim_end()),
                "{} is not a document of --step {step}:\n{text}",
                file.display()
            );
        }
        assert!(step_dir
            .join("team1.virtualservice.research-agent-canary.yaml")
            .exists());
    }
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        3,
        "exactly step-1, step-2, step-3"
    );
}

#[test]
fn test_compares_each_file_with_its_expectation() {
    let dir = scratch("test");
    let good = write(
        &dir,
        "good.mesh",
        "namespace team1\nservice web { }\nroute web timeout 10s\n",
    );
    write(&dir, "broken.mesh", BROKEN);
    let expected = dir.join("good.expected.yaml");
    let dir_arg = dir.to_string_lossy().into_owned();

    // No expectation yet: a failure that says how to write one.
    let first = meshc(&["test", &good]);
    assert_eq!(first.status.code(), Some(1));
    assert!(
        stdout(&first).contains("no expectation"),
        "{}",
        stdout(&first)
    );
    assert!(stdout(&first).contains("meshc test --update"));
    assert!(!expected.exists());

    // --update writes exactly what `meshc build` prints; a broken file fails and gets none.
    let update = meshc(&["test", "--update", &dir_arg]);
    assert_eq!(update.status.code(), Some(1), "{}", stdout(&update));
    assert!(stdout(&update).contains("broken.mesh ... FAILED: does not compile"));
    assert!(stderr(&update).contains("error[E"), "{}", stderr(&update));
    assert!(!dir.join("broken.expected.yaml").exists());
    let built = meshc(&["build", &good]);
    assert_eq!(std::fs::read_to_string(&expected).unwrap(), stdout(&built));

    // Now it passes.
    let pass = meshc(&["test", &good]);
    assert_eq!(pass.status.code(), Some(0), "{}", stdout(&pass));
    assert!(stdout(&pass).contains("good.mesh ... ok"));
    assert!(stdout(&pass).contains("test result: ok. 1 passed; 0 failed; 0 updated"));

    // A changed expectation fails with a diff: `-` expected, `+` output, nothing rewritten.
    let stale = stdout(&built).replace("timeout: 10s", "timeout: 20s");
    std::fs::write(&expected, &stale).unwrap();
    let diff = meshc(&["test", "--color", "never", &good]);
    assert_eq!(diff.status.code(), Some(1));
    let report = stdout(&diff);
    assert!(report.contains("good.mesh ... FAILED\n"), "{report}");
    assert!(
        report.contains("-    timeout: 20s\n+    timeout: 10s\n"),
        "{report}"
    );
    assert!(!report.contains('\u{1b}'), "no colour with --color never");
    assert_eq!(std::fs::read_to_string(&expected).unwrap(), stale);
    let coloured = meshc(&["test", "--color", "always", &good]);
    assert!(stdout(&coloured).contains('\u{1b}'));

    // --update rewrites a stale expectation with the output, and the next run passes.
    let rewrite = meshc(&["test", "--update", &good]);
    assert_eq!(rewrite.status.code(), Some(0), "{}", stdout(&rewrite));
    assert!(stdout(&rewrite).contains("0 passed; 0 failed; 1 updated"));
    assert_eq!(std::fs::read_to_string(&expected).unwrap(), stdout(&built));
    assert_eq!(meshc(&["test", &good]).status.code(), Some(0));

    // Usage errors, exit 2: an input that is not a .mesh file (its expectation could collide
    // with another's), a step the program does not have.
    let other = write(&dir, "good.txt", "namespace team1\n");
    let not_mesh = meshc(&["test", &other]);
    assert_eq!(not_mesh.status.code(), Some(2));
    assert!(
        stderr(&not_mesh).contains("takes .mesh files"),
        "{}",
        stderr(&not_mesh)
    );
    let step = meshc(&["test", "--step", "2", &good]);
    assert_eq!(step.status.code(), Some(2));
    assert!(
        stderr(&step).contains("`--step` needs a canary"),
        "{}",
        stderr(&step)
    );

    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs meshc with `dir` as the working directory.
fn meshc_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshc"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("meshc runs")
}

/// Writes `text` at `dir/relative`, creating the directories on the way.
fn write_at(dir: &Path, relative: &str, text: &str) -> String {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).expect("fixture directory");
    std::fs::write(&path, text).expect("write fixture");
    path.to_string_lossy().into_owned()
}

/// The tests that need "no project" fail for the wrong reason if a stray mesh.toml sits
/// above the temporary directory; say so instead.
fn assert_no_mesh_toml_above(dir: &Path) {
    let canonical = std::fs::canonicalize(dir).unwrap();
    if let Some(found) = canonical
        .ancestors()
        .map(|d| d.join("mesh.toml"))
        .find(|p| p.is_file())
    {
        panic!("a stray {} would be taken as the project", found.display());
    }
}

/// A service that no lint complains about.
/// A service that trips no lint (it has a pool and outlier detection).
const CLEAN_SERVICE: &str = "service web {
  pool { max connections 10 }
  eject { after 5 consecutive 5xx for 30s }
}
";

/// `CLEAN_SERVICE` under another name.
fn clean_service(name: &str) -> String {
    CLEAN_SERVICE.replacen("service web", &format!("service {name}"), 1)
}

/// A project in `dir` whose mesh.toml sets the namespace `team1`, with the policy module
/// `policies/common.mesh` (`COMMON`).
fn team_project(dir: &Path) {
    write_at(dir, "mesh.toml", "namespace = \"team1\"\n");
    write_at(dir, "policies/common.mesh", COMMON);
}

/// A policy-only module: no namespace, no services.
const COMMON: &str = "policy agent-call(timeout: duration = 30s) { timeout timeout }\n";

#[test]
fn mesh_toml_above_the_input_gives_the_namespace() {
    let dir = scratch("toml-namespace");
    let project = dir.join("proj");
    write_at(
        &project,
        "mesh.toml",
        "# the team's project\nnamespace = \"team1\"\n",
    );
    let program = format!("{CLEAN_SERVICE}route web timeout 10s\n");
    // Two directories below mesh.toml: found by walking up.
    let file = write_at(&project, "apps/web/web.mesh", &program);
    let output = meshc(&["build", &file]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let yaml = stdout(&output);
    assert!(yaml.contains("kind: VirtualService"), "{yaml}");
    assert!(yaml.contains("  namespace: team1\n"), "{yaml}");
    assert!(!stderr(&output).contains("E0105"), "{}", stderr(&output));

    // A file's own `namespace` line wins over mesh.toml's.
    let own = write_at(
        &project,
        "apps/other.mesh",
        &format!("namespace team2\n{program}"),
    );
    let output = meshc(&["build", &own]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("  namespace: team2\n"));
    assert!(!stdout(&output).contains("team1"));

    // The same file outside any project declares no namespace.
    let loose_dir = dir.join("loose");
    let loose = write_at(&loose_dir, "web.mesh", &program);
    assert_no_mesh_toml_above(&loose_dir);
    let output = meshc(&["build", &loose]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("error[E0105]"),
        "{}",
        stderr(&output)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mesh_toml_lint_levels_apply_and_the_command_line_overrides_them() {
    let dir = scratch("toml-lints");
    write_at(&dir, "mesh.toml", "[lints]\nmissing-timeout = \"deny\"\n");
    let file = write_at(
        &dir,
        "routes.mesh",
        "namespace team1
service web {
  subset v1 (version = v1)
  pool { max connections 10 }
  eject { after 5 consecutive 5xx for 30s }
}
route web -> v1 100%
",
    );

    let denied = meshc(&["check", &file]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        stderr(&denied).contains("error[W0101]"),
        "{}",
        stderr(&denied)
    );
    let build = meshc(&["build", &file]);
    assert_eq!(build.status.code(), Some(1));
    assert_eq!(stdout(&build), "", "nothing is emitted on a denied lint");

    // The command line applies after mesh.toml.
    let allowed = meshc(&["check", "-A", "missing-timeout", &file]);
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    assert!(!stderr(&allowed).contains("W0101"), "{}", stderr(&allowed));
    let warned = meshc(&["check", "--warn", "missing-timeout", &file]);
    assert_eq!(warned.status.code(), Some(0), "{}", stderr(&warned));
    assert!(
        stderr(&warned).contains("warning[W0101]"),
        "{}",
        stderr(&warned)
    );

    // `deny-warnings = true` denies every lint that still warns.
    write_at(&dir, "mesh.toml", "deny-warnings = true\n");
    let denied = meshc(&["check", &file]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        stderr(&denied).contains("error[W0101]"),
        "{}",
        stderr(&denied)
    );
    let allowed = meshc(&["check", "-A", "missing-timeout", &file]);
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    // A program without warnings is not affected.
    let clean = write_at(
        &dir,
        "clean.mesh",
        &format!("namespace team1\n{CLEAN_SERVICE}route web timeout 10s\n"),
    );
    let output = meshc(&["build", &clean]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    assert!(stdout(&output).contains("timeout: 10s"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mesh_toml_target_is_the_default_and_dash_dash_target_overrides_it() {
    let dir = scratch("toml-target");
    write_at(&dir, "mesh.toml", "target = \"gateway-api\"\n");
    let file = write_at(
        &dir,
        "web.mesh",
        "namespace team1\nservice web { port 8080 }\nroute web timeout 10s\n",
    );
    let gateway = meshc(&["build", &file]);
    assert_eq!(gateway.status.code(), Some(0), "{}", stderr(&gateway));
    let yaml = stdout(&gateway);
    assert!(
        yaml.starts_with("apiVersion: gateway.networking.k8s.io/")
            && yaml.contains("kind: HTTPRoute\n"),
        "{yaml}"
    );
    assert!(!yaml.contains("VirtualService"), "{yaml}");

    let istio = meshc(&["build", "--target", "istio", &file]);
    assert_eq!(istio.status.code(), Some(0), "{}", stderr(&istio));
    let yaml = stdout(&istio);
    assert!(yaml.contains("kind: VirtualService\n"), "{yaml}");
    assert!(!yaml.contains("HTTPRoute"), "{yaml}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mesh_toml_out_dir_is_where_build_writes_without_dash_o() {
    let dir = scratch("toml-out-dir");
    write_at(
        &dir,
        "mesh.toml",
        "namespace = \"team1\"\nout-dir = \"deploy\"\n",
    );
    let file = write_at(
        &dir,
        "src/web.mesh",
        &format!("{CLEAN_SERVICE}route web timeout 10s\n"),
    );
    let deploy = dir.join("deploy");
    let expected = [
        "team1.destinationrule.web.yaml",
        "team1.virtualservice.web.yaml",
    ];
    let listing = |path: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    // From outside the project, by an absolute path.
    let output = meshc(&["build", &file]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(listing(&deploy), expected);
    let written = std::fs::read_to_string(deploy.join("team1.virtualservice.web.yaml")).unwrap();
    assert!(written.contains("timeout: 10s"), "{written}");

    // From inside a subdirectory: still relative to the root, not to the working directory.
    std::fs::remove_dir_all(&deploy).unwrap();
    let output = meshc_in(&dir.join("src"), &["build", "web.mesh"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(listing(&deploy), expected);
    assert!(!dir.join("src/deploy").exists());

    // `-o -` prints instead, and writes nothing.
    std::fs::remove_dir_all(&deploy).unwrap();
    let output = meshc(&["build", "-o", "-", &file]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("timeout: 10s"));
    assert!(!deploy.exists(), "`-o -` writes no files");
    // `check` writes nothing either.
    assert_eq!(meshc(&["check", &file]).status.code(), Some(0));
    assert!(!deploy.exists(), "`check` writes no files");
    assert_eq!(listing(&dir), ["mesh.toml", "src"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_mesh_toml_is_a_usage_error_naming_its_line() {
    let cases = [
        (
            "namespace = team1\n",
            "mesh.toml:1: `team1`: a value is a string in double quotes",
        ),
        (
            "# settings\nnamspace = \"team1\"\n",
            "mesh.toml:2: unknown setting `namspace`",
        ),
        (
            "[lints]\n\nmissing-timout = \"deny\"\n",
            "mesh.toml:3: unknown lint `missing-timout`; did you mean `missing-timeout`?",
        ),
    ];
    for (index, (toml, message)) in cases.into_iter().enumerate() {
        let dir = scratch(&format!("bad-toml-{index}"));
        write_at(&dir, "mesh.toml", toml);
        let file = write_at(
            &dir,
            "src/web.mesh",
            &format!("namespace team1\n{CLEAN_SERVICE}route web timeout 10s\n"),
        );
        for command in ["build", "check", "test"] {
            let output = meshc(&[command, &file]);
            assert_eq!(output.status.code(), Some(2), "{command} with {toml:?}");
            assert_eq!(stdout(&output), "", "{command} with {toml:?}");
            let text = stderr(&output);
            assert!(text.contains(message), "{command} with {toml:?}: {text}");
            assert!(
                !text.contains("error["),
                "the program is not compiled: {text}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn imports_are_read_from_the_project() {
    let dir = scratch("import-files");
    team_project(&dir);
    let main = write_at(
        &dir,
        "main.mesh",
        &format!(
            "import \"./policies/common.mesh\"\n{CLEAN_SERVICE}route web use common.agent-call(timeout = 10s)\n"
        ),
    );
    let output = meshc(&["build", &main]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let yaml = stdout(&output);
    assert!(yaml.contains("kind: VirtualService\n"), "{yaml}");
    assert!(yaml.contains("    timeout: 10s\n"), "{yaml}");

    // From a subdirectory, `..` may climb as far as the root; the default argument applies.
    let nested = write_at(
        &dir,
        "apps/api.mesh",
        &format!(
            "import \"../policies/common.mesh\"\n{}route api use common.agent-call()\n",
            clean_service("api")
        ),
    );
    let output = meshc(&["build", &nested]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("    timeout: 30s\n"),
        "{}",
        stdout(&output)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_import_of_a_missing_file_is_e0110() {
    let dir = scratch("import-missing");
    team_project(&dir);
    let main = write_at(
        &dir,
        "main.mesh",
        &format!(
            "import \"./policies/comon.mesh\"\n{CLEAN_SERVICE}route web use comon.agent-call()\n"
        ),
    );
    let output = meshc(&["build", "--color", "never", &main]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let text = stderr(&output);
    assert!(
        text.contains("error[E0110]: cannot import `./policies/comon.mesh`: no such file"),
        "{text}"
    );
    assert!(text.contains("main.mesh:1:8"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_import_may_not_leave_the_project_root() {
    let dir = scratch("import-escape");
    // The file exists and is a valid module: only the root can make the import fail.
    write_at(&dir, "outside.mesh", COMMON);
    let project = dir.join("proj");
    write_at(&project, "mesh.toml", "namespace = \"team1\"\n");
    let main = write_at(
        &project,
        "main.mesh",
        &format!("import \"../outside.mesh\"\n{CLEAN_SERVICE}route web use outside.agent-call()\n"),
    );
    let output = meshc(&["build", "--color", "never", &main]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let text = stderr(&output);
    assert!(
        text.contains(
            "error[E0110]: cannot import `../outside.mesh`: the path leaves the project root"
        ),
        "{text}"
    );
    assert!(!text.contains("no such file"), "{text}");

    // The same import, with the project root one level up, is fine.
    std::fs::rename(project.join("mesh.toml"), dir.join("mesh.toml")).unwrap();
    let output = meshc(&["build", &main]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("timeout: 30s"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_out_of_the_project_is_refused() {
    let dir = scratch("import-symlink");
    let outside = write_at(&dir, "outside/common.mesh", COMMON);
    let project = dir.join("proj");
    write_at(&project, "mesh.toml", "namespace = \"team1\"\n");
    std::os::unix::fs::symlink(&outside, project.join("common.mesh")).unwrap();
    let main = write_at(
        &project,
        "main.mesh",
        &format!("import \"./common.mesh\"\n{CLEAN_SERVICE}route web use common.agent-call()\n"),
    );
    let output = meshc(&["build", "--color", "never", &main]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let text = stderr(&output);
    assert!(text.contains("error[E0110]"), "{text}");
    assert!(text.contains("outside the project root"), "{text}");

    // A link that stays inside the project is followed.
    write_at(&project, "policies/real.mesh", COMMON);
    std::fs::remove_file(project.join("common.mesh")).unwrap();
    std::os::unix::fs::symlink(
        project.join("policies/real.mesh"),
        project.join("common.mesh"),
    )
    .unwrap();
    let output = meshc(&["build", &main]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("timeout: 30s"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn test_checks_a_policy_module_without_an_expectation() {
    let dir = scratch("test-module");
    assert_no_mesh_toml_above(&dir);
    write_at(&dir, "common.mesh", COMMON);
    write_at(
        &dir,
        "main.mesh",
        &format!(
            "namespace team1\nimport \"./common.mesh\"\n{CLEAN_SERVICE}route web use common.agent-call(timeout = 10s)\n"
        ),
    );
    let dir_arg = dir.to_string_lossy().into_owned();
    let module_ok = "common.mesh ... ok (checked; no output, no expectation)\n";

    let first = meshc(&["test", "--color", "never", &dir_arg]);
    assert_eq!(first.status.code(), Some(1), "{}", stdout(&first));
    let report = stdout(&first);
    assert!(report.contains(module_ok), "{report}");
    assert!(
        report.contains("main.mesh ... FAILED: no expectation"),
        "{report}"
    );
    assert!(report.contains("1 passed; 1 failed; 0 updated"), "{report}");

    let update = meshc(&["test", "--update", "--color", "never", &dir_arg]);
    assert_eq!(update.status.code(), Some(0), "{}", stdout(&update));
    let report = stdout(&update);
    assert!(report.contains(module_ok), "{report}");
    assert!(report.contains("1 passed; 0 failed; 1 updated"), "{report}");
    assert!(
        !dir.join("common.expected.yaml").exists(),
        "a module gets no expectation"
    );
    let expectation = std::fs::read_to_string(dir.join("main.expected.yaml")).unwrap();
    assert!(expectation.contains("timeout: 10s"), "{expectation}");

    let pass = meshc(&["test", "--color", "never", &dir_arg]);
    assert_eq!(pass.status.code(), Some(0), "{}", stdout(&pass));
    let report = stdout(&pass);
    assert!(report.contains(module_ok), "{report}");
    assert!(report.contains("main.mesh ... ok\n"), "{report}");
    assert!(
        report.contains("test result: ok. 2 passed; 0 failed; 0 updated"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn test_resolves_imports_like_build_without_a_mesh_toml() {
    // The layout of the book's "Testing a policy library", without a mesh.toml.
    let dir = scratch("test-library");
    assert_no_mesh_toml_above(&dir);
    write_at(&dir, "policies/common.mesh", COMMON);
    write_at(
        &dir,
        "tests/case.mesh",
        &format!(
            "namespace team1\nimport \"../policies/common.mesh\"\n{CLEAN_SERVICE}route web use common.agent-call(timeout = 10s)\n"
        ),
    );
    let policies = dir.join("policies").to_string_lossy().into_owned();
    let tests = dir.join("tests").to_string_lossy().into_owned();
    // `meshc build policies tests` compiles: the root holds both directories.
    let build = meshc(&["build", &policies, &tests]);
    assert_eq!(build.status.code(), Some(0), "{}", stderr(&build));
    let update = meshc(&["test", "--update", &policies, &tests]);
    assert!(!stderr(&update).contains("E0110"), "{}", stderr(&update));
    assert_eq!(update.status.code(), Some(0), "{}", stdout(&update));
    assert_eq!(
        std::fs::read_to_string(dir.join("tests/case.expected.yaml")).unwrap(),
        stdout(&build)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inputs_of_one_build_belong_to_one_project() {
    let dir = scratch("one-project");
    let project = dir.join("a/proj");
    write_at(&project, "mesh.toml", "namespace = \"team1\"\n");
    let inside = write_at(
        &project,
        "web.mesh",
        &format!("{CLEAN_SERVICE}route web timeout 10s\n"),
    );
    let outside = write_at(
        &dir,
        "b/api.mesh",
        &format!(
            "namespace team1\n{}route api timeout 10s\n",
            clean_service("api")
        ),
    );
    // Either order on the command line: the inputs are sorted, `a/...` is first.
    for args in [[inside.as_str(), &outside], [&outside, &inside]] {
        for command in ["build", "check"] {
            let output = meshc(&[command, args[0], args[1]]);
            assert_eq!(output.status.code(), Some(2), "{command} {args:?}");
            assert_eq!(stdout(&output), "");
            let text = stderr(&output);
            assert!(text.contains("api.mesh` is outside the project"), "{text}");
            assert!(!text.contains("error["), "nothing is compiled: {text}");
        }
    }
    // Another file of the same project is fine.
    let sibling = write_at(
        &project,
        "sub/api.mesh",
        &format!("{}route api timeout 10s\n", clean_service("api")),
    );
    let output = meshc(&["build", &inside, &sibling]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("name: api\n"));
    assert!(stdout(&output).contains("name: web\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_later_inputs_mesh_toml_is_not_silently_ignored() {
    let dir = scratch("later-project");
    assert_no_mesh_toml_above(&dir);
    write_at(
        &dir,
        "a/web.mesh",
        &format!("namespace team1\n{CLEAN_SERVICE}route web timeout 10s\n"),
    );
    // `b/proj` is a project whose mesh.toml gives api.mesh its namespace.
    write_at(&dir, "b/proj/mesh.toml", "namespace = \"team1\"\n");
    write_at(
        &dir,
        "b/proj/api.mesh",
        &format!("{}route api timeout 10s\n", clean_service("api")),
    );
    let a = dir.join("a/web.mesh").to_string_lossy().into_owned();
    let b = dir.join("b/proj/api.mesh").to_string_lossy().into_owned();
    // The inputs are in two projects, as when `b/proj/api.mesh` sorts first (exit 2); they
    // must not be compiled with b/proj's mesh.toml dropped (today: E0105, exit 1).
    let output = meshc(&["check", &a, &b]);
    assert!(!stderr(&output).contains("E0105"), "{}", stderr(&output));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("project"), "{}", stderr(&output));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same files give byte-identical YAML whatever the order of the arguments, named one by
/// one or through their directory, on every run.
#[test]
fn output_does_not_depend_on_argument_order() {
    let dir = scratch("order");
    let files = [
        write_at(
            &dir,
            "b-services.mesh",
            "namespace team1\nservice api {\n  subset v1 (version = v1)\n  subset v2 (version = v2)\n  pool { max connections 10 }\n}\nservice web { pool { max connections 10 } }\n",
        ),
        write_at(
            &dir,
            "a-routes.mesh",
            "namespace team1\nroute api when header x-beta = \"1\" -> v2 timeout 5s\nroute web timeout 3s\n",
        ),
        write_at(
            &dir,
            "c/more-routes.mesh",
            "namespace team1\nroute api -> v1 90%, v2 10% timeout 10s\n",
        ),
        write_at(
            &dir,
            "team2.mesh",
            "namespace team2\nservice billing { pool { max connections 10 } }\nroute billing timeout 2s\n",
        ),
    ];
    let first = meshc(&["build", &files[0], &files[1], &files[2], &files[3]]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let expected = stdout(&first);
    assert!(
        expected.matches("kind: VirtualService").count() == 3,
        "{expected}"
    );
    let orders = [[3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]];
    for order in orders {
        let args: Vec<&str> = std::iter::once("build")
            .chain(order.iter().map(|&i| files[i].as_str()))
            .collect();
        assert_eq!(stdout(&meshc(&args)), expected, "order {order:?}");
    }
    let dir_arg = dir.display().to_string();
    for _ in 0..3 {
        assert_eq!(
            stdout(&meshc(&["build", &dir_arg])),
            expected,
            "by directory"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Bad input and limits: a diagnostic (exit 1) or a usage/I-O error (exit 2), never a crash.

/// Runs `meshc build FILE` on `text` written into a scratch file.
fn build_text(test: &str, text: &[u8]) -> Output {
    let dir = scratch(test);
    let path = dir.join("input.mesh");
    std::fs::write(&path, text).expect("write input");
    meshc(&["build", path.to_str().unwrap()])
}

/// Exit 1 with exactly one error, of `code`, and a short report.
fn assert_one_error(output: &Output, code: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("error[").count(), 1, "{err}");
    assert!(err.contains(&format!("error[{code}]")), "{err}");
    assert!(err.len() < 4_000, "report of {} bytes", err.len());
    assert!(output.stdout.is_empty());
}

#[test]
fn deep_nesting_is_a_syntax_error_not_a_stack_overflow() {
    let braces = format!("namespace t\nservice a {}", "{ ".repeat(200_000));
    assert_one_error(&build_text("deep-braces", braces.as_bytes()), "E0001");
    let parens = format!(
        "namespace t\nservice a {{ subset v1 {} }}",
        "(".repeat(200_000)
    );
    assert_one_error(&build_text("deep-parens", parens.as_bytes()), "E0001");
}

#[test]
fn a_very_long_line_and_name_get_a_short_report() {
    // A one-line file of 1 MB: the report shows the line cut short, not a megabyte.
    let name = "a".repeat(1_000_000);
    let text = format!("namespace t service {name} {{ }}");
    assert_one_error(&build_text("long-line", text.as_bytes()), "E0205");
}

#[test]
fn nul_bytes_are_named_in_the_syntax_error() {
    let output = build_text("nul", b"namespace t\nservice a { }\x00\n");
    assert_one_error(&output, "E0001");
    assert!(
        stderr(&output).contains("a NUL byte"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn crlf_line_ends_and_a_byte_order_mark_compile_like_plain_text() {
    let text =
        "namespace team1\nservice web {\n  pool { max connections 10 }\n}\nroute web timeout 5s\n";
    let plain = build_text("plain", text.as_bytes());
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let crlf = build_text("crlf", text.replace('\n', "\r\n").as_bytes());
    assert_eq!(crlf.status.code(), Some(0), "{}", stderr(&crlf));
    assert_eq!(stdout(&crlf), stdout(&plain));
    let bom = build_text("bom", format!("\u{feff}{text}").as_bytes());
    assert_eq!(bom.status.code(), Some(0), "{}", stderr(&bom));
    assert_eq!(stdout(&bom), stdout(&plain));
}

#[test]
fn a_directory_of_thousands_of_files_compiles_like_one_file() {
    // Enough text (over 256 KiB) that the files are parsed on several threads.
    let dir = scratch("thousands");
    let count = 3_000;
    let mut names: Vec<String> = (0..count).map(|i| format!("svc-{i}")).collect();
    names.sort();
    let service = |name: &str| {
        format!("service {name} {{\n  pool {{ max connections 10 }}\n}}\nroute {name} timeout 5s\n")
    };
    let mut whole = String::from("namespace team1\n");
    for name in &names {
        write(
            &dir,
            &format!("{name}.mesh"),
            &format!("namespace team1\n{}", service(name)),
        );
        whole.push_str(&service(name));
    }
    let output = meshc(&["build", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let yaml = stdout(&output);
    assert_eq!(yaml.matches("kind: VirtualService").count(), count);
    assert_eq!(yaml.matches("kind: DestinationRule").count(), count);
    let one = scratch("thousands-in-one");
    let single = meshc(&["build", &write(&one, "all.mesh", &whole)]);
    assert_eq!(single.status.code(), Some(0), "{}", stderr(&single));
    assert!(
        stdout(&single) == yaml,
        "a directory and one file give different YAML"
    );
    // Written to stdout a piece at a time (3,000 services is several pieces), the stream is
    // the library's, byte for byte.
    let (_, compilation) = support::mesh::compile_text("all.mesh", &whole);
    assert!(yaml == meshc::emit::yaml::stream(&compilation.manifests()));
}

#[cfg(unix)]
#[test]
fn unreadable_inputs_exit_2() {
    let dir = scratch("unreadable");
    // A link to nowhere, named like an input.
    std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("gone.mesh")).unwrap();
    let output = meshc(&["build", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );
    std::fs::remove_file(dir.join("gone.mesh")).unwrap();

    // A link back up the tree is not followed (it would never end).
    write(
        &dir,
        "web.mesh",
        &format!("namespace team1\n{}", clean_service("web")),
    );
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("sub/loop")).unwrap();
    let output = meshc(&["build", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // A file without read permission; root reads it anyway, so only check where it is refused.
    let secret = write(&dir, "secret.mesh", "namespace team1\n");
    set_mode(Path::new(&secret), 0o000);
    if std::fs::read(&secret).is_err() {
        let output = meshc(&["build", &secret]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("cannot read"),
            "{}",
            stderr(&output)
        );
    }
    set_mode(Path::new(&secret), 0o644);
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn output_that_cannot_be_written_exits_2_and_leaves_nothing_behind() {
    let dir = scratch("unwritable");
    let input = write(
        &dir,
        "web.mesh",
        &format!("namespace team1\n{}", clean_service("web")),
    );
    let leftovers = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    // Under a regular file: no directory can be made there, not even by root.
    let blocker = write(&dir, "blocker", "not a directory");
    let out = format!("{blocker}/out");
    let output = meshc(&["build", &input, "-o", &out]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write"),
        "{}",
        stderr(&output)
    );
    assert_eq!(leftovers(&dir), ["blocker", "web.mesh"]);

    // A missing directory, several levels deep, is created.
    let nested = dir.join("a/b/out");
    let output = meshc(&["build", &input, "-o", nested.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(leftovers(&nested), ["team1.destinationrule.web.yaml"]);

    // A read-only directory (where permissions apply: not for root).
    let locked = dir.join("locked");
    std::fs::create_dir(&locked).unwrap();
    set_mode(&locked, 0o555);
    if std::fs::write(locked.join("probe"), "").is_err() {
        let output = meshc(&["build", &input, "-o", locked.join("out").to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(leftovers(&locked).is_empty());
    }
    set_mode(&locked, 0o755);
}

#[test]
fn the_retry_budget_lint_obeys_allow_warn_and_deny() {
    // W0104 is skipped before it is written when silenced: every level still behaves.
    let dir = scratch("retry-budget");
    let route = "route web retry 3 per try 5s on 503 timeout 15s\n";
    let plain =
        format!("namespace team1\n@allow(missing-circuit-breaker)\nservice web {{ }}\n{route}");
    let allowed = plain.replace("route web", "@allow(retry-budget)\nroute web");
    let plain = write(&dir, "plain.mesh", &plain);
    let allowed = write(&dir, "allowed.mesh", &allowed);
    let run = |args: &[&str], path: &str| {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        all.push(path);
        let output = meshc(&all);
        (output.status.code(), stderr(&output))
    };
    let (code, err) = run(&[], &plain);
    assert_eq!(code, Some(0));
    assert!(err.contains("warning[W0104]"), "{err}");
    let (code, err) = run(&["-A", "retry-budget"], &plain);
    assert_eq!((code, err.contains("W0104")), (Some(0), false), "{err}");
    let (code, err) = run(&["-D", "retry-budget"], &plain);
    assert_eq!(code, Some(1));
    assert!(err.contains("error[W0104]"), "{err}");
    // `@allow` on the route wins over `-D` for the run.
    let (code, err) = run(&["-D", "retry-budget"], &allowed);
    assert_eq!((code, err.contains("W0104")), (Some(0), false), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_linkerd_flavour_flag_chooses_service_profiles() {
    let args = [
        "build",
        "--target",
        "linkerd",
        "examples/linkerd-profile.mesh",
    ];
    let routes = meshc(&args);
    assert_eq!(routes.status.code(), Some(0), "{}", stderr(&routes));
    assert!(stdout(&routes).contains("kind: HTTPRoute"));
    assert!(!stdout(&routes).contains("kind: ServiceProfile"));
    let mut args = args.to_vec();
    args.splice(3..3, ["--linkerd-flavour", "service-profile"]);
    let profiles = meshc(&args);
    assert_eq!(profiles.status.code(), Some(0), "{}", stderr(&profiles));
    assert_eq!(stdout(&profiles).matches("kind: ServiceProfile").count(), 2);
    assert!(!stdout(&profiles).contains("kind: HTTPRoute"));
}
