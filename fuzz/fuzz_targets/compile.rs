//! Fuzzes the whole compiler: any UTF-8 text through `meshc::compile_with`, the diagnostics
//! rendered as the CLI renders them, the YAML written and read back.
//!
//! The input is a `.mesh` program, split and configured like a diagnostics fixture
//! (tests/diagnostics.rs), so the seed corpus (examples, stdlib, fixtures) keeps its meaning:
//!
//! - a line `// file: NAME.mesh` starts another file of the same compilation (imports between
//!   files, several namespaces); without one, the text is one file, `fuzz.mesh`;
//! - a line `// options: --target T --gateway-channel C --step K` sets the options (unknown words
//!   are ignored: the fuzzer writes anything there).
//!
//! Invariants (a failed one is a finding, reported as a crash):
//!
//! 1. nothing panics, overflows, hangs or runs out of memory;
//! 2. every label of every diagnostic lies in a file of the compilation, inside its text, on
//!    char boundaries, with `start <= end`;
//! 3. the CLI's human renderer and the JSON-lines renderer render every diagnostic (codespan
//!    reports a bad span as an error, which the CLI would turn into a bogus I/O failure);
//! 4. an error means no manifests;
//! 5. without errors, the YAML stream reads back (serde-saphyr) as exactly the data that was
//!    serialised, one document per manifest;
//! 6. compiling the same text again, checked on three threads (each taking a third of the
//!    declarations and of the routes) instead of one, gives the same diagnostics and the same
//!    YAML;
//! 7. a program with canary steps also compiles, under the same invariants, at its last step.

#![no_main]

use codespan_reporting::term::termcolor::NoColor;
use libfuzzer_sys::fuzz_target;
use meshc::diagnostics::render;
use meshc::target::Options;
use meshc::{Compilation, SourceMap};

fuzz_target!(|data: &[u8]| {
    // The CLI rejects non-UTF-8 files before compiling (an I/O-level error).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = options(text);
    let (sources, first) = compile(text, options, 1);
    check(&sources, &first);
    let (_, again) = compile(text, options, 3);
    assert_eq!(
        first.diagnostics, again.diagnostics,
        "diagnostics differ between one thread and three"
    );
    let yaml = meshc::emit::yaml::stream(&first.manifests());
    assert_eq!(
        yaml,
        meshc::emit::yaml::stream(&again.manifests()),
        "YAML differs between one thread and three"
    );
    // Emitted part by part on two threads, one part per piece: the same bytes.
    let mut pieces = String::new();
    meshc::emit::write_yaml_batched(&first.program, options, 2, 1, &mut |piece| {
        pieces.push_str(piece);
        Ok::<(), ()>(())
    })
    .expect("writing to a String cannot fail");
    assert_eq!(pieces, yaml, "the streamed YAML differs from the stream");
    assert_eq!(first.steps, again.steps);
    if first.steps > 1 && options.step.is_none() {
        let last = Options {
            step: Some(first.steps),
            ..options
        };
        let (sources, at_last) = compile(text, last, 0);
        check(&sources, &at_last);
    }
});

/// Compiles `text`, split at its `// file:` lines, checked on `threads` threads (0: meshc's
/// choice).
fn compile(text: &str, options: Options, threads: usize) -> (SourceMap, Compilation) {
    let mut sources = meshc::testing::fixture_sources("fuzz.mesh", text);
    let settings = meshc::Settings {
        options,
        threads,
        ..meshc::Settings::default()
    };
    let compilation =
        meshc::compile_configured(&mut sources, &settings, &mut meshc::modules::NoFiles);
    (sources, compilation)
}

/// The options of the first `// options:` line; the defaults if it has a mistake.
fn options(text: &str) -> Options {
    text.lines()
        .find_map(|l| l.strip_prefix("// options:"))
        .and_then(|line| Options::from_flags(line).ok())
        .unwrap_or_default()
}

/// Invariants 2 to 5 for one compilation.
fn check(sources: &SourceMap, compilation: &Compilation) {
    if let Some(problem) = meshc::testing::span_problem(sources, &compilation.diagnostics) {
        panic!("{problem}");
    }
    for diagnostic in &compilation.diagnostics {
        let _ = render::json_line(sources, diagnostic);
    }
    let mut rendered = NoColor::new(Vec::new());
    if let Err(e) = render::human(sources, &compilation.diagnostics, &mut rendered) {
        panic!("rendering the diagnostics failed: {e}");
    }
    let manifests = compilation.manifests();
    if compilation.has_errors() {
        assert!(
            manifests.is_empty(),
            "manifests were emitted despite errors"
        );
        return;
    }
    let yaml = meshc::emit::yaml::stream(&manifests);
    let read: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml)
        .unwrap_or_else(|e| panic!("the emitted YAML does not parse: {e}\n{yaml}"));
    let written: Vec<serde_json::Value> = manifests
        .iter()
        .map(|m| serde_json::to_value(m).expect("a manifest serialises to JSON"))
        .collect();
    assert_eq!(
        read, written,
        "the emitted YAML does not read back as the manifests\n{yaml}"
    );
}
