//! Source files and spans.
//!
//! A [`Span`] is a `Copy` pair of byte offsets into one file of a [`SourceMap`]; line and column
//! are computed only when a diagnostic is rendered (by codespan-reporting).

use std::sync::OnceLock;

use codespan_reporting::files;

/// Identifies one file of a [`SourceMap`].
pub type FileId = usize;

/// A byte range in one source file. `end` is the offset of the last byte plus one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The file the range belongs to.
    pub file: FileId,
    /// Offset of the first byte.
    pub start: u32,
    /// Offset of the last byte plus one.
    pub end: u32,
}

impl Span {
    /// A span covering both `self` and `other` (which must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The byte range, for codespan labels.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A value with the span it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

/// One source file: its name as shown in diagnostics, its text, and where its lines start.
struct SourceFile {
    name: String,
    text: String,
    /// The offset of each line's first byte, found the first time a line is asked for (when a
    /// diagnostic is shown): a program without mistakes is never split into lines.
    line_starts: OnceLock<Vec<usize>>,
}

impl SourceFile {
    fn line_starts(&self) -> &[usize] {
        self.line_starts
            .get_or_init(|| files::line_starts(&self.text).collect())
    }

    /// Where line `index` (from 0) starts; the end of the text for the line after the last.
    fn line_start(&self, index: usize) -> Result<usize, files::Error> {
        let starts = self.line_starts();
        match index.cmp(&starts.len()) {
            std::cmp::Ordering::Less => Ok(starts[index]),
            std::cmp::Ordering::Equal => Ok(self.text.len()),
            std::cmp::Ordering::Greater => Err(files::Error::LineTooLarge {
                given: index,
                max: starts.len() - 1,
            }),
        }
    }
}

/// All source files of one compilation: names (as shown in diagnostics) and text.
///
/// The library never reads files itself: the CLI (or a test) adds them here.
#[derive(Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// Each file's path from the project root, by which imports find it.
    paths: Vec<String>,
    /// The first file with each path (a build of thousands of files looks paths up often).
    by_path: crate::hash::HashMap<String, FileId>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id. Ids are handed out in order, starting at 0. The name is
    /// also its path from the project root, for imports (see [`SourceMap::add_module`]).
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let name = name.into();
        self.add_module(name.clone(), name, text)
    }

    /// Adds a file shown as `name` in diagnostics, whose path from the project root is `path`
    /// (`/`-separated, without `.` or `..`): imports in it are relative to that path.
    pub fn add_module(
        &mut self,
        name: impl Into<String>,
        path: impl Into<String>,
        text: impl Into<String>,
    ) -> FileId {
        let path = path.into();
        let id = self.files.len();
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
            line_starts: OnceLock::new(),
        });
        self.by_path.entry(path.clone()).or_insert(id);
        self.paths.push(path);
        id
    }

    /// How many files there are.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether there is no file.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Every file id, in the order the files were added.
    pub fn ids(&self) -> impl Iterator<Item = FileId> {
        0..self.paths.len()
    }

    /// The path of a file from the project root.
    pub fn path(&self, id: FileId) -> &str {
        self.paths.get(id).map_or("", String::as_str)
    }

    /// The file with a path, if it was added.
    pub fn find(&self, path: &str) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    /// The text of a file.
    pub fn text(&self, id: FileId) -> &str {
        self.files.get(id).map_or("", |f| f.text.as_str())
    }

    /// The display name of a file.
    pub fn name(&self, id: FileId) -> &str {
        self.files.get(id).map_or("", |f| f.name.as_str())
    }

    /// The 1-based line and column of a byte offset.
    pub fn line_col(&self, id: FileId, offset: u32) -> (usize, usize) {
        use codespan_reporting::files::Files;
        let offset = offset as usize;
        match self.location(id, offset) {
            Ok(loc) => (loc.line_number, loc.column_number),
            Err(_) => (1, 1),
        }
    }

    fn file(&self, id: FileId) -> Result<&SourceFile, files::Error> {
        self.files.get(id).ok_or(files::Error::FileMissing)
    }
}

impl<'a> files::Files<'a> for SourceMap {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        Ok(&self.file(id)?.name)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        Ok(&self.file(id)?.text)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, files::Error> {
        let starts = self.file(id)?.line_starts();
        Ok(starts
            .binary_search(&byte_index)
            .unwrap_or_else(|next| next - 1))
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, files::Error> {
        let file = self.file(id)?;
        Ok(file.line_start(line_index)?..file.line_start(line_index + 1)?)
    }
}
