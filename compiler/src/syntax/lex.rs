//! The fast parser's lexer: a cursor over the text that matches one token of a given kind at a
//! time, as the grammar's atomic rules do (`grammar/mesh.pest`, "Literals and names").
//!
//! Tokens are read on demand rather than in one pass, because `.mesh` tokens depend on where
//! they are: `web.v2` is a host name after `host`, a service and its subset after `->`, and a
//! word followed by an error after `timeout`. The cursor always rests where the next token
//! starts: after each token it skips what pest's implicit `WHITESPACE` and `COMMENT` skip, and
//! it keeps the end of the identifier characters there, so keywords are compared without
//! scanning again. A one-token method matches the token at the cursor or consumes nothing, so a
//! failed alternative needs no undo unless it matched tokens already ([`Cursor::mark`] and
//! [`Cursor::reset`] undo those). [`Cursor::kws`], several keywords, keeps the ones it matched
//! when a later one fails: its callers try it inside `attempt` or fail the whole item.
//!
//! Every token is ASCII except strings and comments, and those end at ASCII bytes, so every
//! offset the cursor slices at is a character boundary; slicing goes through `str::get`, and
//! bytes are read with `get`, so no input can make the cursor panic.

use crate::ast;
use crate::source::{FileId, Span, Spanned};

use super::lower;

/// Character classes of the grammar's atomic rules, as bits of [`CLASSES`].
/// `ident_char`: `ASCII_ALPHANUMERIC | "-" | "_"`.
const IDENT: u8 = 1;
/// `header_word` and `label_word`: `ASCII_ALPHANUMERIC | "-" | "_" | "."`.
const WORD: u8 = 2;
/// `label_key`: `ASCII_ALPHANUMERIC | "-" | "_" | "." | "/"`.
const KEY: u8 = 4;
/// `lint_name` after its first letter: `ASCII_ALPHANUMERIC | "-"`.
const LINT: u8 = 8;
/// `ASCII_DIGIT`.
const DIGIT: u8 = 16;

/// The classes of each byte (a table, because scanning words is the lexer's inner loop).
static CLASSES: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        let alphanumeric = b.is_ascii_alphanumeric();
        let mut class = 0;
        if alphanumeric || b == b'-' || b == b'_' {
            class |= IDENT | WORD | KEY;
        }
        if b == b'.' {
            class |= WORD | KEY;
        }
        if b == b'/' {
            class |= KEY;
        }
        if alphanumeric || b == b'-' {
            class |= LINT;
        }
        if b.is_ascii_digit() {
            class |= DIGIT;
        }
        table[byte] = class;
        byte += 1;
    }
    table
};

/// A position to return to: where the cursor is and where the last token it consumed ends.
#[derive(Clone, Copy)]
pub(super) struct Mark {
    pos: usize,
    word_end: usize,
    last: usize,
}

/// The cursor. `last` is the end of the last token consumed: a node's span runs from its first
/// token's start to `last`, which is what `Lowerer::span` computes from pest's pairs (pest's
/// pair may also hold the whitespace skipped before an absent optional part; `Lowerer::span`
/// trims it, except at the end of a file that ends in a comment without a newline, which
/// `fast::parse` leaves to pest where it matters).
pub(super) struct Cursor<'t> {
    pub(super) file: FileId,
    pub(super) text: &'t str,
    bytes: &'t [u8],
    /// Where the next token starts (whitespace and comments are skipped).
    pos: usize,
    /// The end of the identifier characters at `pos` (`pos` if there are none).
    word_end: usize,
    pub(super) last: usize,
}

impl<'t> Cursor<'t> {
    pub(super) fn new(file: FileId, text: &'t str) -> Cursor<'t> {
        let mut cursor = Cursor {
            file,
            text,
            bytes: text.as_bytes(),
            pos: 0,
            word_end: 0,
            last: 0,
        };
        cursor.advance_to(0);
        cursor
    }

    /// A cursor that starts at `pos` (a token's start) of the whole text: spans and doc
    /// comments still refer to the whole text; only the last token consumed is taken to end at
    /// `pos` (every top-level declaration consumes its keyword before it takes a span).
    pub(super) fn at(file: FileId, text: &'t str, pos: usize) -> Cursor<'t> {
        let mut cursor = Cursor::new(file, text);
        cursor.advance_to(pos);
        cursor.last = pos;
        cursor
    }

    #[inline]
    pub(super) fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            word_end: self.word_end,
            last: self.last,
        }
    }

    #[inline]
    pub(super) fn reset(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.word_end = mark.word_end;
        self.last = mark.last;
    }

    #[inline]
    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// Moves to `pos`, then past `WHITESPACE` (space, tab, CR, LF) and `COMMENT` (`//` to the
    /// end of the line).
    #[inline]
    fn advance_to(&mut self, mut pos: usize) {
        loop {
            match self.byte(pos) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => pos += 1,
                Some(b'/') if self.byte(pos + 1) == Some(b'/') => {
                    let rest = self.bytes.get(pos + 2..).unwrap_or_default();
                    pos = match rest.iter().position(|&b| b == b'\n') {
                        Some(newline) => pos + 2 + newline,
                        None => self.bytes.len(),
                    };
                }
                _ => break,
            }
        }
        self.pos = pos;
        self.word_end = self.run_end(pos, IDENT);
    }

    /// Where the next token starts.
    #[inline]
    pub(super) fn start(&self) -> u32 {
        self.pos as u32
    }

    /// Whether only whitespace and comments are left.
    #[inline]
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The span from `start` to the end of the last token consumed.
    #[inline]
    pub(super) fn span_from(&self, start: u32) -> Span {
        Span {
            file: self.file,
            start,
            end: self.last as u32,
        }
    }

    #[inline]
    fn span(&self, start: usize, end: usize) -> Span {
        Span {
            file: self.file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// Consumes the token `start..end` and returns its span.
    #[inline]
    fn take(&mut self, start: usize, end: usize) -> Span {
        self.last = end;
        self.advance_to(end);
        self.span(start, end)
    }

    /// The end of the longest run of bytes of `class` from `from`.
    #[inline]
    fn run_end(&self, from: usize, class: u8) -> usize {
        let mut end = from;
        while let Some(&byte) = self.bytes.get(end) {
            if CLASSES[usize::from(byte)] & class == 0 {
                break;
            }
            end += 1;
        }
        end
    }

    /// The end of a `name` (`ASCII_ALPHA ~ ident_char*`) starting at `from`, if one does.
    #[inline]
    fn name_end(&self, from: usize) -> Option<usize> {
        self.byte(from)
            .filter(u8::is_ascii_alphabetic)
            .map(|_| self.run_end(from + 1, IDENT))
    }

    /// The identifier characters at the cursor (empty if none): a keyword matches exactly when
    /// it is this whole run, since keywords end at a word boundary.
    #[inline]
    pub(super) fn peek_word(&self) -> &'t str {
        self.text.get(self.pos..self.word_end).unwrap_or("")
    }

    /// Whether the next byte is `byte`.
    #[inline]
    pub(super) fn peek_is(&self, byte: u8) -> bool {
        self.byte(self.pos) == Some(byte)
    }

    /// A keyword (`kw_*`).
    #[inline]
    pub(super) fn kw(&mut self, keyword: &str) -> Option<Span> {
        let (start, end) = (self.pos, self.word_end);
        if self.bytes.get(start..end)? == keyword.as_bytes() {
            Some(self.take(start, end))
        } else {
            None
        }
    }

    /// Several keywords in a row.
    #[inline]
    pub(super) fn kws(&mut self, keywords: &[&str]) -> Option<Span> {
        let start = self.start();
        for keyword in keywords {
            self.kw(keyword)?;
        }
        Some(self.span_from(start))
    }

    /// A one-byte punctuation mark.
    #[inline]
    pub(super) fn punct(&mut self, mark: u8) -> Option<Span> {
        let start = self.pos;
        (self.byte(start) == Some(mark)).then(|| self.take(start, start + 1))
    }

    /// `->`.
    #[inline]
    pub(super) fn arrow(&mut self) -> Option<Span> {
        let start = self.pos;
        (self.bytes.get(start..start + 2) == Some(b"->")).then(|| self.take(start, start + 2))
    }

    /// The text `start..end` with its span.
    #[inline]
    fn text_at(&self, start: usize, end: usize) -> Option<ast::Text> {
        Some(Spanned {
            node: self.text.get(start..end)?.to_string(),
            span: self.span(start, end),
        })
    }

    /// Consumes the token `start..end` and returns it as text.
    #[inline]
    fn text_of(&mut self, start: usize, end: usize) -> Option<ast::Text> {
        let text = self.text_at(start, end)?;
        self.take(start, end);
        Some(text)
    }

    /// A run of at least one byte of `class`, as text.
    #[inline]
    fn run(&mut self, class: u8) -> Option<ast::Text> {
        let start = self.pos;
        let end = self.run_end(start, class);
        if end > start {
            self.text_of(start, end)
        } else {
            None
        }
    }

    /// `name` (and `word`, the same token): `ASCII_ALPHA ~ ident_char*`.
    #[inline]
    pub(super) fn name(&mut self) -> Option<ast::Text> {
        let start = self.pos;
        let end = self.name_end(start)?;
        self.text_of(start, end)
    }

    /// `lint_name`: `ASCII_ALPHA ~ (ASCII_ALPHANUMERIC | "-")*`.
    #[inline]
    pub(super) fn lint_name(&mut self) -> Option<ast::Text> {
        let start = self.pos;
        self.byte(start).filter(u8::is_ascii_alphabetic)?;
        let end = self.run_end(start + 1, LINT);
        self.text_of(start, end)
    }

    /// `retry_condition`: `(ASCII_ALPHANUMERIC | "-" | "_")+`.
    #[inline]
    pub(super) fn retry_condition(&mut self) -> Option<ast::Text> {
        self.run(IDENT)
    }

    /// `header_word`: `(ASCII_ALPHANUMERIC | "-" | "_" | ".")+`; `label_word` is the same.
    #[inline]
    pub(super) fn header_word(&mut self) -> Option<ast::Text> {
        self.run(WORD)
    }

    /// `label_key`: `(ASCII_ALPHANUMERIC | "-" | "_" | "." | "/")+`.
    #[inline]
    pub(super) fn label_key(&mut self) -> Option<ast::Text> {
        self.run(KEY)
    }

    /// `hostname`: `ident_char+ ~ ("." ~ ident_char+)*`.
    pub(super) fn hostname(&mut self) -> Option<ast::Text> {
        let start = self.pos;
        let mut end = self.run_end(start, IDENT);
        if end == start {
            return None;
        }
        while self.byte(end) == Some(b'.') {
            let next = self.run_end(end + 1, IDENT);
            if next == end + 1 {
                break;
            }
            end = next;
        }
        self.text_of(start, end)
    }

    /// The end of a `string` token at `start`: `"` ~ (any char but `"`, `\` and newline, or `\`
    /// and any char)* ~ `"`. Byte by byte, since every byte the rule stops at is ASCII.
    fn string_end(&self, start: usize) -> Option<usize> {
        if self.byte(start) != Some(b'"') {
            return None;
        }
        let mut at = start + 1;
        loop {
            match self.byte(at)? {
                b'"' => return Some(at + 1),
                b'\n' => return None,
                b'\\' => {
                    self.byte(at + 1)?;
                    at += 2;
                }
                _ => at += 1,
            }
        }
    }

    /// A `string`, unescaped, spanning its quotes (as `Lowerer::name_or_string` gives it).
    #[inline]
    pub(super) fn string(&mut self) -> Option<ast::Text> {
        let start = self.pos;
        let end = self.string_end(start)?;
        let node = lower::unescape(self.text.get(start..end)?);
        Some(Spanned {
            node,
            span: self.take(start, end),
        })
    }

    /// `string | name`.
    #[inline]
    pub(super) fn string_or_name(&mut self) -> Option<ast::Text> {
        self.string().or_else(|| self.name())
    }

    /// `string | hostname`.
    #[inline]
    pub(super) fn string_or_hostname(&mut self) -> Option<ast::Text> {
        self.string().or_else(|| self.hostname())
    }

    /// `header_name` (`string | header_word`); `label_value` (`string | label_word`) is the same.
    #[inline]
    pub(super) fn header_name(&mut self) -> Option<ast::Text> {
        self.string().or_else(|| self.header_word())
    }

    /// The end of `ASCII_DIGIT+` from `from` (`from` itself if there is no digit).
    #[inline]
    fn digits_end(&self, from: usize) -> usize {
        self.run_end(from, DIGIT)
    }

    /// After the digits ending at `at`: the end of `("." ~ ASCII_DIGIT+)?`.
    #[inline]
    fn fraction_end(&self, at: usize) -> usize {
        if self.byte(at) == Some(b'.') {
            let end = self.digits_end(at + 1);
            if end > at + 1 {
                return end;
            }
        }
        at
    }

    /// Whether the byte at `at` is an `ident_char`.
    #[inline]
    fn ident_at(&self, at: usize) -> bool {
        self.bytes
            .get(at)
            .is_some_and(|&byte| CLASSES[usize::from(byte)] & IDENT != 0)
    }

    /// The length of a `duration_unit` (`"ms" | "s" | "m" | "h"`) at `at`, if there is one.
    #[inline]
    fn unit_len(&self, at: usize) -> Option<usize> {
        match self.byte(at)? {
            b'm' if self.byte(at + 1) == Some(b's') => Some(2),
            b's' | b'm' | b'h' => Some(1),
            _ => None,
        }
    }

    /// `number`: `duration | percent | float | int`, in that order, as pest tries them. All four
    /// start with `ASCII_DIGIT+ ~ ("." ~ ASCII_DIGIT+)?`, which is scanned once.
    fn number_at(&self, start: usize) -> Option<(ast::LiteralKind, usize)> {
        let digits = self.digits_end(start);
        if digits == start {
            return None;
        }
        let number = self.fraction_end(digits);
        // duration: (ASCII_DIGIT+ ~ ("." ~ ASCII_DIGIT+)? ~ duration_unit)+ ~ !ident_char
        if let Some(unit) = self.unit_len(number) {
            let mut end = number + unit;
            loop {
                let digits = self.digits_end(end);
                if digits == end {
                    break;
                }
                let number = self.fraction_end(digits);
                match self.unit_len(number) {
                    Some(unit) => end = number + unit,
                    None => break,
                }
            }
            if !self.ident_at(end) {
                return Some((ast::LiteralKind::Duration, end));
            }
        }
        // percent: ASCII_DIGIT+ ~ ("." ~ ASCII_DIGIT+)? ~ "%"
        if self.byte(number) == Some(b'%') {
            return Some((ast::LiteralKind::Percent, number + 1));
        }
        // float: ASCII_DIGIT+ ~ "." ~ ASCII_DIGIT+ ~ !ident_char
        if number > digits && !self.ident_at(number) {
            return Some((ast::LiteralKind::Float, number));
        }
        // int: ASCII_DIGIT+ ~ !(ident_char | ".")
        if !self.ident_at(digits) && self.byte(digits) != Some(b'.') {
            return Some((ast::LiteralKind::Int, digits));
        }
        None
    }

    #[inline]
    fn literal_of(
        &mut self,
        kind: ast::LiteralKind,
        start: usize,
        end: usize,
    ) -> Option<ast::Literal> {
        let text = self.text.get(start..end)?.to_string();
        Some(ast::Literal {
            kind,
            text,
            span: self.take(start, end),
        })
    }

    /// A `number` as a literal.
    #[inline]
    pub(super) fn number(&mut self) -> Option<ast::Literal> {
        let start = self.pos;
        let (kind, end) = self.number_at(start)?;
        self.literal_of(kind, start, end)
    }

    /// A `word` as a literal.
    #[inline]
    pub(super) fn word(&mut self) -> Option<ast::Literal> {
        let start = self.pos;
        let end = self.name_end(start)?;
        self.literal_of(ast::LiteralKind::Word, start, end)
    }

    /// `literal`: `number | string | word`.
    pub(super) fn literal(&mut self) -> Option<ast::Literal> {
        if let Some(number) = self.number() {
            return Some(number);
        }
        if let Some(string) = self.string() {
            return Some(ast::Literal {
                kind: ast::LiteralKind::String,
                text: string.node,
                span: string.span,
            });
        }
        self.word()
    }

    /// `extra_path`: `extra_key ~ (dot ~ extra_key | lbracket ~ (extra_index | string) ~
    /// rbracket)*` with nothing between its tokens, where `extra_key` is a `name` and
    /// `extra_index` is `ASCII_DIGIT+`. A bracketed segment spans its brackets.
    pub(super) fn extra_path(&mut self) -> Option<ast::ExtraPath> {
        use ast::PathSegment;
        let start = self.pos;
        let first_end = self.name_end(start)?;
        let key = |c: &Self, from: usize, to: usize| -> Option<Spanned<PathSegment>> {
            Some(Spanned {
                node: PathSegment::Key(c.text.get(from..to)?.to_string()),
                span: c.span(from, to),
            })
        };
        let mut segments = vec![key(self, start, first_end)?];
        let mut at = first_end;
        loop {
            match self.byte(at) {
                Some(b'.') => {
                    let Some(end) = self.name_end(at + 1) else {
                        break;
                    };
                    segments.push(key(self, at + 1, end)?);
                    at = end;
                }
                Some(b'[') => {
                    let inner = at + 1;
                    let digits = self.digits_end(inner);
                    let (segment, end) = if digits > inner {
                        let index = self.text.get(inner..digits)?.to_string();
                        (PathSegment::Index(index), digits)
                    } else if let Some(end) = self.string_end(inner) {
                        let text = lower::unescape(self.text.get(inner..end)?);
                        (PathSegment::Quoted(text), end)
                    } else {
                        break;
                    };
                    if self.byte(end) != Some(b']') {
                        break;
                    }
                    segments.push(Spanned {
                        node: segment,
                        span: self.span(at, end + 1),
                    });
                    at = end + 1;
                }
                _ => break,
            }
        }
        let span = self.take(start, at);
        Some(ast::ExtraPath { segments, span })
    }

    /// `dest_ref`: `(name ~ slash)? ~ name ~ (dot ~ name)?`, with no whitespace inside.
    pub(super) fn dest_ref(&mut self) -> Option<ast::DestRef> {
        let start = self.pos;
        let mut first_start = start;
        let mut namespace = None;
        if let Some(end) = self.name_end(start) {
            if self.byte(end) == Some(b'/') {
                namespace = Some((start, end));
                first_start = end + 1;
            }
        }
        let first_end = self.name_end(first_start)?;
        let mut end = first_end;
        let mut second = None;
        if self.byte(first_end) == Some(b'.') {
            if let Some(second_end) = self.name_end(first_end + 1) {
                second = Some((first_end + 1, second_end));
                end = second_end;
            }
        }
        let namespace = match namespace {
            Some((from, to)) => Some(self.text_at(from, to)?),
            None => None,
        };
        let first = self.text_at(first_start, first_end)?;
        let second = match second {
            Some((from, to)) => Some(self.text_at(from, to)?),
            None => None,
        };
        Some(ast::DestRef {
            namespace,
            first,
            second,
            span: self.take(start, end),
        })
    }

    /// `policy_ref`: `(name ~ dot)? ~ name`, with no whitespace inside: the module and the name.
    pub(super) fn policy_ref(&mut self) -> Option<(Option<ast::Text>, ast::Text)> {
        let start = self.pos;
        let mut name_start = start;
        let mut module = None;
        if let Some(end) = self.name_end(start) {
            if self.byte(end) == Some(b'.') {
                module = Some(end);
                name_start = end + 1;
            }
        }
        let name_end = self.name_end(name_start)?;
        let module = match module {
            Some(end) => Some(self.text_at(start, end)?),
            None => None,
        };
        Some((module, self.text_of(name_start, name_end)?))
    }

    /// `std_module`: `kw_std ~ slash ~ name`, with no whitespace inside: the name.
    pub(super) fn std_module(&mut self) -> Option<ast::Text> {
        let start = self.pos;
        if self.bytes.get(start..start + 4)? != b"std/" {
            return None;
        }
        let end = self.name_end(start + 4)?;
        self.text_of(start + 4, end)
    }
}
