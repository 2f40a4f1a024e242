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

use meshc::diagnostics::lints::{self, Level, Levels};
use meshc::diagnostics::render;
use meshc::target::{Channel, Options, Target};
use meshc::{Code, Compilation, SourceMap};

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
        /// Write one file per manifest into DIR instead of stdout; nothing is written on error.
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
    /// What service routes compile to (ingress routes are always HTTPRoutes).
    #[arg(long, value_enum, default_value_t = TargetArg::Istio)]
    target: TargetArg,
    /// Which Gateway API channel's HTTPRoute fields may be used.
    #[arg(long, value_enum, default_value_t = ChannelArg::Standard)]
    gateway_channel: ChannelArg,
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
}

#[derive(Clone, Copy, ValueEnum)]
enum ChannelArg {
    Standard,
    Experimental,
}

impl Input {
    /// The lint levels of this run; an unknown lint name is a usage error.
    fn levels(&self) -> Result<Levels, UsageError> {
        let mut levels = Levels::default();
        levels.deny_warnings = self.deny_warnings;
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
        Ok(levels)
    }

    fn options(&self) -> Options {
        Options {
            target: match self.target {
                TargetArg::Istio => Target::Istio,
                TargetArg::GatewayApi => Target::GatewayApi,
                TargetArg::Flagger => Target::Flagger,
                TargetArg::ArgoRollouts => Target::ArgoRollouts,
            },
            channel: match self.gateway_channel {
                ChannelArg::Standard => Channel::Standard,
                ChannelArg::Experimental => Channel::Experimental,
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
    let levels = input.levels()?;
    let sources = read_sources(&input.paths)?;
    let Some(compilation) = compile_checked(&sources, input, &levels)? else {
        return Ok(ExitCode::from(1));
    };
    match build {
        Some(Some(dir)) if compilation.steps > 0 && input.step.is_none() => {
            // Every step of the canaries, each in a directory of its own. Without `--step` the
            // program was compiled at step 1; the diagnostics of the other steps are reported
            // only if they are errors, so warnings are not printed once per step.
            let mut steps = vec![(Some("step-1".to_string()), compilation.manifests)];
            for step in 2..=compilation.steps {
                let options = Options {
                    step: Some(step),
                    ..input.options()
                };
                let at_step = meshc::compile_configured(&sources, options, &levels);
                if at_step.has_errors() {
                    report(&sources, &at_step, input)?;
                    return Ok(ExitCode::from(1));
                }
                steps.push((Some(format!("step-{step}")), at_step.manifests));
            }
            write_dir(&dir, &steps)?
        }
        Some(Some(dir)) => write_dir(&dir, &[(None, compilation.manifests)])?,
        Some(None) => {
            let yaml = meshc::emit::yaml::stream(&compilation.manifests);
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(yaml.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| UsageError(format!("cannot write to stdout: {e}")))?;
        }
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Compiles `sources` for the options of `input` and reports the diagnostics; `None` when there
/// are errors. A `--step` the program's canaries do not have is a usage error.
fn compile_checked(
    sources: &SourceMap,
    input: &Input,
    levels: &Levels,
) -> Result<Option<Compilation>, UsageError> {
    let compilation = meshc::compile_configured(sources, input.options(), levels);
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

/// Reads every input: files as given, directories searched recursively for `*.mesh`.
fn read_sources(paths: &[PathBuf]) -> Result<SourceMap, UsageError> {
    let mut sources = SourceMap::new();
    for file in list_files(paths)? {
        let text = read_text(&file)?;
        sources.add(file.display().to_string(), text);
    }
    Ok(sources)
}

/// The input files: files as given, directories searched recursively for `*.mesh`. Sorted by
/// path, so the output does not depend on the order of the arguments.
fn list_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, UsageError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            collect_dir(path, &mut files)?;
            if files.len() == before {
                return Err(UsageError(format!(
                    "no .mesh files in `{}`",
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

/// The text of a file, which must be UTF-8.
fn read_text(file: &Path) -> Result<String, UsageError> {
    let bytes = std::fs::read(file)
        .map_err(|e| UsageError(format!("cannot read `{}`: {e}", file.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("`{}` is not UTF-8 text", file.display())))
}

fn collect_dir(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), UsageError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| UsageError(format!("cannot read directory `{}`: {e}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(|e| UsageError(format!("cannot read directory `{}`: {e}", dir.display())))?
            .path();
        if path.is_dir() {
            collect_dir(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "mesh") {
            files.push(path);
        }
    }
    Ok(())
}

/// Prints every diagnostic on stderr.
fn report(sources: &SourceMap, compilation: &Compilation, input: &Input) -> Result<(), UsageError> {
    let io = |e: std::io::Error| UsageError(format!("cannot write to stderr: {e}"));
    match input.message_format {
        MessageFormat::Json => {
            let mut stderr = std::io::stderr().lock();
            for diagnostic in &compilation.diagnostics {
                writeln!(stderr, "{}", render::json_line(sources, diagnostic)).map_err(io)?;
            }
        }
        MessageFormat::Human => {
            let choice = input.color.choice(std::io::stderr().is_terminal());
            let mut stderr = StandardStream::stderr(choice);
            render::human(sources, &compilation.diagnostics, &mut stderr).map_err(io)?;
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
    let levels = input.levels()?;
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
        let expected_path = file.with_extension("expected.yaml");
        match test_file(file, &expected_path, input, &levels, update)? {
            Outcome::Passed => {
                passed += 1;
                write_status(&mut out, file, "ok", TermColor::Green).map_err(io)?;
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
    Updated,
    Failed(String),
    Differs { expected: String, actual: String },
}

/// Compiles one file (its diagnostics on stderr) and compares its output with `expected_path`,
/// or, with `update`, writes the output there when it differs.
fn test_file(
    file: &Path,
    expected_path: &Path,
    input: &Input,
    levels: &Levels,
    update: bool,
) -> Result<Outcome, UsageError> {
    let sources = read_sources(&[file.to_path_buf()])?;
    let Some(compilation) = compile_checked(&sources, input, levels)? else {
        return Ok(Outcome::Failed("does not compile".into()));
    };
    let actual = meshc::emit::yaml::stream(&compilation.manifests);
    let expected = match std::fs::read(expected_path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            let path = expected_path.display();
            return Err(UsageError(format!("cannot read `{path}`: {e}")));
        }
    };
    Ok(match expected {
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
