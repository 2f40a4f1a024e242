//! The `meshc` command line: reads files, calls the library, prints, sets the exit status.
//!
//! Exit status: 0 success (warnings allowed), 1 compile errors (or warnings under
//! `--deny-warnings`), 2 usage or I/O errors. Diagnostics go to stderr, YAML to stdout.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{
    Color as TermColor, ColorChoice, ColorSpec, StandardStream, WriteColor,
};

use meshc::config::Config;
use meshc::diagnostics::lints::{self, Level, Levels};
use meshc::diagnostics::render;
use meshc::target::{Channel, LinkerdFlavour, Options, Target};
use meshc::{Code, Compilation, Settings, SourceMap};

/// A compilation is millions of small allocations: mimalloc takes about 40% less time over
/// them than the system's allocator (book/src/performance.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Compile .mesh traffic policy to Istio manifests.
#[derive(Parser)]
#[command(name = "meshc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile and print the manifests as multi-document YAML (or write them with -o).
    Build {
        #[command(flatten)]
        input: Input,
        /// Write one file per manifest into DIR instead of stdout (`-` for stdout, over
        /// mesh.toml's `out-dir`); nothing is written on error.
        #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Check the files and report diagnostics only.
    Check {
        #[command(flatten)]
        input: Input,
    },
    /// Compile each .mesh file on its own and compare its YAML with `NAME.expected.yaml` beside
    /// it; exit 1 on any difference or missing expectation.
    Test {
        #[command(flatten)]
        input: Input,
        /// Write each file's output as its expectation instead of comparing.
        #[arg(long)]
        update: bool,
    },
    /// Convert Istio VirtualServices and DestinationRules into .mesh, one program per
    /// namespace (printed, or written as DIR/NAMESPACE.mesh with -o).
    Import {
        /// YAML files, or directories searched for *.yaml and *.yml.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Write `NAMESPACE.mesh` files into DIR (needed for more than one namespace).
        #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// When to colour diagnostics.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Check Kubernetes manifests (any, hand-written or not) against the schemas and CEL rules
    /// meshc embeds, offline; exit 1 if any is rejected.
    Validate {
        /// YAML files, or directories searched for *.yaml and *.yml.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Which Gateway API channel's HTTPRoute CRD the cluster has.
        #[arg(long, value_enum, default_value_t = ChannelArg::Standard)]
        gateway_channel: ChannelArg,
        /// How diagnostics are printed.
        #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
        message_format: MessageFormat,
        /// When to colour diagnostics.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Rewrite .mesh files in the canonical layout (comments kept, meaning unchanged).
    Fmt {
        /// .mesh files, or directories searched for *.mesh.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Write nothing: list the files that are not in the canonical layout, and exit 1 if
        /// there are any.
        #[arg(long)]
        check: bool,
        /// When to colour diagnostics.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Explain a diagnostic code; without a code, list every code.
    Explain {
        /// A code such as E0101.
        code: Option<String>,
    },
}

#[derive(clap::Args)]
struct Input {
    /// .mesh files, or directories searched for *.mesh.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// How diagnostics are printed.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
    /// Silence a lint (repeatable; see `meshc explain` for the names).
    #[arg(short = 'A', long = "allow", value_name = "LINT")]
    allow: Vec<String>,
    /// Report a lint as a warning (repeatable).
    #[arg(short = 'W', long = "warn", value_name = "LINT")]
    warn: Vec<String>,
    /// Report a lint as an error (repeatable). `-A`, then `-W`, then `-D` apply.
    #[arg(short = 'D', long = "deny", value_name = "LINT")]
    deny: Vec<String>,
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Which step of the canaries to emit (1-based; default: the first). With `-o` and no
    /// `--step`, every step is written, into `DIR/step-K/`.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(1..))]
    step: Option<u16>,
    /// What service routes compile to (ingress routes are always HTTPRoutes) [default: mesh.toml's
    /// `target`, else istio].
    #[arg(long, value_enum)]
    target: Option<TargetArg>,
    /// Which Gateway API channel's HTTPRoute fields may be used [default: mesh.toml's
    /// `gateway-channel`, else standard].
    #[arg(long, value_enum)]
    gateway_channel: Option<ChannelArg>,
    /// What Linkerd's service routes compile to, with `--target linkerd` [default: mesh.toml's
    /// `linkerd-flavour`, else http-route].
    #[arg(long, value_enum)]
    linkerd_flavour: Option<FlavourArg>,
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetArg {
    /// VirtualService and DestinationRule.
    Istio,
    /// GAMMA HTTPRoutes.
    GatewayApi,
    /// Flagger Canaries for the services with a canary, Istio for the rest.
    Flagger,
    /// Argo Rollouts for the services with a canary, Istio for the rest.
    ArgoRollouts,
    /// Linkerd HTTPRoutes, with retries as annotations.
    Linkerd,
    /// Consul's config entries (ServiceRouter, ServiceSplitter, ServiceResolver, ServiceDefaults).
    Consul,
    /// Resilience4j's Spring Boot properties (`application.yaml`) for the calling applications.
    Resilience4j,
}

#[derive(Clone, Copy, ValueEnum)]
enum FlavourArg {
    /// HTTPRoutes (policy.linkerd.io) with retry annotations.
    HttpRoute,
    /// One ServiceProfile per service.
    ServiceProfile,
}

#[derive(Clone, Copy, ValueEnum)]
enum ChannelArg {
    Standard,
    Experimental,
}

impl Input {
    /// The settings of this run: the command line over the project's mesh.toml.
    fn settings(&self, project: &Project) -> Result<Settings, UsageError> {
        let mut settings = Settings::from_config(&project.config);
        let given = self.options();
        if self.target.is_some() {
            settings.options.target = given.target;
        }
        if self.gateway_channel.is_some() {
            settings.options.channel = given.channel;
        }
        if self.linkerd_flavour.is_some() {
            // A flag that would change nothing is a mistake in the command, not a preference.
            if settings.options.target != Target::Linkerd {
                return Err(UsageError(
                    "`--linkerd-flavour` applies to `--target linkerd` only".to_string(),
                ));
            }
            settings.options.linkerd = given.linkerd;
        }
        settings.options.step = given.step;
        self.add_levels(&mut settings.levels)?;
        Ok(settings)
    }

    /// Adds the command line's lint levels to mesh.toml's (they apply after them); an unknown
    /// lint name is a usage error.
    fn add_levels(&self, levels: &mut Levels) -> Result<(), UsageError> {
        levels.deny_warnings |= self.deny_warnings;
        let groups = [
            (&self.allow, Level::Allow),
            (&self.warn, Level::Warn),
            (&self.deny, Level::Deny),
        ];
        for (names, level) in groups {
            for name in names {
                let code = lints::lookup(name).map_err(|near| {
                    UsageError(match near {
                        Some(near) => format!("unknown lint `{name}`; did you mean `{near}`?"),
                        None => format!("unknown lint `{name}`; `meshc explain` lists every lint"),
                    })
                })?;
                levels.set(code, level);
            }
        }
        Ok(())
    }

    /// The options the command line gives (the defaults where it gives none).
    fn options(&self) -> Options {
        Options {
            target: match self.target {
                None => Target::default(),
                Some(TargetArg::Istio) => Target::Istio,
                Some(TargetArg::GatewayApi) => Target::GatewayApi,
                Some(TargetArg::Flagger) => Target::Flagger,
                Some(TargetArg::ArgoRollouts) => Target::ArgoRollouts,
                Some(TargetArg::Linkerd) => Target::Linkerd,
                Some(TargetArg::Consul) => Target::Consul,
                Some(TargetArg::Resilience4j) => Target::Resilience4j,
            },
            channel: match self.gateway_channel {
                None => Channel::default(),
                Some(ChannelArg::Standard) => Channel::Standard,
                Some(ChannelArg::Experimental) => Channel::Experimental,
            },
            linkerd: match self.linkerd_flavour {
                None => LinkerdFlavour::default(),
                Some(FlavourArg::HttpRoute) => LinkerdFlavour::HttpRoute,
                Some(FlavourArg::ServiceProfile) => LinkerdFlavour::ServiceProfile,
            },
            step: self.step.map(usize::from),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum MessageFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// The colour choice for a stream, given whether it is a terminal.
    fn choice(self, terminal: bool) -> ColorChoice {
        match self {
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
            Color::Auto if terminal => ColorChoice::Auto,
            Color::Auto => ColorChoice::Never,
        }
    }
}

/// A failure that is not the user's program: exit status 2.
struct UsageError(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { input, out_dir } => compile(&input, Some(out_dir)),
        Command::Check { input } => compile(&input, None),
        Command::Test { input, update } => test(&input, update),
        Command::Explain { code } => explain(code.as_deref()),
        Command::Fmt {
            paths,
            check,
            color,
        } => fmt(&paths, check, color),
        Command::Import {
            paths,
            out_dir,
            color,
        } => import(&paths, out_dir.as_deref(), color),
        Command::Validate {
            paths,
            gateway_channel,
            message_format,
            color,
        } => validate(&paths, gateway_channel, message_format, color),
    };
    match result {
        Ok(code) => code,
        Err(UsageError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// `meshc build` (with `Some(out_dir)`) and `meshc check` (with `None`).
fn compile(input: &Input, build: Option<Option<PathBuf>>) -> Result<ExitCode, UsageError> {
    let files = list_files(&input.paths)?;
    let project = Project::find(&files)?;
    let settings = input.settings(&project)?;
    let mut sources = project.read_sources(&files)?;
    let Some(compilation) = compile_checked(&mut sources, input, &settings, &project)? else {
        return Ok(ExitCode::from(1));
    };
    // `-o DIR`, else mesh.toml's `out-dir`; `-o -` is stdout.
    let build = build.map(|out_dir| match out_dir {
        Some(dir) if dir.as_os_str() == "-" => None,
        Some(dir) => Some(dir),
        None => project.out_dir(),
    });
    match build {
        Some(Some(dir)) if compilation.steps > 0 && input.step.is_none() => {
            // Every step of the canaries, each in a directory of its own. Without `--step` the
            // program was compiled at step 1; the diagnostics of the other steps are reported
            // only if they are errors, so warnings are not printed once per step.
            let mut steps = vec![(Some("step-1".to_string()), compilation.manifests())];
            for step in 2..=compilation.steps {
                let mut at_step_settings = settings.clone();
                at_step_settings.options.step = Some(step);
                let at_step = meshc::compile_configured(
                    &mut sources,
                    &at_step_settings,
                    &mut project.loader(),
                );
                if at_step.has_errors() {
                    report(&sources, &at_step, input)?;
                    return Ok(ExitCode::from(1));
                }
                steps.push((Some(format!("step-{step}")), at_step.manifests()));
            }
            write_dir(&dir, &steps)?
        }
        Some(Some(dir)) => write_dir(&dir, &[(None, compilation.manifests())])?,
        Some(None) => {
            write_stdout(&compilation)
                .map_err(|e| UsageError(format!("cannot write to stdout: {e}")))?;
            // The process ends next: freeing a program of tens of thousands of services one
            // allocation at a time takes longer than the system reclaiming the pages at exit.
            std::mem::forget(compilation);
        }
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Compiles `sources` for the options of `input` and reports the diagnostics; `None` when there
/// are errors. A `--step` the program's canaries do not have is a usage error.
fn compile_checked(
    sources: &mut SourceMap,
    input: &Input,
    settings: &Settings,
    project: &Project,
) -> Result<Option<Compilation>, UsageError> {
    let compilation = meshc::compile_configured(sources, settings, &mut project.loader());
    report(sources, &compilation, input)?;
    if compilation.has_errors() {
        return Ok(None);
    }
    if let Some(step) = input.step.map(usize::from) {
        if step > compilation.steps {
            return Err(UsageError(match compilation.steps {
                0 => "`--step` needs a canary, and this program has none".to_string(),
                n => format!("`--step {step}`: the program's canaries have {n} steps"),
            }));
        }
    }
    Ok(Some(compilation))
}

/// The project the inputs belong to: its root and its mesh.toml.
///
/// The root is the nearest directory above the first input that holds a mesh.toml; without
/// one, the deepest directory that holds every input. Imports cannot leave it.
struct Project {
    /// The root, canonical.
    root: PathBuf,
    /// The root as the user reaches it (relative to the working directory when inside it), for
    /// file names in diagnostics.
    shown_root: PathBuf,
    /// The settings of its mesh.toml (the defaults without one).
    config: Config,
}

impl Project {
    fn find(files: &[PathBuf]) -> Result<Project, UsageError> {
        Project::find_among(files, files)
    }

    /// The project of `files` (compiled together), where a run's inputs are `all`: without a
    /// mesh.toml the root is the deepest directory holding every input of the run, so that
    /// `meshc test` (one file at a time) resolves imports as `meshc build` of the same inputs.
    fn find_among(files: &[PathBuf], all: &[PathBuf]) -> Result<Project, UsageError> {
        let canonical = |path: &Path| {
            std::fs::canonicalize(path)
                .map_err(|e| UsageError(format!("cannot read `{}`: {e}", path.display())))
        };
        let dir_of = |file: &PathBuf| {
            Ok(canonical(file)?
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default())
        };
        let dirs: Vec<PathBuf> = files
            .iter()
            .map(dir_of)
            .collect::<Result<_, UsageError>>()?;
        let all_dirs: Vec<PathBuf> = all.iter().map(dir_of).collect::<Result<_, UsageError>>()?;
        let Some(first) = dirs.first() else {
            return Err(UsageError("no input files".into()));
        };
        let config_dir = |dir: &Path| {
            dir.ancestors()
                .find(|d| d.join(meshc::config::FILE_NAME).is_file())
                .map(Path::to_path_buf)
        };
        let with_config = config_dir(first);
        // Every input must belong to the first one's project: a later input's own mesh.toml
        // would otherwise be ignored without a word.
        for (file, dir) in files.iter().zip(&dirs).skip(1) {
            let own = config_dir(dir);
            if own != with_config {
                let project = match &with_config {
                    Some(root) => format!("the project at `{}`", root.display()),
                    None => format!("the project of `{}` (no mesh.toml)", files[0].display()),
                };
                let its = match &own {
                    Some(root) => format!("its mesh.toml is in `{}`", root.display()),
                    None => "no mesh.toml is above it".to_string(),
                };
                return Err(UsageError(format!(
                    "`{}` is outside {project}: {its}; build each project on its own",
                    file.display()
                )));
            }
        }
        let (root, config) = match with_config {
            Some(root) => {
                let path = root.join(meshc::config::FILE_NAME);
                let text = read_text(&path)?;
                let config = meshc::config::parse(&text).map_err(|e| {
                    UsageError(format!("{}:{}: {}", path.display(), e.line, e.message))
                })?;
                (root, config)
            }
            None => {
                let mut root = first.clone();
                while !all_dirs.iter().all(|dir| dir.starts_with(&root)) {
                    root.pop();
                }
                (root, Config::default())
            }
        };
        let cwd = std::env::current_dir()
            .ok()
            .and_then(|cwd| std::fs::canonicalize(cwd).ok());
        let shown_root = match cwd.as_deref().and_then(|cwd| root.strip_prefix(cwd).ok()) {
            Some(relative) => relative.to_path_buf(),
            None => root.clone(),
        };
        Ok(Project {
            root,
            shown_root,
            config,
        })
    }

    /// The path of a file from the root, `/`-separated.
    fn path_of(&self, file: &Path) -> Result<String, UsageError> {
        let canonical = std::fs::canonicalize(file)
            .map_err(|e| UsageError(format!("cannot read `{}`: {e}", file.display())))?;
        let relative = canonical.strip_prefix(&self.root).unwrap_or(&canonical);
        let parts: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Ok(parts.join("/"))
    }

    /// Reads the input files, each named as given and placed at its path from the root.
    fn read_sources(&self, files: &[PathBuf]) -> Result<SourceMap, UsageError> {
        let mut sources = SourceMap::new();
        for file in files {
            let text = read_text(file)?;
            sources.add_module(file.display().to_string(), self.path_of(file)?, text);
        }
        Ok(sources)
    }

    /// mesh.toml's `out-dir`, from the root.
    fn out_dir(&self) -> Option<PathBuf> {
        let dir = self.config.out_dir.as_ref()?;
        Some(self.shown_root.join(dir))
    }

    fn loader(&self) -> FileLoader<'_> {
        FileLoader { project: self }
    }
}

/// Reads imported files from the project.
struct FileLoader<'p> {
    project: &'p Project,
}

impl meshc::modules::Loader for FileLoader<'_> {
    fn load(&mut self, path: &str) -> Result<(String, String), String> {
        let file = self.project.root.join(path);
        let canonical = std::fs::canonicalize(&file).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        })?;
        // A symbolic link inside the project may point outside it.
        if !canonical.starts_with(&self.project.root) {
            return Err("it links to a file outside the project root".into());
        }
        if !canonical.is_file() {
            return Err("not a file".into());
        }
        let text = read_text(&file).map_err(|UsageError(message)| message)?;
        let shown = self.project.shown_root.join(path);
        Ok((shown.display().to_string(), text))
    }
}

/// The input files: files as given, directories searched recursively for `*.mesh`. Sorted by
/// path, so the output does not depend on the order of the arguments.
fn list_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, UsageError> {
    list_files_with(paths, &["mesh"])
}

/// [`list_files`], for files whose extension is one of `extensions`.
fn list_files_with(paths: &[PathBuf], extensions: &[&str]) -> Result<Vec<PathBuf>, UsageError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            collect_dir(path, extensions, &mut files)?;
            if files.len() == before {
                return Err(UsageError(format!(
                    "no .{} files in `{}`",
                    extensions.join(" or ."),
                    path.display()
                )));
            }
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    // The same file named twice (`a.mesh ./a.mesh`, or a file and its directory) is read once.
    let mut seen = std::collections::HashSet::new();
    files.retain(|file| seen.insert(std::fs::canonicalize(file).unwrap_or_else(|_| file.clone())));
    Ok(files)
}

/// `meshc fmt`: every file formatted first; on a syntax error in any, nothing is written.
/// Then each file that changes is replaced (written beside it, then renamed over it).
fn fmt(paths: &[PathBuf], check: bool, color: Color) -> Result<ExitCode, UsageError> {
    let files = list_files(paths)?;
    let mut sources = SourceMap::new();
    let mut errors = Vec::new();
    let mut changed = Vec::new();
    for file in &files {
        let text = read_text(file)?;
        let id = sources.add(file.display().to_string(), text);
        match meshc::syntax::print::format(id, sources.text(id)) {
            Ok(formatted) if formatted != sources.text(id) => changed.push((file, formatted)),
            Ok(_) => {}
            Err(diagnostic) => errors.push(*diagnostic),
        }
    }
    if !errors.is_empty() {
        print_diagnostics(&sources, &errors, MessageFormat::Human, color)?;
        return Ok(ExitCode::from(1));
    }
    if check {
        let mut stdout = std::io::stdout().lock();
        for (file, _) in &changed {
            writeln!(stdout, "{}", file.display())
                .map_err(|e| UsageError(format!("cannot write to stdout: {e}")))?;
        }
        return Ok(if changed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    for (file, formatted) in changed {
        let io = |e: std::io::Error| UsageError(format!("cannot write `{}`: {e}", file.display()));
        // The file itself, not a link to it; it keeps its permissions.
        let target = std::fs::canonicalize(file).map_err(io)?;
        let permissions = std::fs::metadata(&target).map_err(io)?.permissions();
        let name = target
            .file_name()
            .map_or_else(Default::default, |n| n.to_string_lossy());
        let staged = target.with_file_name(format!(".{name}.meshc-fmt-{}", std::process::id()));
        let written = std::fs::write(&staged, formatted)
            .and_then(|()| std::fs::set_permissions(&staged, permissions))
            .and_then(|()| std::fs::rename(&staged, &target));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&staged);
            return Err(io(e));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `meshc import`: every file's objects; on any error, nothing is written.
fn import(paths: &[PathBuf], out_dir: Option<&Path>, color: Color) -> Result<ExitCode, UsageError> {
    let files = list_files_with(paths, &["yaml", "yml"])?;
    let mut sources = SourceMap::new();
    for file in &files {
        sources.add(file.display().to_string(), read_text(file)?);
    }
    let streams: Vec<(meshc::FileId, &str)> =
        sources.ids().map(|id| (id, sources.text(id))).collect();
    let (programs, diagnostics) = meshc::import::import_streams(&streams);
    print_diagnostics(&sources, &diagnostics, MessageFormat::Human, color)?;
    if diagnostics.iter().any(|d| d.is_error()) {
        return Ok(ExitCode::from(1));
    }
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| UsageError(format!("cannot write `{}`: {e}", dir.display())))?;
            for program in &programs {
                let path = dir.join(format!("{}.mesh", program.namespace));
                std::fs::write(&path, &program.text)
                    .map_err(|e| UsageError(format!("cannot write `{}`: {e}", path.display())))?;
            }
        }
        None if programs.len() > 1 => {
            return Err(UsageError(
                "the objects are in several namespaces: write one file each with `-o DIR`".into(),
            ))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            for program in &programs {
                stdout
                    .write_all(program.text.as_bytes())
                    .map_err(|e| UsageError(format!("cannot write to stdout: {e}")))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `meshc validate`: every document of every YAML file against the embedded schemas.
fn validate(
    paths: &[PathBuf],
    channel: ChannelArg,
    format: MessageFormat,
    color: Color,
) -> Result<ExitCode, UsageError> {
    let channel = match channel {
        ChannelArg::Standard => meshc::validate::Channel::Standard,
        ChannelArg::Experimental => meshc::validate::Channel::Experimental,
    };
    let files = list_files_with(paths, &["yaml", "yml"])?;
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let mut documents = 0;
    for file in &files {
        let id = sources.add(file.display().to_string(), read_text(file)?);
        let (found, checked) = meshc::validate::check_stream(id, sources.text(id), channel);
        diagnostics.extend(found);
        documents += checked;
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    print_diagnostics(&sources, &diagnostics, format, color)?;
    if matches!(format, MessageFormat::Human) {
        let files = files.len();
        writeln!(
            std::io::stderr(),
            "{documents} manifest{} in {files} file{} checked: {errors} error{}",
            if documents == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" },
            if errors == 1 { "" } else { "s" },
        )
        .map_err(|e| UsageError(format!("cannot write to stderr: {e}")))?;
    }
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The text of a file, which must be UTF-8.
fn read_text(file: &Path) -> Result<String, UsageError> {
    let bytes = std::fs::read(file)
        .map_err(|e| UsageError(format!("cannot read `{}`: {e}", file.display())))?;
    let mut text = String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("`{}` is not UTF-8 text", file.display())))?;
    // Some editors start UTF-8 files with a byte order mark; it is not part of the program.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// Writes the manifests to stdout as one YAML stream (the bytes of `yaml::stream`), a piece at
/// a time as the cores emit them, so the whole stream is never held in memory.
fn write_stdout(compilation: &Compilation) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    compilation.write_yaml(threads, &mut |piece| stdout.write_all(piece.as_bytes()))?;
    stdout.flush()
}

/// Every file under `dir` with one of `extensions`, without recursion (however deep the tree).
/// Symbolic links to directories are not followed, so a link back up the tree cannot loop;
/// links to files are read like files.
fn collect_dir(
    dir: &Path,
    extensions: &[&str],
    files: &mut Vec<PathBuf>,
) -> Result<(), UsageError> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let unreadable = |e: std::io::Error| {
            UsageError(format!("cannot read directory `{}`: {e}", dir.display()))
        };
        for entry in std::fs::read_dir(&dir).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            let path = entry.path();
            if entry.file_type().map_err(unreadable)?.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| extensions.iter().any(|e| ext == *e))
                && !path.is_dir()
            {
                files.push(path);
            }
        }
    }
    Ok(())
}

/// Prints every diagnostic of a compilation on stderr, as `input` asks.
fn report(sources: &SourceMap, compilation: &Compilation, input: &Input) -> Result<(), UsageError> {
    print_diagnostics(
        sources,
        &compilation.diagnostics,
        input.message_format,
        input.color,
    )
}

/// Prints `diagnostics` on stderr, one JSON line each or rendered for a terminal.
fn print_diagnostics(
    sources: &SourceMap,
    diagnostics: &[meshc::Diagnostic],
    format: MessageFormat,
    color: Color,
) -> Result<(), UsageError> {
    let io = |e: std::io::Error| UsageError(format!("cannot write to stderr: {e}"));
    match format {
        MessageFormat::Json => {
            let mut stderr = std::io::stderr().lock();
            for diagnostic in diagnostics {
                writeln!(stderr, "{}", render::json_line(sources, diagnostic)).map_err(io)?;
            }
        }
        MessageFormat::Human => {
            let mut stderr = StandardStream::stderr(color.choice(std::io::stderr().is_terminal()));
            render::human(sources, diagnostics, &mut stderr).map_err(io)?;
        }
    }
    Ok(())
}

/// Writes one file per manifest into `dir` (or into its subdirectory, for each group that
/// names one), all or nothing: everything is first written to a staging directory beside
/// `dir`, then moved into place.
fn write_dir(
    dir: &Path,
    groups: &[(Option<String>, Vec<meshc::Manifest>)],
) -> Result<(), UsageError> {
    let io = |what: &Path, e: std::io::Error| {
        UsageError(format!("cannot write `{}`: {e}", what.display()))
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let staging = parent.join(format!(".{base}.meshc-staging-{}", std::process::id()));
    // (path relative to the directory, contents) of every file.
    let files: Vec<(PathBuf, String)> = groups
        .iter()
        .flat_map(|(subdir, manifests)| {
            manifests.iter().map(move |manifest| {
                let name = PathBuf::from(manifest.file_name());
                let path = match subdir {
                    Some(subdir) => Path::new(subdir).join(name),
                    None => name,
                };
                (path, meshc::emit::yaml::document(manifest))
            })
        })
        .collect();
    let stage = || -> Result<(), UsageError> {
        for (path, text) in &files {
            let target = staging.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::write(&target, text).map_err(|e| io(&target, e))?;
        }
        std::fs::create_dir_all(&staging).map_err(|e| io(&staging, e))?;
        if !dir.exists() {
            return std::fs::rename(&staging, dir).map_err(|e| io(dir, e));
        }
        for (path, _) in &files {
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::rename(staging.join(path), &target).map_err(|e| io(&target, e))?;
        }
        std::fs::remove_dir_all(&staging).map_err(|e| io(&staging, e))
    };
    let result = stage();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// `meshc test`: compiles each file on its own and compares its YAML stream with the file's
/// expectation, `NAME.expected.yaml` beside `NAME.mesh`; with `update`, writes it instead.
/// Diagnostics go to stderr, the report and diffs to stdout.
fn test(input: &Input, update: bool) -> Result<ExitCode, UsageError> {
    let mut out = StandardStream::stdout(input.color.choice(std::io::stdout().is_terminal()));
    let io = |e: std::io::Error| UsageError(format!("cannot write to stdout: {e}"));
    let (mut passed, mut failed, mut updated) = (0, 0, 0);
    let files = list_files(&input.paths)?;
    if let Some(file) = files
        .iter()
        .find(|f| f.extension().is_none_or(|e| e != "mesh"))
    {
        // `NAME.expected.yaml` is named after `NAME.mesh`: `a` and `a.txt` would share one.
        return Err(UsageError(format!(
            "`{}`: `meshc test` takes .mesh files (and directories)",
            file.display()
        )));
    }
    for file in &files {
        // Each file is compiled on its own, in its own project (its nearest mesh.toml).
        let project = Project::find_among(std::slice::from_ref(file), &files)?;
        let settings = input.settings(&project)?;
        let expected_path = file.with_extension("expected.yaml");
        match test_file(file, &expected_path, input, &settings, &project, update)? {
            Outcome::Passed => {
                passed += 1;
                write_status(&mut out, file, "ok", TermColor::Green).map_err(io)?;
            }
            Outcome::Module => {
                passed += 1;
                let status = "ok (checked; no output, no expectation)";
                write_status(&mut out, file, status, TermColor::Green).map_err(io)?;
            }
            Outcome::Updated => {
                updated += 1;
                let status = format!("updated `{}`", expected_path.display());
                write_status(&mut out, file, &status, TermColor::Yellow).map_err(io)?;
            }
            Outcome::Failed(why) => {
                failed += 1;
                let status = format!("FAILED: {why}");
                write_status(&mut out, file, &status, TermColor::Red).map_err(io)?;
            }
            Outcome::Differs { expected, actual } => {
                failed += 1;
                write_status(&mut out, file, "FAILED", TermColor::Red).map_err(io)?;
                write_diff(&mut out, &expected_path, &expected, &actual).map_err(io)?;
            }
        }
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    writeln!(
        out,
        "\ntest result: {verdict}. {passed} passed; {failed} failed; {updated} updated"
    )
    .map_err(io)?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What `meshc test` found for one file.
enum Outcome {
    Passed,
    /// A file that emits nothing and has no expectation: a module of policies.
    Module,
    Updated,
    Failed(String),
    Differs {
        expected: String,
        actual: String,
    },
}

/// Compiles one file (its diagnostics on stderr) and compares its output with `expected_path`,
/// or, with `update`, writes the output there when it differs.
fn test_file(
    file: &Path,
    expected_path: &Path,
    input: &Input,
    settings: &Settings,
    project: &Project,
    update: bool,
) -> Result<Outcome, UsageError> {
    let mut sources = project.read_sources(&[file.to_path_buf()])?;
    let Some(compilation) = compile_checked(&mut sources, input, settings, project)? else {
        return Ok(Outcome::Failed("does not compile".into()));
    };
    let actual = meshc::emit::yaml::stream(&compilation.manifests());
    let expected = match std::fs::read(expected_path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            let path = expected_path.display();
            return Err(UsageError(format!("cannot read `{path}`: {e}")));
        }
    };
    Ok(match expected {
        None if actual.is_empty() => Outcome::Module,
        Some(expected) if expected == actual => Outcome::Passed,
        _ if update => {
            std::fs::write(expected_path, &actual).map_err(|e| {
                UsageError(format!("cannot write `{}`: {e}", expected_path.display()))
            })?;
            Outcome::Updated
        }
        None => Outcome::Failed(format!(
            "no expectation `{}`; `meshc test --update` writes it",
            expected_path.display()
        )),
        Some(expected) => Outcome::Differs { expected, actual },
    })
}

/// `test FILE ... STATUS`, the status in `color`.
fn write_status(
    out: &mut StandardStream,
    file: &Path,
    status: &str,
    color: TermColor,
) -> std::io::Result<()> {
    write!(out, "test {} ... ", file.display())?;
    out.set_color(ColorSpec::new().set_fg(Some(color)))?;
    write!(out, "{status}")?;
    out.reset()?;
    writeln!(out)
}

/// The difference between a file's expectation and its output, as unified-diff hunks:
/// `-` lines are expected only, `+` lines are output only.
fn write_diff(
    out: &mut StandardStream,
    expected_path: &Path,
    expected: &str,
    actual: &str,
) -> std::io::Result<()> {
    use meshc::testing::Line;
    writeln!(out, "--- {} (expected)", expected_path.display())?;
    writeln!(out, "+++ meshc output")?;
    for line in meshc::testing::diff(expected, actual) {
        let (color, text) = match line {
            Line::Same(t) => (None, format!(" {t}")),
            Line::Removed(t) => (Some(TermColor::Red), format!("-{t}")),
            Line::Added(t) => (Some(TermColor::Green), format!("+{t}")),
            Line::Hunk(a, b) => (Some(TermColor::Cyan), format!("@@ -{a} +{b} @@")),
        };
        out.set_color(ColorSpec::new().set_fg(color))?;
        write!(out, "{text}")?;
        out.reset()?;
        writeln!(out)?;
    }
    Ok(())
}

/// `meshc explain [CODE]`.
fn explain(code: Option<&str>) -> Result<ExitCode, UsageError> {
    let mut stdout = std::io::stdout().lock();
    let text = match code {
        None => Code::ALL
            .iter()
            .map(|c| match lints::name(*c) {
                Some(lint) => format!("{} {} [{lint}]\n", c.as_str(), c.summary()),
                None => format!("{} {}\n", c.as_str(), c.summary()),
            })
            .collect(),
        Some(text) => match Code::parse(text).or_else(|| lints::lookup(text).ok()) {
            Some(code) => code.explanation().to_string(),
            None => {
                return Err(UsageError(format!(
                    "unknown code `{text}`; `meshc explain` lists every code"
                )))
            }
        },
    };
    stdout
        .write_all(text.as_bytes())
        .map_err(|e| UsageError(format!("cannot write to stdout: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
