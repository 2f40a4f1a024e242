//! YAML written straight from values, line by line, for the manifests meshc writes most (see
//! `emit::istio::write_destination_rule`): the bytes [`super::Writer`] writes for the same
//! model, without building the model or going through serde. Keys are written as given, so a
//! caller writes only keys that may be plain ([`Direct::plain_key`]); values are quoted by the
//! same rules as the writer's.

use std::fmt::{Display, Write as _};

use super::{indent, scalar, write_string, SEPARATOR};

/// Lines of one YAML document. A depth counts indentation levels of two columns; a sequence's
/// dashes are at its key's depth, an item's keys one level deeper.
pub(crate) struct Direct<'o> {
    out: &'o mut String,
    /// A sequence item's `- ` was just written: the item's first key goes on the same line.
    item: bool,
    /// Room for a value written with `Display`, reused.
    scratch: String,
}

impl<'o> Direct<'o> {
    /// A document appended to `out`, after `---`.
    pub(crate) fn document(out: &'o mut String) -> Self {
        out.push_str(SEPARATOR);
        Direct {
            out,
            item: false,
            scratch: String::new(),
        }
    }

    /// Whether a key taken from the program (a label, a header name) may be written as it is:
    /// plain and short enough to be an implicit key. (The writer quotes the others, or writes
    /// them as `? key`; a caller of `Direct` leaves such a document to it.)
    pub(crate) fn plain_key(key: &str) -> bool {
        scalar::is_plain_implicit_key(key)
    }

    /// `key:` at `depth`, indented unless it is an item's first.
    fn key(&mut self, depth: usize, key: &str) {
        if !std::mem::take(&mut self.item) {
            indent(self.out, depth);
        }
        self.out.push_str(key);
        self.out.push(':');
    }

    /// `key:`, its mapping or sequence on the next lines.
    pub(crate) fn open(&mut self, depth: usize, key: &str) {
        self.key(depth, key);
        self.out.push('\n');
    }

    /// `key:` and a mapping that has `entries` or is empty (`key: {}`).
    pub(crate) fn open_map(&mut self, depth: usize, key: &str, entries: bool) {
        self.key(depth, key);
        self.out.push_str(if entries { "\n" } else { " {}\n" });
    }

    /// `key: value`.
    pub(crate) fn string(&mut self, depth: usize, key: &str, value: &str) {
        self.key(depth, key);
        self.out.push(' ');
        write_string(self.out, value, depth);
    }

    /// `key: value` for a value written with `Display` (a duration), quoted as a string.
    pub(crate) fn display(&mut self, depth: usize, key: &str, value: impl Display) {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        // Writing into a String cannot fail.
        let _ = write!(text, "{value}");
        self.string(depth, key, &text);
        self.scratch = text;
    }

    /// `key: value` for an integer.
    pub(crate) fn integer(&mut self, depth: usize, key: &str, value: impl itoa::Integer) {
        self.key(depth, key);
        self.out.push(' ');
        self.out.push_str(itoa::Buffer::new().format(value));
        self.out.push('\n');
    }

    /// `key: value` for a float.
    pub(crate) fn float(&mut self, depth: usize, key: &str, value: f64) {
        self.key(depth, key);
        self.out.push(' ');
        scalar::write_f64(self.out, value);
        self.out.push('\n');
    }

    /// `key: true` or `key: false`.
    pub(crate) fn boolean(&mut self, depth: usize, key: &str, value: bool) {
        self.key(depth, key);
        self.out
            .push_str(if value { " true\n" } else { " false\n" });
    }

    /// `- ` at `depth`: what follows is the item's first key.
    pub(crate) fn item(&mut self, depth: usize) {
        self.dash(depth);
        self.item = true;
    }

    /// `- value`, a string item of a sequence at `depth`.
    pub(crate) fn string_item(&mut self, depth: usize, value: &str) {
        self.dash(depth);
        write_string(self.out, value, depth);
    }

    /// The dash of a sequence item at `depth`.
    fn dash(&mut self, depth: usize) {
        indent(self.out, depth);
        self.out.push_str("- ");
    }

    /// Ends an item: one that wrote no key is an empty mapping (`- {}`).
    pub(crate) fn end_item(&mut self) {
        if std::mem::take(&mut self.item) {
            self.out.push_str("{}\n");
        }
    }
}
