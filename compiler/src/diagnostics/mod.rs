//! Diagnostics as data: a code, a message, labelled spans and a help line.
//!
//! Phases produce [`Diagnostic`] values; only `render` turns them into text (human, through
//! codespan-reporting, or JSON lines). Messages are lowercase, without a trailing period, with
//! names in backticks.

pub mod codes;
mod excerpt;
pub mod lints;
pub mod render;

pub use codes::Code;

use crate::source::Span;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Compilation fails; nothing is emitted.
    Error,
    /// Compilation succeeds (unless warnings are denied).
    Warning,
    /// Information about what was emitted; never fails a compilation.
    Note,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A span with a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What about it.
    pub message: String,
}

/// One problem found in the user's program.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// Error or warning (follows from the code).
    pub severity: Severity,
    /// The headline.
    pub message: String,
    /// The main span: what is wrong here.
    pub primary: Label,
    /// Related spans ("first defined here").
    pub secondary: Vec<Label>,
    /// How to fix it.
    pub help: String,
    /// Extra facts.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with `code`, its headline, and the primary label.
    pub fn new(
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Diagnostic {
        let severity = code.severity();
        Diagnostic {
            code,
            severity,
            message: message.into(),
            primary: Label {
                span,
                message: label.into(),
            },
            secondary: Vec::new(),
            help: help.into(),
            notes: Vec::new(),
        }
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file, then position, then code, so output never depends on the order
/// in which checks ran.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (
            a.primary.span.file,
            a.primary.span.start,
            a.primary.span.end,
            a.code,
        )
            .cmp(&(
                b.primary.span.file,
                b.primary.span.start,
                b.primary.span.end,
                b.code,
            ))
    });
}

/// Names longer than this get no "did you mean": a Kubernetes name has at most 253 characters,
/// and the edit distance takes time and memory in the product of the two lengths.
const LONGEST_SUGGESTED: usize = 256;

/// The names in `candidates` closest to `name`, for "did you mean" help: at most one, and only
/// when it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let name: Vec<char> = name.to_lowercase().chars().collect();
    if name.len() > LONGEST_SUGGESTED {
        return None;
    }
    let limit = (name.len() / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|candidate| Some((edit_distance(&name, candidate, limit)?, candidate)))
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, candidate)| candidate)
}

/// Edit distance over chars, case-insensitive (`a` is lowercase already), where swapping two
/// neighbours counts as one edit (optimal string alignment): `retyr` is one edit from `retry`.
/// `None` when it is more than `limit`.
fn edit_distance(a: &[char], b: &str, limit: usize) -> Option<usize> {
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // The distance is at least the difference in length: a long candidate costs nothing.
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    // Three rows of the table: i - 2, i - 1 and i.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(row[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            row[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut row);
    }
    let distance = previous[b.len()];
    (distance <= limit).then_some(distance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["research-agent", "code-agent", "orchestrator-agent"];
        assert_eq!(did_you_mean("reserch-agent", names), Some("research-agent"));
        assert_eq!(did_you_mean("code-agnet", names), Some("code-agent"));
        assert_eq!(did_you_mean("billing", names), None);
        assert_eq!(did_you_mean("retyr", ["retry", "timeout"]), Some("retry"));
        assert_eq!(did_you_mean("RETRY", ["retry"]), Some("retry"));
        assert_eq!(did_you_mean("ab", ["ba", "abc", "b"]), Some("abc"));
    }

    /// Found by fuzzing: two 20,000-character names took 3 GB (the whole table) to compare.
    #[test]
    fn long_names_get_no_suggestion_and_cost_little() {
        let long = "a".repeat(100_000);
        let other = format!("{}b", "a".repeat(99_999));
        assert_eq!(did_you_mean(&long, [other.as_str()]), None);
        let name = "a".repeat(LONGEST_SUGGESTED);
        let near = format!("{name}b");
        assert_eq!(
            did_you_mean(&name, [near.as_str(), long.as_str()]),
            Some(near.as_str())
        );
    }
}
