//! Rendering diagnostics: rustc-style text through codespan-reporting, or JSON lines.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor::WriteColor};

use std::ops::Range;

use crate::diagnostics::excerpt::Excerpt;
use crate::diagnostics::{Diagnostic, Severity};
use crate::source::{SourceMap, Span};

/// `place` gives each label's range in the text codespan renders from.
fn to_codespan(
    diagnostic: &Diagnostic,
    place: impl Fn(Span) -> Range<usize>,
) -> cs::Diagnostic<usize> {
    let severity = match diagnostic.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Note => cs::Severity::Note,
    };
    let span = diagnostic.primary.span;
    let mut labels =
        vec![cs::Label::primary(span.file, place(span)).with_message(&diagnostic.primary.message)];
    labels.extend(diagnostic.secondary.iter().map(|label| {
        cs::Label::secondary(label.span.file, place(label.span)).with_message(&label.message)
    }));
    let mut notes: Vec<String> = diagnostic
        .notes
        .iter()
        .map(|note| format!("note: {note}"))
        .collect();
    notes.push(format!("help: {}", diagnostic.help));
    cs::Diagnostic::new(severity)
        .with_code(diagnostic.code.as_str())
        .with_message(&diagnostic.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// Writes diagnostics in rustc style to a terminal-like writer (colour decided by the writer).
pub fn human(
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    writer: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let config = term::Config::default();
    for diagnostic in diagnostics {
        let spans: Vec<Span> = std::iter::once(diagnostic.primary.span)
            .chain(diagnostic.secondary.iter().map(|l| l.span))
            .collect();
        let written = match Excerpt::for_labels(sources, &spans) {
            None => {
                let rendered = to_codespan(diagnostic, Span::range);
                term::emit_to_write_style(writer, &config, sources, &rendered)
            }
            Some(excerpt) => {
                let rendered = to_codespan(diagnostic, |span| excerpt.map(span));
                term::emit_to_write_style(writer, &config, &excerpt, &rendered)
            }
        };
        written.map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// Renders diagnostics in rustc style without colour, for tests and snapshots.
pub fn human_string(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut buffer = term::termcolor::NoColor::new(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = human(sources, diagnostics, &mut buffer);
    String::from_utf8_lossy(&buffer.into_inner()).into_owned()
}

/// One diagnostic as one line of JSON: code, severity, message, file, line, column, end line,
/// end column (1-based; the end is exclusive), labels, help and notes.
pub fn json_line(sources: &SourceMap, diagnostic: &Diagnostic) -> String {
    let location = |span: crate::source::Span| {
        let (line, column) = sources.line_col(span.file, span.start);
        let (end_line, end_column) = sources.line_col(span.file, span.end);
        (
            sources.name(span.file).to_string(),
            line,
            column,
            end_line,
            end_column,
        )
    };
    let label = |label: &crate::diagnostics::Label, primary: bool| {
        let (file, line, column, end_line, end_column) = location(label.span);
        serde_json::json!({
            "file": file, "line": line, "column": column,
            "end_line": end_line, "end_column": end_column,
            "message": label.message, "primary": primary,
        })
    };
    let (file, line, column, end_line, end_column) = location(diagnostic.primary.span);
    let mut labels = vec![label(&diagnostic.primary, true)];
    labels.extend(diagnostic.secondary.iter().map(|l| label(l, false)));
    serde_json::json!({
        "code": diagnostic.code.as_str(),
        "severity": diagnostic.severity.as_str(),
        "message": diagnostic.message,
        "file": file, "line": line, "column": column,
        "end_line": end_line, "end_column": end_column,
        "labels": labels,
        "help": diagnostic.help,
        "notes": diagnostic.notes,
    })
    .to_string()
}
