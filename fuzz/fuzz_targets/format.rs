//! `meshc fmt` (`meshc::syntax::print::format`) on any text: a text that parses formats
//! without panicking into a text that parses to the same syntax tree (spans aside), keeps the
//! number of comment markers, and formats to itself (idempotence); a text that does not parse
//! is refused.

#![no_main]

use libfuzzer_sys::fuzz_target;
use meshc::syntax::print::format;
use meshc::testing::tree_without_spans;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(tree) = tree_without_spans(text) else {
        assert!(
            format(0, text).is_err(),
            "a text that does not parse was formatted"
        );
        return;
    };
    let once = format(0, text).expect("a text that parses formats");
    let again =
        tree_without_spans(&once).unwrap_or_else(|| panic!("the output does not parse:\n{once}"));
    assert_eq!(again, tree, "the tree changed:\n{once}");
    let twice = format(0, &once).expect("the output formats");
    assert_eq!(twice, once, "not idempotent");
});
