//! The only place that writes YAML.
//!
//! meshc's own writer: a [`serde::Serializer`] that writes block-style YAML straight into a
//! `String`, with no intermediate tree. Its output is byte for byte what serde-saphyr 2.2.0
//! (meshc's writer before, still the oracle of the tests) writes with its default options:
//! two-space indentation, sequences at their key's column (`- key: v`), `{}` and `[]` for empty
//! collections, multi-line strings as `|` blocks and long ones folded with `>`. Above all it
//! quotes every string that a YAML 1.1 reader (Kubernetes) or a YAML 1.2 reader would take
//! for something else — `on`, `yes`, `no`, `y`, `~`, `null`, `12:30`, `1e3`, `0x1F`, `.5`,
//! `2024-01-01`, leading indicators, `: `, ` #`, edge spaces, control characters — so values
//! reach the cluster as written. The quoting rules are in `scalar`.
//!
//! It writes the shapes meshc's manifests have: structs and maps with scalar keys, sequences,
//! options, newtype enum variants (`exact: /api`), unit variants and untagged enums, strings,
//! integers, floats and booleans. A struct or tuple variant, bytes, or an enum variant as the
//! whole document is an error (`Error`); no manifest has one.

mod direct;
mod scalar;
#[cfg(test)]
mod tests;

pub(crate) use direct::Direct;

use std::fmt;

use serde::ser::{self, Serialize};

use super::Manifest;
use scalar::Style;

/// One manifest as a YAML document (no `---`), ending in a newline.
pub fn document(manifest: &Manifest) -> String {
    let mut out = String::with_capacity(1024);
    write_document(&mut out, manifest);
    out
}

/// Several manifests as one multi-document stream, `---` between documents.
pub fn stream(manifests: &[Manifest]) -> String {
    let mut out = String::new();
    write_stream(&mut out, manifests);
    out
}

/// Appends one manifest as a YAML document (no `---`), ending in a newline.
pub fn write_document(out: &mut String, manifest: &Manifest) {
    Writer::new(out).manifest(manifest);
}

/// Whether a struct field's name may be written as a plain key
/// ([`scalar::is_plain_implicit_key`]), remembered per name. Field names are the few dozen
/// `&'static str`s of the models, written for every object: deciding each once per thread
/// saves about a tenth of the writer's work.
fn plain_field_name(name: &'static str) -> bool {
    use std::cell::Cell;
    /// Direct-mapped on the name's address: (address, length × 2 + plain). Address 0 is no
    /// name's, so an empty slot never matches.
    const SLOTS: usize = 128;
    thread_local! {
        static SEEN: [Cell<(usize, usize)>; SLOTS] = const { [const { Cell::new((0, 0)) }; SLOTS] };
    }
    let address = name.as_ptr() as usize;
    let slot = (address >> 2) % SLOTS;
    SEEN.with(|seen| {
        let (at, entry) = seen[slot].get();
        if at == address && entry >> 1 == name.len() {
            return entry & 1 == 1;
        }
        let plain = scalar::is_plain_implicit_key(name);
        seen[slot].set((address, name.len() << 1 | usize::from(plain)));
        plain
    })
}

/// What comes between two documents of a stream.
pub const SEPARATOR: &str = "---\n";

/// Appends manifest number `index` (from 0) of a multi-document stream: `---` before every
/// document but the first.
fn write_stream_document(out: &mut String, index: usize, manifest: &Manifest) {
    if index > 0 {
        out.push_str(SEPARATOR);
    }
    write_document(out, manifest);
}

/// Appends several manifests as one multi-document stream, `---` between documents.
pub fn write_stream(out: &mut String, manifests: &[Manifest]) {
    for (index, manifest) in manifests.iter().enumerate() {
        let start = out.len();
        write_stream_document(out, index, manifest);
        if index == 0 {
            // Documents are of similar sizes: room for the others, with some to spare (up to
            // 256 MiB; a longer stream grows as it goes).
            let size = out.len() - start + 4;
            let others = manifests.len() - 1;
            let room = size.saturating_mul(others) / 8 * 9;
            out.reserve(room.min(1 << 28));
        }
    }
}

/// Appends any serialisable value as one YAML document. On error, `out` may hold part of it.
#[cfg(test)]
pub(crate) fn write<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Error> {
    Writer::new(out).document(value)
}

/// A value the writer does not support (no manifest has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

fn unsupported<T>(what: &str) -> Result<T, Error> {
    Err(Error(format!("meshc's YAML writer does not write {what}")))
}

/// Where the next node goes. Depths count indentation levels of two columns.
#[derive(Debug, Clone, Copy)]
enum Position {
    /// The document's root, at the start of a line.
    Root,
    /// After `key:` of a block mapping whose keys are at `depth`: a scalar follows on the line,
    /// a collection on the next lines.
    Value {
        /// The mapping's keys' depth.
        depth: usize,
        /// After the `:` of an explicit (`? key`) entry, where a mapping starts on the line.
        inline_map: bool,
    },
    /// After `- ` of a block sequence whose dashes are at `depth`: a mapping starts on the line.
    Item(usize),
}

impl Position {
    /// The depth whose next level holds this node's lines (block scalar bodies, nested keys).
    fn depth(self) -> usize {
        match self {
            Position::Root => 0,
            Position::Value { depth, .. } | Position::Item(depth) => depth,
        }
    }
}

/// Writes a string value and its line break, after `key: ` or `- ` at `depth`: plain, quoted,
/// or as a block scalar whose lines are indented one level deeper.
fn write_string(out: &mut String, s: &str, depth: usize) {
    match scalar::value_style(s) {
        Style::Plain => out.push_str(s),
        Style::SingleQuoted => {
            out.push('\'');
            out.push_str(s);
            out.push('\'');
        }
        Style::DoubleQuoted => {
            out.push('"');
            scalar::write_escaped(out, s);
            out.push('"');
        }
        // Block scalars end with their own line break.
        Style::Literal => return scalar::write_literal(out, s, 2 * (depth + 1)),
        Style::Folded => return scalar::write_folded(out, s, 2 * (depth + 1)),
    }
    out.push('\n');
}

/// Spaces for indentation, sliced.
const SPACES: &str = "                                                                ";

/// Writes `columns` spaces.
fn indent_columns(out: &mut String, mut columns: usize) {
    while columns > SPACES.len() {
        out.push_str(SPACES);
        columns -= SPACES.len();
    }
    out.push_str(&SPACES[..columns]);
}

/// Writes the indentation of `depth`.
fn indent(out: &mut String, depth: usize) {
    indent_columns(out, 2 * depth);
}

/// The serializer: the output and where the next node goes.
struct Writer<'o> {
    out: &'o mut String,
    position: Position,
}

impl<'o> Writer<'o> {
    fn new(out: &'o mut String) -> Self {
        Writer {
            out,
            position: Position::Root,
        }
    }

    /// Writes one value as a document.
    fn document<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.position = Position::Root;
        value.serialize(&mut *self)
    }

    /// Writes one manifest as a document.
    fn manifest(&mut self, manifest: &Manifest) {
        // Every shape a manifest has is supported (a test writes every example's manifests).
        self.document(manifest)
            .expect("a manifest has only shapes the YAML writer supports");
    }

    /// Writes what goes before a scalar at the current position; returns the depth below which
    /// a block scalar's body is indented.
    fn scalar_start(&mut self) -> usize {
        match self.position {
            Position::Value { .. } => self.out.push(' '),
            Position::Root | Position::Item(_) => {}
        }
        self.position.depth()
    }

    /// Writes a scalar whose text needs no quoting (numbers, booleans, null).
    fn plain_scalar(&mut self, text: &str) -> Result<(), Error> {
        self.scalar_start();
        self.out.push_str(text);
        self.out.push('\n');
        Ok(())
    }

    /// Writes a string value.
    fn string(&mut self, s: &str) {
        let depth = self.scalar_start();
        write_string(self.out, s, depth);
    }

    /// Starts a block mapping at the current position.
    fn mapping(&mut self) -> Compound<'_, 'o> {
        let (depth, opening) = match self.position {
            Position::Root => (0, Opening::Inline),
            Position::Value {
                depth,
                inline_map: false,
            } => (depth + 1, Opening::Newline),
            Position::Value {
                depth,
                inline_map: true,
            } => (depth + 1, Opening::Space),
            Position::Item(depth) => (depth + 1, Opening::Inline),
        };
        Compound::new(self, depth, opening)
    }

    /// Starts a block sequence at the current position.
    fn sequence(&mut self) -> Compound<'_, 'o> {
        let (depth, opening) = match self.position {
            Position::Root => (0, Opening::Inline),
            // Dashes at the key's column.
            Position::Value { depth, .. } => (depth, Opening::Newline),
            Position::Item(depth) => (depth + 1, Opening::Inline),
        };
        Compound::new(self, depth, opening)
    }
}

/// What precedes the first entry of a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    /// Nothing: it continues the line (`- key: v`, `- - a`), or starts the document.
    Inline,
    /// A space: it continues the line after `:` (an explicit key's value).
    Space,
    /// A line break and its indentation (after `key:`).
    Newline,
}

/// A block mapping or sequence being written.
struct Compound<'a, 'o> {
    writer: &'a mut Writer<'o>,
    /// Where the collection itself is (for `{}` and `[]`).
    position: Position,
    /// The depth of its keys or dashes.
    depth: usize,
    /// What precedes its first entry.
    opening: Opening,
    /// No entry written yet.
    first: bool,
}

impl<'a, 'o> Compound<'a, 'o> {
    /// A collection at the writer's position, its entries at `depth`.
    fn new(writer: &'a mut Writer<'o>, depth: usize, opening: Opening) -> Self {
        Compound {
            position: writer.position,
            writer,
            depth,
            opening,
            first: true,
        }
    }

    /// Writes what precedes an entry (a key or a dash).
    fn entry_start(&mut self) {
        let out = &mut *self.writer.out;
        if self.first {
            self.first = false;
            match self.opening {
                Opening::Inline => {}
                Opening::Space => out.push(' '),
                Opening::Newline => {
                    out.push('\n');
                    indent(out, self.depth);
                }
            }
        } else {
            indent(out, self.depth);
        }
    }

    /// Writes one sequence element.
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.entry_start();
        self.writer.out.push_str("- ");
        self.writer.position = Position::Item(self.depth);
        value.serialize(&mut *self.writer)
    }

    /// Writes a string key and its `:`; the value goes at `self.writer.position`.
    fn key_str(&mut self, key: &str) {
        // The common case first: a plain key, short enough to be implicit.
        if scalar::is_plain_implicit_key(key) {
            self.plain_key(key);
        } else {
            self.quoted_or_long_key(key);
        }
    }

    /// Writes a struct field's name and its `:`.
    fn field_name(&mut self, name: &'static str) {
        if plain_field_name(name) {
            self.plain_key(name);
        } else {
            self.quoted_or_long_key(name);
        }
    }

    /// Writes a key as it is (plain and short: strings that need no quotes, numbers, booleans,
    /// null) and its `:`.
    fn plain_key(&mut self, text: &str) {
        self.entry_start();
        self.writer.out.push_str(text);
        self.writer.out.push(':');
        self.writer.position = Position::Value {
            depth: self.depth,
            inline_map: false,
        };
    }

    /// Writes a key that must be quoted or is too long to be implicit, and its `:`.
    #[cold]
    fn quoted_or_long_key(&mut self, key: &str) {
        let text = scalar::key_text(key);
        let text = text.as_ref();
        if scalar::is_simple_key_text(text) {
            return self.plain_key(text);
        }
        // `? key`, then `:` and the value on the next line.
        self.entry_start();
        let out = &mut *self.writer.out;
        out.push_str("? ");
        out.push_str(text);
        out.push('\n');
        indent(out, self.depth);
        out.push(':');
        self.writer.position = Position::Value {
            depth: self.depth,
            inline_map: true,
        };
    }

    /// Finishes the collection: an empty one is written `{}` or `[]` where it stands.
    fn end(self, empty: &str) -> Result<(), Error> {
        if self.first {
            self.writer.position = self.position;
            self.writer.plain_scalar(empty)?;
        }
        Ok(())
    }
}

impl<'a, 'o> ser::Serializer for &'a mut Writer<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, 'o>;
    type SerializeTuple = Compound<'a, 'o>;
    type SerializeTupleStruct = Compound<'a, 'o>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = Compound<'a, 'o>;
    type SerializeStruct = Compound<'a, 'o>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.plain_scalar(if v { "true" } else { "false" })
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.plain_scalar(itoa::Buffer::new().format(v))
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.plain_scalar(&v.to_string())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.plain_scalar(itoa::Buffer::new().format(v))
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.plain_scalar(&v.to_string())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // serde-saphyr formats f32 with f32's shortest digits, unlike `f64::from`.
        unsupported(&format!("the f32 {v}"))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.scalar_start();
        scalar::write_f64(self.out, v);
        self.out.push('\n');
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v);
        Ok(())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        unsupported("bytes")
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.plain_scalar("null")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.plain_scalar("null")
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.plain_scalar("null")
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.string(variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    /// `variant: value`, a one-entry mapping.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut mapping = match self.position {
            // As a value, the variant goes on its own line (serde-saphyr writes the same for
            // an explicit key's value: no `: variant: value`).
            Position::Value { depth, .. } => Compound::new(self, depth + 1, Opening::Newline),
            Position::Item(_) => self.mapping(),
            // serde-saphyr indents what follows a top-level variant differently.
            Position::Root => return unsupported("an enum variant as a document"),
        };
        mapping.key_str(variant);
        value.serialize(&mut *mapping.writer)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a, 'o>, Error> {
        Ok(self.sequence())
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'a, 'o>, Error> {
        Ok(self.sequence())
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a, 'o>, Error> {
        Ok(self.sequence())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        unsupported("a tuple variant")
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a, 'o>, Error> {
        Ok(self.mapping())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a, 'o>, Error> {
        Ok(self.mapping())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        unsupported("a struct variant")
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self, "[]")
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self, "[]")
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self, "[]")
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        key.serialize(KeySerializer(self))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self, "{}")
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field_name(key);
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Error> {
        Compound::end(self, "{}")
    }
}

/// Writes a mapping's scalar key; a collection key is an error.
struct KeySerializer<'c, 'a, 'o>(&'c mut Compound<'a, 'o>);

impl KeySerializer<'_, '_, '_> {
    fn text(self, text: &str) -> Result<(), Error> {
        self.0.plain_key(text);
        Ok(())
    }
}

impl ser::Serializer for KeySerializer<'_, '_, '_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.text(if v { "true" } else { "false" })
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.text(&v.to_string())
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.text(&v.to_string())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.text(&v.to_string())
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.text(&v.to_string())
    }

    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        unsupported("an f32 key")
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        let mut text = String::new();
        scalar::write_f64(&mut text, v);
        self.text(&text)
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.0.key_str(v);
        Ok(())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        unsupported("a bytes key")
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.text("null")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.text("null")
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.text("null")
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        unsupported("an enum variant as a key")
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        unsupported("a sequence as a key")
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        unsupported("a tuple as a key")
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        unsupported("a tuple as a key")
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        unsupported("a tuple variant as a key")
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        unsupported("a mapping as a key")
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        unsupported("a struct as a key")
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        unsupported("a struct variant as a key")
    }
}
