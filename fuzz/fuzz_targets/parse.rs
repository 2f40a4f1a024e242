//! The two parsers agree (see `compiler/src/syntax/mod.rs`): whenever the fast parser accepts
//! a text, pest + `lower` accept it with an identical AST, spans included; whenever pest
//! rejects a text, the fast parser rejects it too. Syntax errors come from pest only, so this
//! is what keeps them exact.
//!
//! Also: the fast parser run in two halves (`parse_fast_split`, as `syntax::parse` runs a large
//! file), split at the line start nearest the middle, gives exactly the whole-file result.

#![no_main]

use libfuzzer_sys::fuzz_target;
use meshc::syntax::{parse_fast, parse_fast_split, parse_reference};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fast = parse_fast(0, text);
    let middle = text.len() / 2;
    let split = text[..text.floor_char_boundary(middle)]
        .rfind('\n')
        .map_or(0, |at| at + 1);
    assert!(
        parse_fast_split(0, text, split) == fast,
        "the halves split at byte {split} differ from the whole"
    );
    let reference = parse_reference(0, text);
    match (fast, reference) {
        (Some(fast), Ok(reference)) => assert!(fast == reference, "the ASTs differ"),
        (Some(_), Err(error)) => panic!("fast accepts what pest rejects: {}", error.message),
        // Declining is always allowed: the fast parser leaves the text to pest.
        (None, _) => {}
    }
});
