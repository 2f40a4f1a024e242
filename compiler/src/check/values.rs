//! Literal conversion with kind and range checks: counts, durations, percentages, switches.
//!
//! Every function reports its own diagnostic and returns `None` when the literal does not fit,
//! so callers simply skip the value and carry on checking.

use crate::ast::{Literal, LiteralKind};
use crate::diagnostics::lints::Silenced;
use crate::diagnostics::{did_you_mean, Code, Diagnostic};
use crate::ir;

/// The most milliseconds a Go duration can hold (`math.MaxInt64` nanoseconds).
const MAX_DURATION_MS: u128 = 9_223_372_036_854;

/// Collects diagnostics for one compilation.
#[derive(Default)]
pub(crate) struct Sink<'a> {
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The lints to drop as they come.
    silenced: Option<&'a Silenced>,
}

/// How a literal kind is named in messages ("expected a duration, found a count").
pub(crate) fn kind_name(kind: LiteralKind) -> &'static str {
    match kind {
        LiteralKind::Int => "a count",
        LiteralKind::Float => "a decimal number",
        LiteralKind::Percent => "a percentage",
        LiteralKind::Duration => "a duration",
        LiteralKind::String => "a string",
        LiteralKind::Word => "a word",
    }
}

/// An example of a literal of `kind`, for help lines.
fn kind_example(kind: LiteralKind) -> &'static str {
    match kind {
        LiteralKind::Int => "a whole number such as `3`",
        LiteralKind::Float => "a number such as `2.5`",
        LiteralKind::Percent => "a number with `%`, such as `10%`",
        LiteralKind::Duration => "a number with a unit (`ms`, `s`, `m`, `h`), such as `15s`",
        LiteralKind::String => "text in double quotes",
        LiteralKind::Word => "a word",
    }
}

impl<'a> Sink<'a> {
    /// A sink that drops the lints `silenced` silences.
    pub(crate) fn new(silenced: &'a Silenced) -> Sink<'a> {
        Sink {
            diagnostics: Vec::new(),
            silenced: Some(silenced),
        }
    }

    /// An empty sink that drops what this one drops.
    pub(crate) fn like(&self) -> Sink<'a> {
        Sink {
            diagnostics: Vec::new(),
            silenced: self.silenced,
        }
    }

    /// Records a diagnostic, unless it is a silenced lint.
    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        if !self.silences(diagnostic.code, diagnostic.primary.span) {
            self.diagnostics.push(diagnostic);
        }
    }

    /// Like [`Sink::push`]; the index of the diagnostic in `diagnostics` if it was kept.
    pub(crate) fn push_kept(&mut self, diagnostic: Diagnostic) -> Option<usize> {
        let index = self.diagnostics.len();
        self.push(diagnostic);
        (self.diagnostics.len() > index).then_some(index)
    }

    /// Whether a lint of `code` at `span` would be dropped: a check whose warning costs
    /// something to write asks first.
    pub(crate) fn silences(&self, code: Code, span: crate::source::Span) -> bool {
        self.silenced.is_some_and(|s| s.silences(code, span))
    }

    /// The one value of an option that may be written at most once: the first, after reporting
    /// E0304 for any repetition.
    pub(crate) fn single<'v, T>(
        &mut self,
        values: &'v [T],
        what: &str,
        span: impl Fn(&T) -> crate::source::Span,
    ) -> Option<&'v T> {
        let first = values.first()?;
        for again in &values[1..] {
            self.push(
                Diagnostic::new(
                    Code::E0304,
                    format!("`{what}` is given twice"),
                    span(again),
                    "given again here",
                    "keep one of the two",
                )
                .with_secondary(span(first), "first given here"),
            );
        }
        Some(first)
    }

    /// Checks that `lit` is of `kind`; reports E0201 if not.
    pub(crate) fn expect_kind(&mut self, lit: &Literal, kind: LiteralKind, what: &str) -> bool {
        if lit.kind == kind {
            return true;
        }
        self.push(Diagnostic::new(
            Code::E0201,
            format!(
                "expected {}, found {}",
                kind_name(kind),
                kind_name(lit.kind)
            ),
            lit.span,
            format!("{what} takes {}", kind_name(kind)),
            format!("write {}", kind_example(kind)),
        ));
        false
    }

    /// A whole number in `min..=max`.
    pub(crate) fn count(
        &mut self,
        lit: &Literal,
        min: u64,
        max: u64,
        what: &str,
        help: &str,
    ) -> Option<u32> {
        if !self.expect_kind(lit, LiteralKind::Int, what) {
            return None;
        }
        let value = lit
            .text
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n));
        if value.is_none() {
            // `help` explains the lower bound; above the upper bound, say what it is.
            let too_large = lit.text.parse::<u64>().map_or(true, |n| n > max);
            let help = if too_large {
                format!("{what} is at most {max}")
            } else {
                help.to_string()
            };
            self.push(Diagnostic::new(
                Code::E0202,
                format!("{what} must be between {min} and {max}, found {}", lit.text),
                lit.span,
                "out of range",
                help,
            ));
        }
        value.map(|n| n as u32)
    }

    /// A duration of at least 1 ms, in whole milliseconds.
    pub(crate) fn duration(&mut self, lit: &Literal, what: &str) -> Option<ir::Duration> {
        if !self.expect_kind(lit, LiteralKind::Duration, what) {
            return None;
        }
        let invalid = |sink: &mut Sink, message: String, label: &str, help: &str| {
            sink.push(Diagnostic::new(Code::E0204, message, lit.span, label, help));
            None
        };
        let Some(nanos) = parse_duration_nanos(&lit.text) else {
            return invalid(
                self,
                format!("`{}` is too long a duration", lit.text),
                "longer than Kubernetes can represent (about 292 years)",
                "write a shorter duration",
            );
        };
        if nanos < 1_000_000 {
            return invalid(
                self,
                format!("{what} must be at least 1ms, found `{}`", lit.text),
                "shorter than 1ms",
                "Istio rejects durations under 1ms; to turn the setting off, leave it out",
            );
        }
        if nanos % 1_000_000 != 0 {
            return invalid(
                self,
                format!("{what} must be whole milliseconds, found `{}`", lit.text),
                "finer than 1ms",
                "Istio only supports millisecond precision: round to whole `ms`",
            );
        }
        let millis = nanos / 1_000_000;
        if millis > MAX_DURATION_MS {
            return invalid(
                self,
                format!("`{}` is too long a duration", lit.text),
                "longer than Kubernetes can represent (about 292 years)",
                "write a shorter duration",
            );
        }
        Some(ir::Duration {
            millis: millis as u64,
        })
    }

    /// A percentage in `min..=max`; with `whole`, without a fractional part.
    pub(crate) fn percent(&mut self, lit: &Literal, what: &str, whole: bool) -> Option<f64> {
        if !self.expect_kind(lit, LiteralKind::Percent, what) {
            return None;
        }
        let number = lit.text.trim_end_matches('%');
        let value: f64 = number.parse().ok()?;
        if !(0.0..=100.0).contains(&value) {
            self.push(Diagnostic::new(
                Code::E0202,
                format!("{what} must be between 0% and 100%, found {}", lit.text),
                lit.span,
                "out of range",
                "a percentage is at most 100%",
            ));
            return None;
        }
        if whole && value.fract() != 0.0 {
            self.push(Diagnostic::new(
                Code::E0202,
                format!("{what} must be a whole percentage, found {}", lit.text),
                lit.span,
                "has a fractional part",
                format!("Istio stores {what} as a whole number: use whole percentages"),
            ));
            return None;
        }
        Some(value)
    }

    /// A fault-injection percentage: 0, or 0.0001–100 (Istio's rule).
    pub(crate) fn fault_percent(&mut self, lit: &Literal, what: &str) -> Option<f64> {
        let value = self.percent(lit, what, false)?;
        if value != 0.0 && value < 0.0001 {
            self.push(Diagnostic::new(
                Code::E0202,
                format!("{what} must be 0% or at least 0.0001%, found {}", lit.text),
                lit.span,
                "too small for Envoy to apply",
                "use at least `0.0001%`",
            ));
            return None;
        }
        Some(value)
    }

    /// `on` or `off`.
    pub(crate) fn switch(&mut self, lit: &Literal, what: &str) -> Option<bool> {
        self.keyword(lit, what, &[("on", true), ("off", false)])
    }

    /// One of a closed set of words.
    pub(crate) fn keyword<T: Copy>(
        &mut self,
        lit: &Literal,
        what: &str,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let words: Vec<&str> = choices.iter().map(|(word, _)| *word).collect();
        let listed = words
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if lit.kind != LiteralKind::Word {
            self.push(Diagnostic::new(
                Code::E0201,
                format!("expected a word, found {}", kind_name(lit.kind)),
                lit.span,
                format!("{what} takes a word"),
                format!("{what} is one of {listed}"),
            ));
            return None;
        }
        if let Some((_, value)) = choices.iter().find(|(word, _)| *word == lit.text) {
            return Some(*value);
        }
        let help = match did_you_mean(&lit.text, words.iter().copied()) {
            Some(near) => format!("did you mean `{near}`? {what} is one of {listed}"),
            None => format!("{what} is one of {listed}"),
        };
        self.push(Diagnostic::new(
            Code::E0206,
            format!("unknown value `{}` for {what}", lit.text),
            lit.span,
            "not a known value",
            help,
        ));
        None
    }
}

/// Parses `1m30s`, `1.5s`, `250ms` into nanoseconds; `None` on overflow. The grammar guarantees
/// the shape: one or more `digits[.digits]unit` parts.
fn parse_duration_nanos(text: &str) -> Option<u128> {
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale: u128 = match unit {
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            _ => 3_600_000_000_000,
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let whole: u128 = whole.parse().ok()?;
        let mut part = whole.checked_mul(scale)?;
        // Exact fractional part: digits beyond nanosecond precision make the value non-whole
        // milliseconds anyway, so truncating them cannot turn an invalid duration valid.
        let mut place = scale;
        for digit in fraction.chars().take(30) {
            place /= 10;
            let digit = u128::from(digit.to_digit(10)?);
            part = part.checked_add(digit * place)?;
            if place == 0 && digit != 0 {
                // A digit below one nanosecond: certainly not whole milliseconds.
                part = part.checked_add(1)?;
            }
        }
        total = total.checked_add(part)?;
        rest = next;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::parse_duration_nanos;

    #[test]
    fn parses_go_style_durations() {
        assert_eq!(parse_duration_nanos("15s"), Some(15_000_000_000));
        assert_eq!(parse_duration_nanos("250ms"), Some(250_000_000));
        assert_eq!(parse_duration_nanos("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_duration_nanos("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration_nanos("1h"), Some(3_600_000_000_000));
        assert_eq!(parse_duration_nanos("0.5ms"), Some(500_000));
        assert_eq!(
            parse_duration_nanos("99999999999999999999999999999999999999h"),
            None
        );
    }
}
