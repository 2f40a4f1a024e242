//! Fuzzes `meshc validate`: any UTF-8 text through `meshc::validate::check_stream`, the
//! diagnostics rendered as the CLI renders them.
//!
//! Invariants (a failed one is a finding, reported as a crash):
//!
//! 1. nothing panics, overflows, hangs or runs out of memory, whatever the YAML (deep nesting,
//!    aliases, tags, several documents, unknown kinds, wrong types anywhere);
//! 2. every label lies inside the text, on char boundaries, with `start <= end`;
//! 3. the human and JSON-lines renderers render every diagnostic;
//! 4. checking the same text again gives the same diagnostics.

#![no_main]

use codespan_reporting::term::termcolor::NoColor;
use libfuzzer_sys::fuzz_target;
use meshc::diagnostics::render;
use meshc::validate::{check_stream, Channel};
use meshc::SourceMap;

fuzz_target!(|data: &[u8]| {
    // The CLI rejects non-UTF-8 files before checking them (an I/O-level error).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = SourceMap::new();
    let id = sources.add("fuzz.yaml", text);
    let channel = if text.contains("experimental") {
        Channel::Experimental
    } else {
        Channel::Standard
    };
    let (diagnostics, _) = check_stream(id, text, channel);
    if let Some(problem) = meshc::testing::span_problem(&sources, &diagnostics) {
        panic!("{problem}");
    }
    for diagnostic in &diagnostics {
        let _ = render::json_line(&sources, diagnostic);
    }
    let mut rendered = NoColor::new(Vec::new());
    if let Err(e) = render::human(&sources, &diagnostics, &mut rendered) {
        panic!("rendering the diagnostics failed: {e}");
    }
    let (again, _) = check_stream(id, text, channel);
    assert_eq!(
        diagnostics, again,
        "checking twice gave different diagnostics"
    );
});
