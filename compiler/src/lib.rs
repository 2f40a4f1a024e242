//! meshc: the compiler for `.mesh`, a small typed language for service-mesh traffic policy.
//!
//! Pipeline (one module per stage, see ARCHITECTURE.md):
//!
//! ```text
//! source ─ syntax::parse ─▶ ast::File ─ check::check ─▶ ir::Program ─ emit::emit ─▶ Manifest ─ emit::yaml ─▶ YAML
//! ```
//!
//! The library does no I/O: callers put source text into a [`SourceMap`] and get manifests and
//! diagnostics back.
//!
//! ```
//! let mut sources = meshc::SourceMap::new();
//! sources.add("app.mesh", "namespace team1\nservice web { }\nroute web timeout 10s\n");
//! let out = meshc::compile(&sources);
//! assert!(!out.has_errors());
//! assert!(meshc::emit::yaml::stream(&out.manifests).contains("timeout: 10s"));
//! ```

#![forbid(unsafe_code)]

pub mod ast;
pub mod check;
pub mod diagnostics;
pub mod emit;
pub mod ir;
pub mod source;
pub mod syntax;
pub mod target;
pub mod testing;

pub use diagnostics::{Code, Diagnostic, Severity};
pub use emit::Manifest;
pub use source::{FileId, SourceMap, Span};

/// The result of compiling every file of a [`SourceMap`].
#[derive(Debug)]
pub struct Compilation {
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The manifests; empty whenever there is an error.
    pub manifests: Vec<Manifest>,
    /// How many steps the program's canaries have (the most of any); 0 without a canary.
    pub steps: usize,
}

impl Compilation {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, checks and emits every file of `sources`, in the order they were added.
///
/// A file with a syntax error contributes that one error and is left out of checking, so the
/// other files are still checked and every mistake in them reported.
pub fn compile(sources: &SourceMap) -> Compilation {
    compile_with(sources, target::Options::default())
}

/// Like [`compile`], for the target and Gateway API channel in `options`.
pub fn compile_with(sources: &SourceMap, options: target::Options) -> Compilation {
    compile_configured(sources, options, &diagnostics::lints::Levels::default())
}

/// Like [`compile_with`], with lint levels for this run (`-A`, `-W`, `-D`, `--deny-warnings`).
pub fn compile_configured(
    sources: &SourceMap,
    options: target::Options,
    levels: &diagnostics::lints::Levels,
) -> Compilation {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    for id in sources.ids() {
        match syntax::parse(id, sources.text(id)) {
            Ok(file) => files.push(file),
            Err(diagnostic) => diagnostics.push(*diagnostic),
        }
    }
    let incomplete = !diagnostics.is_empty();
    let (program, check_diagnostics) = check::check(&files, incomplete, options);
    diagnostics.extend(check_diagnostics);
    diagnostics::lints::apply(&files, levels, &mut diagnostics);
    diagnostics::sort(&mut diagnostics);
    let manifests = if diagnostics.iter().any(Diagnostic::is_error) {
        Vec::new()
    } else {
        emit::emit(&program, options)
    };
    let steps = program
        .services
        .iter()
        .filter_map(|s| s.canary.as_ref())
        .map(ir::Canary::step_count)
        .max()
        .unwrap_or(0);
    Compilation {
        diagnostics,
        manifests,
        steps,
    }
}
