//! Diagnostics: one failing program per file in `tests/fixtures/err/`, each snapshotted as
//! rendered for a terminal (`tests/snapshots/diagnostics__fixtures@*.snap`).
//!
//! A fixture is named `CODE_what.mesh`: compiling it must report `CODE` (and, for an error code,
//! emit nothing; for a warning or a note, still emit manifests). `multiple_errors.mesh` holds
//! several mistakes at once. A tidy test keeps codes, fixtures, book pages and the book's
//! SUMMARY.md in step.
//!
//! Two comment lines change how a fixture is compiled (both are part of its snapshot):
//!
//! - `// options: --target gateway-api --gateway-channel experimental` compiles it with those
//!   command-line options (each optional; the default is `--target istio`, standard channel);
//! - `// file: NAME.mesh` starts another file of the same compilation, named `NAME.mesh` in
//!   diagnostics, that runs to the next such line or to the end (the text above the first one is
//!   the fixture's own file). A program of several namespaces needs this: a file declares one.
//!
//! Fixtures are minimal programs, so the lints that any minimal program trips —
//! `missing-timeout` (W0101), `missing-circuit-breaker` (W0102) and `retry-non-idempotent`
//! (W0103) — are allowed in them, except in the fixtures named for those codes and in
//! `multiple_errors.mesh`: otherwise every snapshot would repeat them.
//!
//! The codes of `meshc validate` and `meshc import` (which read Kubernetes YAML, not programs)
//! have YAML fixtures, `CODE_what.yaml`: checking (for E0503, N0004 and W0005, importing) the file must report
//! `CODE`, and nothing else of another code.
//!
//! To accept changed snapshots, read every `tests/snapshots/*.snap.new`, then run
//! `INSTA_UPDATE=always cargo test --test diagnostics`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

// Only the compile helpers: `mod support;` would also build the CRD validator into this crate.
#[path = "support/mesh.rs"]
#[allow(dead_code)]
mod mesh;
use mesh::repo_root;

use meshc::diagnostics::lints::{Level, Levels};
use meshc::diagnostics::render;
use meshc::target::Options;
use meshc::{Code, Compilation, SourceMap};

fn fixture_dir() -> PathBuf {
    repo_root().join("tests/fixtures/err")
}

/// The fixture holding several mistakes; its name starts with no code.
const MULTIPLE: &str = "multiple_errors.mesh";

/// The fixture with ten different mistakes, each of which must get its own diagnostic.
const TEN: &str = "ten_mistakes.mesh";

/// The names (not paths) of the files in `dir` that end with `.{ext}`, sorted.
fn file_names(dir: &Path, ext: &str) -> Vec<String> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read directory {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|entry| entry.expect("readable directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(&format!(".{ext}")))
        .collect();
    names.sort();
    names
}

/// Compiles a fixture registered under `name`, split at its `// file:` lines, with the options
/// of its `// options:` line.
fn compile(name: &str, text: &str) -> (SourceMap, Compilation) {
    compile_on(name, text, 0)
}

/// Like [`compile`], checked on `threads` threads (0: meshc's choice).
fn compile_on(name: &str, text: &str, threads: usize) -> (SourceMap, Compilation) {
    let mut sources = meshc::testing::fixture_sources(name, text);
    let mut levels = Levels::default();
    for code in [Code::W0101, Code::W0102, Code::W0103] {
        if !name.starts_with(code.as_str()) && name != MULTIPLE {
            levels.set(code, Level::Allow);
        }
    }
    let settings = meshc::Settings {
        options: options(name, text),
        levels,
        namespace: None,
        threads,
    };
    let compilation =
        meshc::compile_configured(&mut sources, &settings, &mut meshc::modules::NoFiles);
    (sources, compilation)
}

/// The options of a fixture's `// options:` line; the defaults without one.
fn options(name: &str, text: &str) -> Options {
    match text.lines().find_map(|l| l.strip_prefix("// options:")) {
        None => Options::default(),
        Some(line) => Options::from_flags(line).unwrap_or_else(|e| panic!("{name}: {e}")),
    }
}

/// The code a fixture name announces: `E0101_unknown_service.mesh` → `E0101`.
fn announced_code(name: &str) -> Option<&str> {
    let (prefix, _) = name.split_once('_')?;
    let looks_like_code = prefix.len() == 5
        && prefix.starts_with(|c: char| c.is_ascii_uppercase())
        && prefix[1..].chars().all(|c| c.is_ascii_digit());
    looks_like_code.then_some(prefix)
}

/// The problems with one fixture's compilation, beyond its snapshot.
fn fixture_problems(name: &str, sources: &SourceMap, compilation: &Compilation) -> Vec<String> {
    let mut problems = Vec::new();
    let codes: Vec<&str> = compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    if name == TEN {
        // One diagnostic per mistake, in line order: two on line 12 (a method and a timeout).
        let found: Vec<(usize, &str)> = compilation
            .diagnostics
            .iter()
            .map(|d| {
                (
                    sources
                        .line_col(d.primary.span.file, d.primary.span.start)
                        .0,
                    d.code.as_str(),
                )
            })
            .collect();
        let expected = [
            (6, "E0103"),
            (7, "E0202"),
            (8, "W0001"),
            (11, "E0101"),
            (12, "E0206"),
            (12, "E0201"),
            (13, "E0203"),
            (14, "E0307"),
            (15, "E0202"),
            (16, "E0102"),
        ];
        if found != expected {
            problems.push(format!("{name}: expected {expected:?}, got {found:?}"));
        }
        if !compilation.manifests().is_empty() {
            problems.push(format!("{name}: manifests were emitted despite errors"));
        }
        return problems;
    }
    if name == MULTIPLE {
        let lines: Vec<usize> = compilation
            .diagnostics
            .iter()
            .map(|d| {
                sources
                    .line_col(d.primary.span.file, d.primary.span.start)
                    .0
            })
            .collect();
        let distinct_lines: BTreeSet<usize> = lines.iter().copied().collect();
        let distinct_codes: BTreeSet<&str> = codes.iter().copied().collect();
        if distinct_lines.len() < 5 || distinct_codes.len() < 3 {
            problems.push(format!(
                "{name}: expected mistakes on at least 5 lines with at least 3 codes, got codes {codes:?} on lines {lines:?}"
            ));
        }
        if !lines.windows(2).all(|w| w[0] <= w[1]) {
            problems.push(format!("{name}: diagnostics not sorted by line: {lines:?}"));
        }
        if !compilation.manifests().is_empty() {
            problems.push(format!("{name}: manifests were emitted despite errors"));
        }
        return problems;
    }
    let Some(announced) = announced_code(name) else {
        problems.push(format!(
            "{name}: a fixture's name starts with its code, e.g. `E0101_unknown_service.mesh`"
        ));
        return problems;
    };
    let Some(code) = Code::parse(announced).filter(|c| c.as_str() == announced) else {
        problems.push(format!("{name}: `{announced}` is not a meshc code"));
        return problems;
    };
    if !codes.contains(&code.as_str()) {
        problems.push(format!(
            "{name}: expected a diagnostic {announced}, got {codes:?}"
        ));
    }
    if code.is_warning() || code.is_note() {
        if compilation.has_errors() {
            problems.push(format!(
                "{name}: a warning or note fixture must compile without errors, got {codes:?}"
            ));
        } else if compilation.manifests().is_empty() {
            problems.push(format!(
                "{name}: a warning or note fixture must still emit manifests"
            ));
        }
    } else if !compilation.manifests().is_empty() {
        problems.push(format!(
            "{name}: {announced} is an error, yet manifests were emitted"
        ));
    }
    problems
}

/// A fixture's file name and text.
fn read_fixture(path: &Path) -> (String, String) {
    let name = path
        .file_name()
        .expect("a fixture has a file name")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (name, text)
}

/// Every fixture: the snapshot of its source and rendered diagnostics, and the code its name
/// announces.
#[test]
fn fixtures() {
    let mut problems = Vec::new();
    insta::glob!("fixtures/err", "*.mesh", |path| {
        let (name, text) = read_fixture(path);
        let (sources, compilation) = compile(&name, &text);
        problems.extend(fixture_problems(&name, &sources, &compilation));
        let rendered = render::human_string(&sources, &compilation.diagnostics);
        let snapshot = format!("----- SOURCE\n{text}\n----- DIAGNOSTICS\n{rendered}");
        insta::assert_snapshot!(snapshot);
    });
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// Checking a program on several threads finds what checking it on one finds: each fixture,
/// checked on one thread and on three (each taking a third of the declarations and of the
/// routes, however few), gets the same diagnostics in the same order, and the same manifests.
/// Among them: names declared twice (declared on one thread, E0103) and the ReferenceGrant
/// note given once for two routes (N0001, which the threads would each give).
#[test]
fn fixtures_checked_on_threads_as_on_one() {
    let mut differ = Vec::new();
    let mut compared = 0;
    for name in file_names(&fixture_dir(), "mesh") {
        let (_, text) = read_fixture(&fixture_dir().join(&name));
        let (sources, one) = compile_on(&name, &text, 1);
        let (_, three) = compile_on(&name, &text, 3);
        let rendered = |c: &Compilation| render::human_string(&sources, &c.diagnostics);
        let yaml = |c: &Compilation| meshc::emit::yaml::stream(&c.manifests());
        if rendered(&one) != rendered(&three) || yaml(&one) != yaml(&three) {
            differ.push(name);
        }
        compared += 1;
    }
    assert!(compared > 150, "only {compared} fixtures");
    assert!(
        differ.is_empty(),
        "checked differently on three threads: {differ:?}"
    );
}

/// Every YAML fixture: the snapshot of its text and of what `meshc validate` reports, which
/// must be its announced code and no other.
#[test]
fn manifest_fixtures() {
    let mut problems = Vec::new();
    insta::glob!("fixtures/err", "*.yaml", |path| {
        let (name, text) = read_fixture(path);
        let mut sources = SourceMap::new();
        let id = sources.add(&name, &text);
        // The fixtures of import's codes are read by `meshc import`, the others by `meshc
        // validate`.
        let import = ["E0503", "N0004", "W0005"];
        let diagnostics = if import.iter().any(|code| name.starts_with(code)) {
            meshc::import::import_stream(id, &text).1
        } else {
            let channel = meshc::validate::Channel::Standard;
            meshc::validate::check_stream(id, &text, channel).0
        };
        let codes: BTreeSet<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        let announced = announced_code(&name).unwrap_or_default();
        if codes.iter().copied().ne([announced]) {
            problems.push(format!("{name}: expected {announced} only, got {codes:?}"));
        }
        let rendered = render::human_string(&sources, &diagnostics);
        let snapshot = format!("----- SOURCE\n{text}\n----- DIAGNOSTICS\n{rendered}");
        insta::assert_snapshot!(snapshot);
    });
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// Codes, fixtures, book pages and SUMMARY.md entries stay in step.
#[test]
fn every_code_has_a_fixture_a_page_and_a_summary_entry() {
    let known: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let mut fixtures = file_names(&fixture_dir(), "mesh");
    fixtures.extend(file_names(&fixture_dir(), "yaml"));
    let errors_dir = repo_root().join("book/src/errors");
    let pages = file_names(&errors_dir, "md");
    let summary = std::fs::read_to_string(repo_root().join("book/src/SUMMARY.md"))
        .expect("book/src/SUMMARY.md exists");
    let index = std::fs::read_to_string(errors_dir.join("index.md"))
        .expect("book/src/errors/index.md exists");
    let mut problems = Vec::new();

    for code in &known {
        if !fixtures.iter().any(|f| f.starts_with(&format!("{code}_"))) {
            problems.push(format!(
                "{code} has no fixture tests/fixtures/err/{code}_*.mesh (or .yaml)"
            ));
        }
        match std::fs::read_to_string(errors_dir.join(format!("{code}.md"))) {
            Err(_) => problems.push(format!("{code} has no page book/src/errors/{code}.md")),
            Ok(page) => {
                let summary = Code::parse(code).map_or("", Code::summary);
                let title = format!("# {code}: {summary}");
                if page.lines().next() != Some(title.as_str()) {
                    problems.push(format!(
                        "book/src/errors/{code}.md must start with the line `{title}`"
                    ));
                }
            }
        }
        if !summary.contains(&format!("(errors/{code}.md)")) {
            problems.push(format!(
                "{code} has no entry `(errors/{code}.md)` in book/src/SUMMARY.md"
            ));
        }
        if !index.contains(&format!("({code}.md)")) {
            problems.push(format!(
                "{code} has no link `({code}.md)` in book/src/errors/index.md"
            ));
        }
    }

    for fixture in &fixtures {
        match announced_code(fixture) {
            Some(code) if !known.contains(code) => problems.push(format!(
                "tests/fixtures/err/{fixture} is for `{code}`, which is not in Code::ALL"
            )),
            None if fixture != MULTIPLE && fixture != TEN => problems.push(format!(
                "tests/fixtures/err/{fixture} does not start with a code (`E0101_what.mesh`)"
            )),
            _ => {}
        }
    }
    for page in &pages {
        let stem = page.trim_end_matches(".md");
        if stem != "index" && !known.contains(stem) {
            problems.push(format!(
                "book/src/errors/{page} is not the page of a code in Code::ALL"
            ));
        }
    }
    let link = regex::Regex::new(r"\(errors/([^)/]+)\.md\)").expect("valid regex");
    for captures in link.captures_iter(&summary) {
        let stem = &captures[1];
        if stem != "index" && !known.contains(stem) {
            problems.push(format!(
                "book/src/SUMMARY.md links errors/{stem}.md, which is not a code in Code::ALL"
            ));
        }
    }

    // Snapshots whose fixture is gone.
    let snapshots = file_names(&repo_root().join("tests/snapshots"), "snap");
    for snapshot in snapshots {
        let Some(fixture) = snapshot
            .strip_prefix("diagnostics__fixtures@")
            .and_then(|rest| rest.strip_suffix(".snap"))
        else {
            continue;
        };
        if !fixtures.iter().any(|f| f == fixture) {
            problems.push(format!(
                "tests/snapshots/{snapshot} has no fixture tests/fixtures/err/{fixture}: delete it"
            ));
        }
    }

    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// `render::json_line` carries everything an editor needs, in 1-based lines and columns.
#[test]
fn json_line_for_an_unknown_subset() {
    let name = "E0102_unknown_subset.mesh";
    let text = std::fs::read_to_string(fixture_dir().join(name)).expect("fixture exists");
    let (sources, compilation) = compile(name, &text);
    assert_eq!(compilation.diagnostics.len(), 1, "{compilation:#?}");
    let line = render::json_line(&sources, &compilation.diagnostics[0]);
    assert!(!line.contains('\n'), "one line of JSON: {line}");
    let json: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");

    // The route is line 9: `route research-agent -> v1 90%, v3 10%`, `v3` at columns 33..35.
    assert_eq!(json["code"], "E0102");
    assert_eq!(json["severity"], "error");
    assert_eq!(
        json["message"],
        "unknown subset `v3` of service `research-agent`"
    );
    assert_eq!(json["file"], name);
    assert_eq!(json["line"], 9);
    assert_eq!(json["column"], 33);
    assert_eq!(json["end_line"], 9);
    assert_eq!(json["end_column"], 35);
    let labels = json["labels"].as_array().expect("labels is an array");
    assert_eq!(labels.len(), 2, "{labels:?}");
    assert_eq!(labels[0]["primary"], true);
    assert_eq!(labels[0]["line"], 9);
    assert_eq!(labels[0]["column"], 33);
    assert_eq!(labels[0]["message"], "no such subset or service");
    // The secondary label points at the service's name on line 4.
    assert_eq!(labels[1]["primary"], false);
    assert_eq!(labels[1]["file"], name);
    assert_eq!(labels[1]["line"], 4);
    assert_eq!(labels[1]["column"], 9);
    assert_eq!(labels[1]["message"], "service declared here");
    assert_eq!(json["help"], "did you mean `v1`?");
    let notes = json["notes"].as_array().expect("notes is an array");
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].as_str().is_some_and(|n| n.contains("IST0101")),
        "{notes:?}"
    );
}
