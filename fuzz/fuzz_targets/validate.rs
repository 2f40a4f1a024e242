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
    for diagnostic in &diagnostics {
        let labels = std::iter::once(&diagnostic.primary).chain(&diagnostic.secondary);
        for label in labels {
            let span = label.span;
            assert!(
                span.file == id
                    && span.start <= span.end
                    && (span.end as usize) <= text.len()
                    && text.is_char_boundary(span.start as usize)
                    && text.is_char_boundary(span.end as usize),
                "{}: span {}..{} outside the text ({} bytes) or not on char boundaries: {diagnostic:?}",
                diagnostic.code.as_str(),
                span.start,
                span.end,
                text.len()
            );
        }
        let _ = render::json_line(&sources, diagnostic);
    }
    let mut rendered = NoColor::new(Vec::new());
    if let Err(e) = render::human(&sources, &diagnostics, &mut rendered) {
        panic!("rendering the diagnostics failed: {e}");
    }
    let (again, _) = check_stream(id, text, channel);
    assert_eq!(diagnostics, again, "checking twice gave different diagnostics");
});
