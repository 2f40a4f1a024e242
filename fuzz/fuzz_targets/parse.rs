//! The two parsers agree (see `compiler/src/syntax/mod.rs`): whenever the fast parser accepts
//! a text, pest + `lower` accept it with an identical AST, spans included; whenever pest
//! rejects a text, the fast parser rejects it too. Syntax errors come from pest only, so this
//! is what keeps them exact.

#![no_main]

use libfuzzer_sys::fuzz_target;
use meshc::syntax::{parse_fast, parse_reference};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fast = parse_fast(0, text);
    let reference = parse_reference(0, text);
    match (fast, reference) {
        (Some(fast), Ok(reference)) => assert!(fast == reference, "the ASTs differ"),
        (Some(_), Err(error)) => panic!("fast accepts what pest rejects: {}", error.message),
        // Declining is always allowed: the fast parser leaves the text to pest.
        (None, _) => {}
    }
});
