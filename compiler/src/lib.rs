//! meshc: the compiler for `.mesh`, a small typed language for service-mesh traffic policy.
//!
//! Pipeline (one module per stage, see ARCHITECTURE.md):
//!
//! ```text
//! source ─ syntax::parse ─▶ ast::File ─ modules::expand ─▶ ast::File ─ check::check ─▶ ir::Program
//!        ─ emit::emit ─▶ Manifest ─ emit::yaml ─▶ YAML
//! ```
//!
//! The library does no I/O: callers put source text into a [`SourceMap`], give a
//! [`modules::Loader`] for the files that imports name, and get manifests and diagnostics back.
//!
//! ```
//! let mut sources = meshc::SourceMap::new();
//! sources.add("app.mesh", "namespace team1\nservice web { }\nroute web timeout 10s\n");
//! let out = meshc::compile(&mut sources);
//! assert!(!out.has_errors());
//! assert!(meshc::emit::yaml::stream(&out.manifests()).contains("timeout: 10s"));
//! ```

#![forbid(unsafe_code)]

pub mod ast;
pub mod check;
pub mod config;
pub mod diagnostics;
pub mod emit;
pub mod extra;
mod hash;
pub mod import;
pub mod ir;
pub mod modules;
pub mod source;
pub mod stdlib;
pub mod syntax;
pub mod target;
pub mod testing;
mod threads;
pub mod validate;

pub use diagnostics::{Code, Diagnostic, Severity};
pub use emit::Manifest;
pub use source::{FileId, SourceMap, Span};

/// The result of compiling every file of a [`SourceMap`].
#[derive(Debug)]
pub struct Compilation {
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The checked program; empty whenever there is an error.
    pub program: ir::Program,
    /// The target and options it was checked for.
    pub options: target::Options,
    /// How many steps the program's canaries have (the most of any); 0 without a canary.
    pub steps: usize,
}

impl Compilation {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The manifests; none whenever there is an error.
    pub fn manifests(&self) -> Vec<Manifest> {
        emit::emit(&self.program, self.options)
    }

    /// The manifests' YAML stream (the bytes of `emit::yaml::stream(&self.manifests())`),
    /// handed to `write` a piece at a time, emitted on up to `threads` threads: see
    /// [`emit::write_yaml`].
    pub fn write_yaml<E>(
        &self,
        threads: usize,
        write: &mut dyn FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        emit::write_yaml(&self.program, self.options, threads, write)
    }
}

/// Parses, checks and emits every file of `sources`, in the order they were added, and every
/// file they import (added to `sources`: the standard library, and files already in `sources`;
/// see [`compile_configured`] to read other files).
///
/// A file with a syntax error contributes that one error and is left out of checking, so the
/// other files are still checked and every mistake in them reported.
pub fn compile(sources: &mut SourceMap) -> Compilation {
    compile_with(sources, target::Options::default())
}

/// Like [`compile`], for the target and Gateway API channel in `options`.
pub fn compile_with(sources: &mut SourceMap, options: target::Options) -> Compilation {
    let settings = Settings {
        options,
        ..Settings::default()
    };
    compile_configured(sources, &settings, &mut modules::NoFiles)
}

/// Everything a run can set besides its files.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Target, Gateway API channel and canary step.
    pub options: target::Options,
    /// Lint levels (`-A`, `-W`, `-D`, `--deny-warnings`, `mesh.toml`'s `[lints]`).
    pub levels: diagnostics::lints::Levels,
    /// The namespace of files that declare none (`mesh.toml`'s `namespace`); without one, such
    /// a file is an error (E0105) unless it only declares policies.
    pub namespace: Option<String>,
    /// How many threads check the program: 0 (the default) for as many as there are cores
    /// when the program is large enough to be worth it. The result is the same for any number.
    pub threads: usize,
}

impl Settings {
    /// The settings a project's `mesh.toml` gives (the defaults where it says nothing); the
    /// command line's options and lint levels apply over them.
    pub fn from_config(config: &config::Config) -> Settings {
        let mut settings = Settings {
            namespace: config.namespace.clone(),
            ..Settings::default()
        };
        settings.options.target = config.target.unwrap_or_default();
        settings.options.channel = config.channel.unwrap_or_default();
        settings.options.linkerd = config.linkerd.unwrap_or_default();
        settings.levels.deny_warnings = config.deny_warnings;
        for &(code, level) in &config.lints {
            settings.levels.set(code, level);
        }
        settings
    }
}

/// Like [`compile_with`], with all of a run's [`Settings`] and a loader that reads the files
/// imports name.
pub fn compile_configured(
    sources: &mut SourceMap,
    settings: &Settings,
    loader: &mut dyn modules::Loader,
) -> Compilation {
    let (options, levels) = (settings.options, &settings.levels);
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    let mut links = modules::Links::default();
    // The files given are parsed at once, on every core; imported files are added to
    // `sources` as they are found, and parsed as this loop reaches them.
    let mut given = parse_all(sources).into_iter();
    let mut id = 0;
    while id < sources.len() {
        let parsed = given
            .next()
            .unwrap_or_else(|| syntax::parse(id, sources.text(id)));
        match parsed {
            Ok(file) => {
                modules::resolve(&file, sources, loader, &mut links, &mut diagnostics);
                files.push(file);
            }
            Err(diagnostic) => diagnostics.push(*diagnostic),
        }
        id += 1;
    }
    let incomplete = diagnostics.iter().any(|d| d.code == Code::E0001);
    let namespace = settings.namespace.as_deref();
    let files = modules::expand(files, &links, sources, namespace, &mut diagnostics);
    let (silenced, lint_problems) = diagnostics::lints::Silenced::new(&files, levels);
    // The syntax trees go to the checker, which frees each as it is done with it.
    let (program, check_diagnostics) = check::check(
        files,
        incomplete,
        options,
        namespace,
        &silenced,
        settings.threads,
    );
    diagnostics.extend(check_diagnostics);
    silenced.apply(&mut diagnostics);
    diagnostics.extend(lint_problems);
    diagnostics::sort(&mut diagnostics);
    let steps = program
        .services
        .iter()
        .filter_map(|s| s.canary.as_deref())
        .map(ir::Canary::step_count)
        .max()
        .unwrap_or(0);
    let program = if diagnostics.iter().any(Diagnostic::is_error) {
        ir::Program::default()
    } else {
        program
    };
    Compilation {
        diagnostics,
        program,
        options,
        steps,
    }
}

/// Parses every file of `sources`, in order, on up to as many threads as there are cores when
/// there is enough text to be worth it.
fn parse_all(sources: &SourceMap) -> Vec<Result<ast::File, Box<Diagnostic>>> {
    /// Below this much text, starting threads costs more than it saves.
    const PARALLEL_FROM: usize = 256 * 1024;
    let ids: Vec<FileId> = sources.ids().collect();
    let total: usize = ids.iter().map(|&id| sources.text(id).len()).sum();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || ids.len() < 2 || total < PARALLEL_FROM {
        return ids
            .iter()
            .map(|&id| syntax::parse(id, sources.text(id)))
            .collect();
    }
    // Contiguous runs of files with about the same amount of text each.
    let share = total.div_ceil(threads);
    let mut runs: Vec<Vec<FileId>> = vec![Vec::new()];
    let mut size = 0;
    for &id in &ids {
        if size >= share {
            runs.push(Vec::new());
            size = 0;
        }
        size += sources.text(id).len();
        runs.last_mut().expect("one run at least").push(id);
    }
    let parse_run = |run: Vec<FileId>| {
        run.iter()
            .map(|&id| syntax::parse(id, sources.text(id)))
            .collect::<Vec<_>>()
    };
    let (first, rest) = threads::run(runs, parse_run, parse_run);
    first
        .into_iter()
        .chain(rest.into_iter().flatten())
        .collect()
}
