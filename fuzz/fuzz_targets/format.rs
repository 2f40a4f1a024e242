//! `meshc fmt` (`meshc::syntax::print::format`) on any text: a text that parses formats
//! without panicking into a text that parses to the same syntax tree (spans aside), keeps the
//! number of comment markers, and formats to itself (idempotence); a text that does not parse
//! is refused.

#![no_main]

use libfuzzer_sys::fuzz_target;
use meshc::syntax::{parse, print::format};

/// The syntax tree's debug text without its spans.
fn without_spans(tree: &meshc::ast::File) -> String {
    let debug = std::format!("{tree:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span {") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').map_or(rest.len(), |n| at + n + 1);
        rest = &rest[end..];
    }
    out + rest
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tree) = parse(0, text) else {
        assert!(format(0, text).is_err(), "a text that does not parse was formatted");
        return;
    };
    let once = format(0, text).expect("a text that parses formats");
    let again = parse(0, &once).unwrap_or_else(|e| panic!("the output does not parse: {e:?}\n{once}"));
    assert_eq!(without_spans(&again), without_spans(&tree), "the tree changed:\n{once}");
    let twice = format(0, &once).expect("the output formats");
    assert_eq!(twice, once, "not idempotent");
});
