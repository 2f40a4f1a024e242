//! Long source lines in rendered diagnostics: a one-line file of a megabyte must not print a
//! megabyte per diagnostic.
//!
//! When a labelled line (or a line next to one) is longer than [`LONG_LINE`] bytes, the
//! diagnostic is rendered from an [`Excerpt`]: only the lines codespan shows, each long one cut
//! to the stretches around its labels (`…` where text is left out), with the original line
//! numbers and columns. Every other diagnostic is rendered from the [`SourceMap`] itself.

use std::collections::BTreeMap;
use std::ops::Range;

use codespan_reporting::files::{self, Files, Location};

use crate::source::{FileId, SourceMap, Span};

/// Lines longer than this many bytes are cut.
pub const LONG_LINE: usize = 240;
/// Bytes kept before and after each label on a cut line.
const CONTEXT: usize = 40;
/// The most of one label shown on a cut line.
const LONGEST_LABEL: usize = 120;
/// What a line that carries no label keeps of itself when cut.
const CONTEXT_LINE: usize = 80;
const ELLIPSIS: &str = "…";

/// A stretch of an original line and where it starts in the excerpt.
#[derive(Debug)]
struct Piece {
    original: Range<usize>,
    start: usize,
}

#[derive(Debug)]
struct Line {
    /// The line in the excerpt's text.
    range: Range<usize>,
    pieces: Vec<Piece>,
}

/// The lines one diagnostic shows, cut where they are long, keyed by file and original line
/// index; all files' lines share one text.
pub struct Excerpt<'s> {
    sources: &'s SourceMap,
    text: String,
    lines: BTreeMap<(FileId, usize), Line>,
}

/// The byte range of line `index` of `text`, without its line end.
fn line_range(sources: &SourceMap, file: FileId, index: usize) -> Option<Range<usize>> {
    let range = sources.line_range(file, index).ok()?;
    let text = &sources.text(file)[range.clone()];
    let trimmed = text.trim_end_matches(['\n', '\r']).len();
    Some(range.start..range.start + trimmed)
}

fn floor_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

impl<'s> Excerpt<'s> {
    /// The excerpt for a diagnostic with these label spans, or `None` when every line it shows
    /// is short enough to print whole.
    pub fn for_labels(sources: &'s SourceMap, spans: &[Span]) -> Option<Excerpt<'s>> {
        // Labelled stretches by (file, line), each cut to its first line and a sane length.
        let mut labelled: BTreeMap<(FileId, usize), Vec<Range<usize>>> = BTreeMap::new();
        for span in spans {
            let index = sources.line_index(span.file, span.start as usize).ok()?;
            let line = line_range(sources, span.file, index)?;
            let text = sources.text(span.file);
            let start = (span.start as usize).clamp(line.start, line.end);
            let end = (span.end as usize).clamp(start, line.end.min(start + LONGEST_LABEL));
            let end = ceil_boundary(text, end);
            labelled
                .entry((span.file, index))
                .or_default()
                .push(start..end);
        }
        // The labelled lines and their neighbours, which codespan may print as context.
        let mut shown: BTreeMap<(FileId, usize), Vec<Range<usize>>> = BTreeMap::new();
        for (&(file, index), ranges) in &labelled {
            for near in index.saturating_sub(1)..=index + 1 {
                if line_range(sources, file, near).is_some() {
                    shown.entry((file, near)).or_default();
                }
            }
            shown.insert((file, index), ranges.clone());
        }
        let long = |&(file, index): &(FileId, usize)| {
            line_range(sources, file, index).is_some_and(|r| r.len() > LONG_LINE)
        };
        if !shown.keys().any(long) {
            return None;
        }
        let mut excerpt = Excerpt {
            sources,
            text: String::new(),
            lines: BTreeMap::new(),
        };
        for ((file, index), labels) in shown {
            let line = line_range(sources, file, index)?;
            excerpt.add_line(file, index, line, labels);
        }
        Some(excerpt)
    }

    fn add_line(
        &mut self,
        file: FileId,
        index: usize,
        line: Range<usize>,
        labels: Vec<Range<usize>>,
    ) {
        let text = self.sources.text(file);
        // The stretches to keep: the whole line if short, else each label with some context,
        // merged where they touch.
        let mut keep: Vec<Range<usize>> = Vec::new();
        if line.len() <= LONG_LINE {
            keep.push(line.clone());
        } else if labels.is_empty() {
            keep.push(line.start..floor_boundary(text, line.start + CONTEXT_LINE));
        } else {
            let mut wanted: Vec<Range<usize>> = labels
                .iter()
                .map(|r| {
                    let start =
                        floor_boundary(text, r.start.saturating_sub(CONTEXT).max(line.start));
                    let end = ceil_boundary(text, (r.end + CONTEXT).min(line.end));
                    start..end
                })
                .collect();
            wanted.sort_by_key(|r| r.start);
            for range in wanted {
                match keep.last_mut() {
                    Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                    _ => keep.push(range),
                }
            }
        }
        let start = self.text.len();
        let mut pieces = Vec::new();
        let mut at = line.start;
        for range in keep {
            if range.start > at {
                self.text.push_str(ELLIPSIS);
            }
            pieces.push(Piece {
                original: range.clone(),
                start: self.text.len(),
            });
            self.text.push_str(&text[range.clone()]);
            at = range.end;
        }
        if at < line.end {
            self.text.push_str(ELLIPSIS);
        }
        let end = self.text.len();
        self.text.push('\n');
        self.lines.insert(
            (file, index),
            Line {
                range: start..end,
                pieces,
            },
        );
    }

    /// Where a label's span is in the excerpt: from its start to its end, or to the end of the
    /// stretch kept around its start (labels are cut like the lines, to their first line).
    pub fn map(&self, span: Span) -> Range<usize> {
        let start = span.start as usize;
        let kept = self
            .sources
            .line_index(span.file, start)
            .ok()
            .and_then(|index| self.lines.get(&(span.file, index)))
            .and_then(|line| {
                line.pieces
                    .iter()
                    .find(|p| p.original.start <= start && start <= p.original.end)
            });
        // Every label's start is kept (`for_labels`); an empty range is only a fallback.
        let Some(piece) = kept else { return 0..0 };
        let end = (span.end as usize).clamp(start, piece.original.end);
        let at = piece.start + (start - piece.original.start);
        at..at + (end - start)
    }

    /// The line (original index) and piece that hold a byte of the excerpt.
    fn locate(&self, file: FileId, at: usize) -> Option<(usize, &Line)> {
        self.lines
            .range((file, 0)..=(file, usize::MAX))
            .find(|(_, line)| line.range.start <= at && at <= line.range.end)
            .map(|(&(_, index), line)| (index, line))
    }
}

impl<'a> Files<'a> for Excerpt<'_> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        Ok(self.sources.name(id))
    }

    fn source(&'a self, _id: FileId) -> Result<&'a str, files::Error> {
        Ok(&self.text)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, files::Error> {
        self.locate(id, byte_index)
            .map(|(index, _)| index)
            .ok_or(files::Error::FileMissing)
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, files::Error> {
        // A line codespan asks for but the excerpt does not hold is shown empty.
        Ok(self
            .lines
            .get(&(id, line_index))
            .map_or(0..0, |line| line.range.clone()))
    }

    fn location(&'a self, id: FileId, byte_index: usize) -> Result<Location, files::Error> {
        let (_, line) = self
            .locate(id, byte_index)
            .ok_or(files::Error::FileMissing)?;
        let piece = line
            .pieces
            .iter()
            .rev()
            .find(|p| p.start <= byte_index)
            .ok_or(files::Error::FileMissing)?;
        let offset = piece.original.start + (byte_index - piece.start).min(piece.original.len());
        let (line_number, column_number) = self.sources.line_col(id, offset as u32);
        Ok(Location {
            line_number,
            column_number,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::{render, Code, Diagnostic};
    use crate::source::{SourceMap, Span};

    /// A span of `word`, which occurs once in `text`.
    fn span_of(text: &str, word: &str) -> Span {
        let start = text.find(word).expect("word in text");
        Span {
            file: 0,
            start: start as u32,
            end: (start + word.len()) as u32,
        }
    }

    #[test]
    fn a_long_line_is_cut_around_each_label_with_its_real_column() {
        let filler = "x ".repeat(1_000);
        let text =
            format!("namespace t\nservice a {{ }} {filler}first {filler}second {filler}\nend\n");
        let mut sources = SourceMap::new();
        sources.add("long.mesh", text.as_str());
        let diagnostic = Diagnostic::new(
            Code::E0103,
            "twice",
            span_of(&text, "second"),
            "here",
            "fix",
        )
        .with_secondary(span_of(&text, "first"), "first");
        let shown = render::human_string(&sources, &[diagnostic]);
        let column = text.find("second").unwrap() - text.find("service").unwrap() + 1;
        assert!(shown.contains(&format!("long.mesh:2:{column}")), "{shown}");
        // One stretch around each label, `…` where text is left out, both labels underlined.
        let line = shown
            .lines()
            .find(|l| l.starts_with("2 │"))
            .expect("line 2 shown");
        assert!(
            line.contains("x first x") && line.contains("x second x"),
            "{line}"
        );
        assert_eq!(line.matches('…').count(), 3, "{line}");
        assert!(line.len() < 400, "{} bytes: {line}", line.len());
        // Both labels underlined under their words (the primary `^`, the secondary `-`).
        let marks = shown
            .lines()
            .find(|l| l.contains("^^^^^^ here"))
            .expect("marks");
        // In columns (characters): `…` and `│` take several bytes.
        let under = |word: &str| {
            let column = line[..line.find(word)?].chars().count();
            Some(
                marks
                    .chars()
                    .skip(column)
                    .take(word.len())
                    .collect::<String>(),
            )
        };
        assert_eq!(under("second").as_deref(), Some("^^^^^^"), "{shown}");
        assert_eq!(under("first").as_deref(), Some("-----"), "{shown}");
    }

    #[test]
    fn short_lines_are_rendered_from_the_source_itself() {
        let text = "namespace t\nservice a { }\n";
        let mut sources = SourceMap::new();
        sources.add("short.mesh", text);
        let span = span_of(text, "a {");
        assert!(super::Excerpt::for_labels(&sources, &[span]).is_none());
    }
}
