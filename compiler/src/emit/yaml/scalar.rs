//! Scalars: which strings may be written plain, how the others are quoted or written as block
//! scalars, and how numbers are spelled.
//!
//! Every decision here is serde-saphyr 2.2.0's (the writer meshc used before; `src/ser/quoting.rs`,
//! `src/ser/zmij_format.rs`, `src/ser/wrapping.rs` and `serialize_str` in
//! `src/ser/serializer.rs`, with its default options: YAML 1.1-safe quoting, block scalars for
//! multi-line and long strings, indentation 2), so the YAML meshc writes did not change. The
//! functions marked "as serde-saphyr" are adapted from its source, which is licensed MIT OR
//! Apache-2.0 (Copyright (c) the serde-saphyr authors). What is meshc's own is the fast path
//! for ASCII text, which must agree with them (a test checks that it does).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Folded (`>`) block scalars wrap at this many characters, and single-line strings longer than
/// this are written folded (serde-saphyr's `folded_wrap_chars`).
const FOLD_WIDTH: usize = 80;

/// Keys longer than this are written in the explicit `? key` form (YAML's 1024-character limit
/// on implicit keys).
const SIMPLE_KEY_MAX_LEN: usize = 1024;

/// How a string value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// As is.
    Plain,
    /// `'.'`, `'#'` or `'-'`: serde-saphyr writes these three one-character strings single-quoted.
    SingleQuoted,
    /// `"..."` with escapes.
    DoubleQuoted,
    /// A `|` block scalar (multi-line strings).
    Literal,
    /// A `>` block scalar (single-line strings longer than 80 characters).
    Folded,
}

/// The style of a string in value position (as serde-saphyr's `serialize_str`).
pub(super) fn value_style(s: &str) -> Style {
    if s.len() <= FOLD_WIDTH {
        // The common case: short, and plain unless it holds a line break or needs quotes.
        if is_plain_value(s) {
            return Style::Plain;
        }
        if matches!(s, "." | "#" | "-") {
            return Style::SingleQuoted;
        }
    }
    if s.contains('\n') {
        if is_block_scalar_content_safe(s) {
            return Style::Literal;
        }
    } else if s.len() > FOLD_WIDTH {
        // Folded block scalars keep trailing spaces, so only the rest must be plain.
        let probe = s.trim_end_matches(' ');
        if !probe.is_empty() && is_plain_value(probe) && s.chars().count() > FOLD_WIDTH {
            // A plain probe holds no character a block scalar cannot (checked anyway).
            if is_block_scalar_content_safe(s) {
                return Style::Folded;
            }
            return Style::DoubleQuoted;
        }
    }
    if s.len() > FOLD_WIDTH && is_plain_value(s) {
        Style::Plain
    } else {
        Style::DoubleQuoted
    }
}

/// A mapping key's text: the key itself when it may be plain, else double-quoted.
pub(super) fn key_text(s: &str) -> Cow<'_, str> {
    if is_plain_key(s) {
        Cow::Borrowed(s)
    } else {
        let mut quoted = String::with_capacity(s.len() + 2);
        quoted.push('"');
        write_escaped(&mut quoted, s);
        quoted.push('"');
        Cow::Owned(quoted)
    }
}

/// Whether a key's text may be an implicit key (`text: value`) rather than `? text`.
pub(super) fn is_simple_key_text(text: &str) -> bool {
    // UTF-8 bytes are an upper bound on the number of characters.
    text.len() <= SIMPLE_KEY_MAX_LEN || text.chars().count() <= SIMPLE_KEY_MAX_LEN
}

/// Whether `s` may be written plain as a block mapping value (serde-saphyr's
/// `is_plain_value_safe(s, yaml_12: false, in_flow: false)`).
pub(super) fn is_plain_value(s: &str) -> bool {
    ascii_plain(s, false).unwrap_or_else(|| saphyr::is_plain_value_safe(s, false, false))
}

/// Whether a key is written as it is (`key: value`): plain, and short enough in bytes to be an
/// implicit key without counting its characters. The writers' common case; the other keys go
/// through [`key_text`] and [`is_simple_key_text`].
pub(super) fn is_plain_implicit_key(s: &str) -> bool {
    s.len() <= SIMPLE_KEY_MAX_LEN && is_plain_key(s)
}

/// Whether `s` may be written plain as a mapping key (serde-saphyr's `is_plain_safe(s) &&
/// is_plain_value_safe(s, false, true)`: keys are checked as if they could be in flow style).
pub(super) fn is_plain_key(s: &str) -> bool {
    ascii_plain(s, true)
        .unwrap_or_else(|| saphyr::is_plain_safe(s) && saphyr::is_plain_value_safe(s, false, true))
}

/// Bytes that need a closer look in a plain scalar: controls, space, `#`, `:`, flow indicators,
/// and non-ASCII.
const SPECIAL: [bool; 256] = {
    let mut special = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        special[byte] = byte < 0x20
            || byte >= 0x7f
            || matches!(
                byte as u8,
                b' ' | b'#' | b':' | b',' | b'[' | b']' | b'{' | b'}'
            );
        byte += 1;
    }
    special
};

/// `is_plain_value` / `is_plain_key` in one pass over the bytes; `None` when the answer
/// depends on non-ASCII characters (serde-saphyr's predicates decide then). Every reason this
/// finds to quote is also one of serde-saphyr's, whatever the other characters are.
fn ascii_plain(s: &str, key: bool) -> Option<bool> {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Some(false); // The empty string reads as null.
    };
    // Leading or trailing white space would be lost; a trailing `:` would end a key.
    if first.is_ascii_whitespace() || last.is_ascii_whitespace() || last == b':' {
        return Some(false);
    }
    match first {
        // Control characters must be escaped.
        0..=0x1f | 0x7f => return Some(false),
        // `-` and `?` are indicators alone or before white space (`-a` is plain).
        b'-' | b'?' if bytes.len() == 1 || bytes[1].is_ascii_whitespace() => return Some(false),
        b',' | b':' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>'
        | b'\'' | b'"' | b'%' | b'@' | b'`' => return Some(false),
        _ => {}
    }
    let mut ascii = first < 0x80;
    // Most strings (names, hosts, durations) have no special byte after the first: a tight
    // search finds the first one, if any, and the loop looks closer from there.
    let special = |&byte: &u8| SPECIAL[usize::from(byte)];
    let from = bytes[1..]
        .iter()
        .position(special)
        .map_or(bytes.len(), |at| at + 1);
    for (index, &byte) in bytes.iter().enumerate().skip(from) {
        if !special(&byte) {
            continue;
        }
        match byte {
            0x80.. => ascii = false,
            // Control characters must be escaped.
            0..=0x1f | 0x7f => return Some(false),
            // `: ` ends a key.
            b' ' if bytes[index - 1] == b':' => return Some(false),
            // ` #` starts a comment.
            b'#' if bytes[index - 1] == b' ' => return Some(false),
            // In a key any `:` and the flow indicators are quoted: serde-saphyr checks keys as
            // if they were in flow style.
            b':' | b',' | b'[' | b']' | b'{' | b'}' if key => return Some(false),
            _ => {}
        }
    }
    if !ascii {
        // Unicode controls, white space and separators: serde-saphyr's predicates decide.
        return None;
    }
    // What a YAML 1.1 or 1.2 reader would resolve to something else than a string: numbers,
    // times and document markers (`---`, `...`) start with a digit, a sign, `.` or `_`; the
    // rest are a few words and signs.
    Some(match first {
        // Most such strings are durations (`15s`) or versions: a byte that no number or time
        // has settles it.
        b'0'..=b'9' if bytes.iter().any(|&byte| !NUMERIC[usize::from(byte)]) => true,
        b'0'..=b'9' | b'+' | b'-' | b'.' | b'_' => {
            !(saphyr::is_ambiguous(s, false)
                || saphyr::starts_with_document_marker(s)
                || (key && saphyr::is_ambiguous(s, true)))
        }
        _ => !is_reserved_word(bytes),
    })
}

/// Bytes that YAML 1.1 and 1.2 numbers (decimal, `0x`/`0o`/`0b`, exponents, `_`, base 60)
/// and timestamps (`2001-12-14t21:59:43.10 -05:00`, `…Z`) can hold.
const NUMERIC: [bool; 256] = {
    let mut numeric = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        numeric[byte] = matches!(
            byte as u8,
            b'0'..=b'9'
                | b'a'..=b'f'
                | b'A'..=b'F'
                | b'x'
                | b'X'
                | b'o'
                | b'O'
                | b't'
                | b'T'
                | b'Z'
                | b'_'
                | b'.'
                | b','
                | b'+'
                | b'-'
                | b':'
                | b' '
                | b'\t'
        );
        byte += 1;
    }
    numeric
};

/// The strings not starting with a digit, a sign, `.` or `_` that serde-saphyr's `is_ambiguous`
/// accepts (for YAML 1.1 and 1.2): booleans, null, not-a-number and infinity in any case, `~`,
/// and YAML 1.1's merge (`<<`) and value (`=`) keys.
fn is_reserved_word(bytes: &[u8]) -> bool {
    let word: &[u8] = match (bytes.len(), bytes[0] | 0x20) {
        (1, b'~') => b"~",
        (1, b'=') => b"=",
        (2, b'<') => b"<<",
        (1, b'y') => b"y",
        (1, b'n') => b"n",
        (2, b'n') => b"no",
        (2, b'o') => b"on",
        (3, b'y') => b"yes",
        (3, b'o') => b"off",
        (3, b'n') => b"nan",
        (3, b'i') => b"inf",
        (4, b't') => b"true",
        (4, b'n') => b"null",
        (5, b'f') => b"false",
        _ => return false,
    };
    word.eq_ignore_ascii_case(bytes)
}

/// Writes the inside of a double-quoted scalar: `\` and `"` escaped, control and other
/// non-printable characters as YAML escapes (as serde-saphyr's `escape_double_quoted`).
pub(super) fn write_escaped(out: &mut String, s: &str) {
    let mut start = 0;
    for (index, ch) in s.char_indices() {
        let escape = match ch {
            ' '..='~' if ch != '\\' && ch != '"' => continue,
            '\\' => Escape::Named("\\\\"),
            '"' => Escape::Named("\\\""),
            '\0' => Escape::Named("\\0"),
            '\u{7}' => Escape::Named("\\a"),
            '\u{8}' => Escape::Named("\\b"),
            '\t' => Escape::Named("\\t"),
            '\n' => Escape::Named("\\n"),
            '\u{b}' => Escape::Named("\\v"),
            '\u{c}' => Escape::Named("\\f"),
            '\r' => Escape::Named("\\r"),
            '\u{1b}' => Escape::Named("\\e"),
            '\u{FEFF}' => Escape::Named("\\uFEFF"),
            '\u{85}' => Escape::Named("\\N"),
            '\u{2028}' => Escape::Named("\\L"),
            '\u{2029}' => Escape::Named("\\P"),
            c if (c as u32) <= 0xFF && c.is_control() => Escape::Byte,
            c if (c as u32) <= 0xFFFF && saphyr::needs_escaping(c) => Escape::Unicode,
            _ => continue,
        };
        out.push_str(&s[start..index]);
        start = index + ch.len_utf8();
        match escape {
            Escape::Named(escape) => out.push_str(escape),
            // Writing into a String cannot fail.
            Escape::Byte => {
                let _ = write!(out, "\\x{:02X}", u32::from(ch));
            }
            Escape::Unicode => {
                let _ = write!(out, "\\u{:04X}", u32::from(ch));
            }
        }
    }
    out.push_str(&s[start..]);
}

/// A double-quoted scalar's escape for one character.
enum Escape {
    /// `\n`, `\t`, ...
    Named(&'static str),
    /// `\xXX`.
    Byte,
    /// `\uXXXX`.
    Unicode,
}

/// Writes `|` or `|2` and the chomping indicator, a newline, and the lines of `s` indented to
/// `column` (as serde-saphyr's literal style). `s` contains a newline and no character a block
/// scalar cannot hold.
pub(super) fn write_literal(out: &mut String, s: &str, column: usize) {
    let content = s.trim_end_matches('\n');
    let trailing_newlines = s.len() - content.len();
    out.push('|');
    if first_line_leading_spaces(content) > 0 {
        // The body's indentation cannot be detected: say it (one level, relative to the parent).
        out.push('2');
    }
    match trailing_newlines {
        0 => out.push('-'),
        1 if !content.is_empty() => {}
        _ => out.push('+'),
    }
    out.push('\n');
    if content.is_empty() {
        for _ in 0..trailing_newlines {
            out.push('\n');
        }
        return;
    }
    for line in content.split('\n') {
        if !line.is_empty() {
            super::indent_columns(out, column);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing_newlines {
        out.push('\n');
    }
}

/// Writes `>-`, a newline, and `s` folded at spaces to lines of at
/// most 80 characters, indented to `column` (as serde-saphyr's automatic folded style and its
/// `write_folded_block`). `s` is a single line whose text without trailing spaces is plain, so
/// the header is `>-`.
pub(super) fn write_folded(out: &mut String, s: &str, column: usize) {
    // `value_style` folds only such strings, so the header is always `>-`: no line break to
    // keep, no leading space to announce with an indentation indicator.
    debug_assert!(!s.contains('\n') && !s.starts_with(' '), "{s:?}");
    out.push_str(">-\n");
    // Wrap at runs of spaces only: a folded line break reads back as one space, so a run of
    // N spaces becomes N - 1 trailing spaces and the break.
    let mut start = 0;
    let mut col = 0;
    // (start, end, length in characters) of the last run of spaces before the limit.
    let mut last_run: Option<(usize, usize, usize)> = None;
    let mut in_run = false;
    let mut run_start = 0;
    let mut run_len = 0;
    let mut previous_end = 0;
    for (index, ch) in s.char_indices() {
        if in_run && ch != ' ' {
            // A continuation line starting with a tab would be more-indented.
            if ch != '\t' {
                last_run = Some((run_start, previous_end, run_len));
            }
            in_run = false;
            run_len = 0;
        }
        if ch == ' ' {
            if in_run {
                run_len += 1;
            } else {
                in_run = true;
                run_start = index;
                run_len = 1;
            }
        }
        col += 1;
        if col > FOLD_WIDTH {
            let Some((run_start, run_end, run_len)) = last_run else {
                // No space to break at: the line stays long.
                break;
            };
            super::indent_columns(out, column);
            out.push_str(&s[start..run_start]);
            for _ in 1..run_len {
                out.push(' ');
            }
            out.push('\n');
            start = run_end;
            col = 0;
            last_run = None;
        }
        previous_end = index + ch.len_utf8();
    }
    super::indent_columns(out, column);
    out.push_str(&s[start..]);
    out.push('\n');
}

/// Leading spaces of the first non-empty line.
fn first_line_leading_spaces(s: &str) -> usize {
    s.split('\n')
        .find(|line| !line.is_empty())
        .map_or(0, |line| line.len() - line.trim_start_matches(' ').len())
}

/// Whether every character of `s` can be written literally in a block scalar (as serde-saphyr's
/// `is_block_scalar_content_safe`: printable, no `\r`, BOM or Unicode line separators).
fn is_block_scalar_content_safe(s: &str) -> bool {
    s.chars().all(|ch| match ch {
        '\n' | '\t' => true,
        '\r' | '\u{0085}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' => false,
        c => matches!(
            c as u32,
            0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x0010_FFFF
        ),
    })
}

/// Writes a float as serde-saphyr does: the shortest decimal that reads back as the same
/// number (zmij's digits), always with a `.` (`10.0`), in exponent form outside 1e-5..1e16 with
/// a signed exponent (`1.0e+16`, `1.5e-7`), and `.nan`, `.inf`, `-.inf`.
pub(super) fn write_f64(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str(".nan");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { ".inf" } else { "-.inf" });
        return;
    }
    // Rust's `{:e}` prints the shortest digits that read back as `value`, as zmij does.
    let mut scientific = String::with_capacity(32);
    // Writing into a String cannot fail.
    let _ = write!(scientific, "{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    if digits.len() >= 16 && digits.ends_with('3') && is_tie(value.abs(), &digits) {
        // `value` is exactly halfway between two shortest decimals: Rust rounds the tie up
        // (`…2.5` → `…3`), zmij to even (`…2`). (`…7.5` is `…8` for both.)
        digits.pop();
        digits.push('2');
    }
    if value.is_sign_negative() {
        out.push('-');
    }
    let digits = digits.as_str();
    let count = digits.len() as i32;
    if (-5..=15).contains(&exponent) {
        if count - 1 <= exponent {
            // 1234e7 → 12340000000.0
            out.push_str(digits);
            for _ in 0..exponent - (count - 1) {
                out.push('0');
            }
            out.push_str(".0");
        } else if exponent >= 0 {
            // 1234e1 → 12.34
            let point = exponent as usize + 1;
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        } else {
            // 1234e-3 → 0.001234
            out.push_str("0.");
            for _ in 0..-exponent - 1 {
                out.push('0');
            }
            out.push_str(digits);
        }
    } else {
        // 1234e20 → 1.234e+20, 1e-7 → 1.0e-7
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if count > 1 { &digits[1..] } else { "0" });
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        // Writing into a String cannot fail.
        let _ = write!(out, "{}", exponent.unsigned_abs());
    }
}

/// Whether the exact value of `value` (positive) is `digits` without its last digit, then the
/// digits `25`: a tie between two decimals of that many digits.
fn is_tie(value: f64, digits: &str) -> bool {
    let kept = digits.len() - 1;
    // 767 digits after the point hold the exact value of every f64.
    let exact: String = format!("{value:.767e}")
        .split('e')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|&c| c != '.')
        .collect();
    exact.starts_with(&digits[..kept])
        && exact[kept..].starts_with("25")
        && exact[kept + 2..].bytes().all(|b| b == b'0')
}

/// serde-saphyr 2.2.0's quoting predicates (`src/ser/quoting.rs` and `parse_yaml11_bool` in
/// `src/parse_scalars.rs`), kept as written there: the reference the fast path must agree with,
/// and the path for non-ASCII text. Only the YAML 1.1 (`yaml_12: false`) and block/flow
/// distinctions meshc needs are kept.
pub(super) mod saphyr {
    /// Check numeric syntax without constructing a value: overflow and resolver errors
    /// must not turn a serialized string into a number or an unreadable document.
    fn is_numeric(s: &str, yaml_12: bool) -> bool {
        if !matches!(
            s.as_bytes().first(),
            Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'_')
        ) {
            return false;
        }
        let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
        if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") {
            return true;
        }
        if !yaml_12 {
            if is_yaml11_sexagesimal(s) {
                return true;
            }
            // YAML 1.1 radix productions accept [digits_]+, even an all-underscore
            // suffix that a resolver tags as numeric but cannot construct.
            if radix_digits(unsigned)
                .is_some_and(|(radix, digits)| is_digit_run(digits, radix, false))
            {
                return true;
            }
        }

        // Go YAML removes underscores before numeric resolution, including around
        // radix prefixes and exponents. YAML 1.2 output keeps the stricter spelling.
        let normalized;
        let s = if !yaml_12 && s.contains('_') {
            normalized = s.replace('_', "");
            normalized.as_str()
        } else {
            s
        };
        let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
        if let Some((radix, digits)) = radix_digits(unsigned) {
            // Go YAML's binary fallback (and octal fallback in v3.0.1) accepts
            // a sign after an unsigned lowercase 0b or 0o prefix.
            let digits = if !yaml_12 && (s.starts_with("0b") || s.starts_with("0o")) {
                digits.strip_prefix(['+', '-']).unwrap_or(digits)
            } else {
                digits
            };
            return is_digit_run(digits, radix, true);
        }
        let mantissa = match unsigned.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => {
                let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
                if !is_digit_run(exponent, 10, true) {
                    return false;
                }
                mantissa
            }
            None => unsigned,
        };
        match mantissa.split_once('.') {
            Some((whole, fraction)) => {
                if !whole.is_empty() && !is_digit_run(whole, 10, true) {
                    return false;
                }
                if !yaml_12 {
                    // The YAML 1.1 float production allows an empty integer part
                    // and [0-9.]* after the dot, including unconstructible spellings.
                    fraction.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                } else if fraction.is_empty() {
                    !whole.is_empty()
                } else {
                    is_digit_run(fraction, 10, true)
                }
            }
            None => is_digit_run(mantissa, 10, true),
        }
    }

    fn radix_digits(s: &str) -> Option<(u32, &str)> {
        match s.as_bytes() {
            [b'0', b'b' | b'B', ..] => Some((2, &s[2..])),
            [b'0', b'o' | b'O', ..] => Some((8, &s[2..])),
            [b'0', b'x' | b'X', ..] => Some((16, &s[2..])),
            _ => None,
        }
    }

    fn is_digit_run(s: &str, radix: u32, strict_underscores: bool) -> bool {
        let is_digit = |b: u8| b.is_ascii() && char::from(b).is_digit(radix);
        let bytes = s.as_bytes();
        !bytes.is_empty()
            && bytes.iter().enumerate().all(|(i, &b)| {
                is_digit(b)
                    || (b == b'_'
                        && (!strict_underscores
                            || (i > 0
                                && is_digit(bytes[i - 1])
                                && bytes.get(i + 1).is_some_and(|&next| is_digit(next)))))
            })
    }

    /// Recognize YAML 1.1 base-60 integers and floats without parsing their magnitude.
    fn is_yaml11_sexagesimal(s: &str) -> bool {
        let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
        let (integer, fraction) = match unsigned.split_once('.') {
            Some((integer, fraction)) => (integer, Some(fraction)),
            None => (unsigned, None),
        };
        let Some((first, rest)) = integer.split_once(':') else {
            return false;
        };
        let Some(first_digit) = first.as_bytes().first() else {
            return false;
        };
        if !first_digit.is_ascii_digit()
            || (fraction.is_none() && *first_digit == b'0')
            || !first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        {
            return false;
        }
        // Every subsequent base-60 component is one or two digits in 0..=59.
        if !rest.split(':').all(|part| match part.as_bytes() {
            [digit] => digit.is_ascii_digit(),
            [tens, units] => matches!(tens, b'0'..=b'5') && units.is_ascii_digit(),
            _ => false,
        }) {
            return false;
        }
        fraction.is_none_or(|part| part.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
    }

    /// Match timestamp syntax without calendar validation: a reader can assign a
    /// timestamp tag even when constructing the date would fail.
    fn is_yaml11_timestamp(mut s: &str) -> bool {
        fn digits(s: &mut &str, min: usize, max: usize) -> bool {
            let len = s.bytes().take_while(u8::is_ascii_digit).count();
            if !(min..=max).contains(&len) {
                return false;
            }
            *s = &s[len..];
            true
        }
        fn prefix(s: &mut &str, ch: char) -> bool {
            if let Some(rest) = s.strip_prefix(ch) {
                *s = rest;
                true
            } else {
                false
            }
        }
        if !digits(&mut s, 4, 4)
            || !prefix(&mut s, '-')
            || !digits(&mut s, 1, 2)
            || !prefix(&mut s, '-')
            || !digits(&mut s, 1, 2)
        {
            return false;
        }
        // Go YAML also accepts single-digit date and time components.
        if s.is_empty() {
            return true;
        }
        if let Some(rest) = s.strip_prefix(['T', 't']) {
            s = rest;
        } else {
            let rest = s.trim_start_matches([' ', '\t']);
            if rest.len() == s.len() {
                return false;
            }
            s = rest;
        }
        if !digits(&mut s, 1, 2)
            || !prefix(&mut s, ':')
            || !digits(&mut s, 1, 2)
            || !prefix(&mut s, ':')
            || !digits(&mut s, 1, 2)
        {
            return false;
        }
        // Go's time parser also accepts a comma as the fractional separator.
        if prefix(&mut s, '.') || prefix(&mut s, ',') {
            digits(&mut s, 0, usize::MAX);
        }
        s = s.trim_start_matches([' ', '\t']);
        if s.is_empty() || s == "Z" {
            return true;
        }
        if !(prefix(&mut s, '+') || prefix(&mut s, '-')) || !digits(&mut s, 1, 2) {
            return false;
        }
        if prefix(&mut s, ':') && !digits(&mut s, 2, 2) {
            return false;
        }
        s.is_empty()
    }

    /// Parse a YAML 1.1 boolean (the "Norway problem"): y, yes, true, on, n, no, false, off
    /// in any case, after trimming spaces, tabs and line breaks.
    fn is_yaml11_bool(s: &str) -> bool {
        let t = s.trim_matches([' ', '\t', '\r', '\n']);
        ["true", "yes", "y", "on", "false", "no", "n", "off"]
            .iter()
            .any(|word| t.eq_ignore_ascii_case(word))
    }

    /// Whether implicit scalar resolution can change a string's type or reject it.
    pub(in super::super) fn is_ambiguous(s: &str, yaml_12: bool) -> bool {
        s.is_empty()
            || s == "~"
            || s.eq_ignore_ascii_case("null")
            || s.eq_ignore_ascii_case("true")
            || s.eq_ignore_ascii_case("false")
            || is_numeric(s, yaml_12)
            // Preserve compatibility with readers accepting undotted float tokens.
            || s.eq_ignore_ascii_case("nan")
            || s.eq_ignore_ascii_case("inf")
            || s.eq_ignore_ascii_case("+inf")
            || s.eq_ignore_ascii_case("-inf")
            || (!yaml_12
                && (is_yaml11_bool(s) || is_yaml11_timestamp(s) || matches!(s, "<<" | "=")))
    }

    pub(in super::super) fn starts_with_document_marker(s: &str) -> bool {
        let Some(rest) = s.strip_prefix("---").or_else(|| s.strip_prefix("...")) else {
            return false;
        };
        rest.is_empty() || rest.as_bytes().first().is_some_and(u8::is_ascii_whitespace)
    }

    /// Returns true if `s` can be emitted as a plain scalar (key) without quoting.
    pub(in super::super) fn is_plain_safe(s: &str) -> bool {
        if is_ambiguous(s, true) {
            return false;
        }
        // A plain, untagged "<<" key would be a YAML merge key, not the literal string "<<".
        if s == "<<" {
            return false;
        }
        if starts_with_document_marker(s) {
            return false;
        }
        let bytes = s.as_bytes();
        if bytes.first().is_some_and(u8::is_ascii_whitespace)
            || bytes.last().is_some_and(u8::is_ascii_whitespace)
        {
            return false;
        }
        match bytes[0] {
            b'-' | b'?' => {
                if bytes.len() == 1 {
                    return false;
                }
                if bytes[1].is_ascii_whitespace() {
                    return false;
                }
            }
            b',' | b':' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>'
            | b'\'' | b'"' | b'%' | b'@' | b'`' => return false,
            _ => {}
        }
        !contains_any_or_is_control(s, &[':']) && !has_comment_start(s)
    }

    /// Returns true if `s` can be emitted as a plain scalar in value position without quoting.
    pub(in super::super) fn is_plain_value_safe(s: &str, yaml_12: bool, in_flow: bool) -> bool {
        if is_ambiguous(s, yaml_12) {
            return false;
        }
        if starts_with_document_marker(s) {
            return false;
        }
        let bytes = s.as_bytes();
        if bytes.first().is_some_and(u8::is_ascii_whitespace)
            || bytes.last().is_some_and(u8::is_ascii_whitespace)
        {
            return false;
        }
        match bytes {
            [b'-' | b'?', b1, ..] if b1.is_ascii_whitespace() => return false,
            [b'-' | b'?']
            | [b',' | b':' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>'
            | b'\'' | b'"' | b'%' | b'@' | b'`', ..] => return false,
            _ => {}
        }
        if s.contains(": ") || s.trim().ends_with(':') {
            return false;
        }
        if in_flow {
            !contains_any_or_is_control(s, &[',', '[', ']', '{', '}']) && !has_comment_start(s)
        } else {
            !contains_any_or_is_control(s, &[]) && !has_comment_start(s)
        }
    }

    /// Characters that cannot be written plain or single-quoted: controls, BOM, the Unicode
    /// line and paragraph separators, U+FFFE and U+FFFF.
    pub(in super::super) fn needs_escaping(ch: char) -> bool {
        ch.is_control()
            || matches!(
                ch,
                '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}'
            )
    }

    fn contains_any_or_is_control(string: &str, values: &[char]) -> bool {
        string
            .chars()
            .any(|x| needs_escaping(x) || values.iter().any(|v| &x == v))
    }

    fn has_comment_start(string: &str) -> bool {
        // In plain style, `#` starts a comment only when separated by whitespace.
        string.match_indices('#').any(|(index, _)| {
            string[..index]
                .chars()
                .next_back()
                .is_some_and(char::is_whitespace)
        })
    }
}
