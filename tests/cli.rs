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
