//! The book's examples compile as they say they do.
//!
//! Every fenced block of every `book/src/**/*.md` whose info string starts with `mesh` is
//! compiled on its own, as one file:
//!
//! - ```` ```mesh ```` must compile without errors (warnings are allowed);
//! - ```` ```mesh,error=E0101 ```` must fail, and every error must have that code;
//! - ```` ```mesh,warning=W0001 ```` must compile without errors and warn with that code;
//! - ```` ```mesh,note=N0001 ```` must compile without errors and carry a note with that code;
//! - ```` ```mesh,ignore ```` is not compiled (for fragments).
//!
//! A first line `// options: --target linkerd` (the command line's flags, as in the test
//! fixtures) compiles the block with those options.
//!
//! A line `// file: NAME.mesh` in a block starts another file of the same compilation (up to the
//! next such line): a program of several namespaces needs several files. Text above the first
//! such line, unless blank, is a file of its own.
//!
//! A ```` ```yaml ```` block that follows a compiled `mesh` block (with no other `mesh` block in
//! between) shows its output: each document in it must be, byte for byte, one of the documents
//! meshc emits for that program (a block may leave documents out), so the book cannot go stale.
//! ```` ```yaml,fragment ```` marks an excerpt that is not compared.
//!
//! Every failure is reported at once, with the file and line of its block.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

// Only the compile helpers: `mod support;` would also build the CRD validator into this crate.
#[path = "support/mesh.rs"]
#[allow(dead_code)]
mod mesh;
use mesh::repo_root;

use meshc::diagnostics::render;
use meshc::{Code, Severity, SourceMap};

/// What a `mesh` block must do.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    /// Compile without errors.
    Compile,
    /// Fail with errors of this code only.
    Error(Code),
    /// Compile, with a warning of this code.
    Warning(Code),
    /// Compile, with a note of this code.
    Note(Code),
    /// Not compiled.
    Ignore,
}

/// One fenced `mesh` block.
struct Block {
    /// `book/src/...md`.
    file: String,
    /// `book/src/...md:LINE`, the line of the opening fence.
    location: String,
    /// The line of the opening fence, 1-based.
    line: usize,
    expect: Expect,
    text: String,
    /// The `yaml` blocks that show this block's output: (location, text).
    outputs: Vec<(String, String)>,
    /// A ```` ```yaml,validate ```` block: Kubernetes YAML that `meshc validate` checks (with
    /// `error=CODE` or `note=CODE` like a `mesh` block), not a program; or, with `yaml,import`,
    /// YAML that `meshc import` reads (`import` is then true too).
    validate: bool,
    import: bool,
}

/// Every `.md` file under `dir`, recursively, sorted.
fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read directory {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("readable directory entry").path();
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "md") {
            out.push(path);
        }
    }
    out.sort();
}

/// Reads a block's info string. `Ok(None)`: not a `mesh` block. `Err`: a `mesh` block whose
/// attributes make no sense.
fn parse_info(info: &str) -> Result<Option<Expect>, String> {
    let mut words = info
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|w| !w.is_empty());
    if words.next() != Some("mesh") {
        return Ok(None);
    }
    let mut expect = Expect::Compile;
    for word in words {
        let next = match word.split_once('=') {
            None if word == "ignore" => Expect::Ignore,
            Some(("error", code)) => match Code::parse(code) {
                Some(code) if code.severity() == Severity::Error => Expect::Error(code),
                _ => return Err(format!("`{code}` is not an error code of meshc")),
            },
            Some(("warning", code)) => match Code::parse(code) {
                Some(code) if code.is_warning() => Expect::Warning(code),
                _ => return Err(format!("`{code}` is not a warning code of meshc")),
            },
            Some(("note", code)) => match Code::parse(code) {
                Some(code) if code.is_note() => Expect::Note(code),
                _ => return Err(format!("`{code}` is not a note code of meshc")),
            },
            _ => {
                return Err(format!(
                    "unknown attribute `{word}` (expected `error=CODE`, `warning=CODE`, `note=CODE` or `ignore`)"
                ))
            }
        };
        if expect != Expect::Compile {
            return Err(format!(
                "`{info}` gives more than one of `error=`, `warning=`, `note=` and `ignore`"
            ));
        }
        expect = next;
    }
    Ok(Some(expect))
}

/// The opening fence of a code block: (fence character, fence length, info string).
fn opening_fence(line: &str) -> Option<(char, usize, &str)> {
    let trimmed = line.trim_start();
    let fence = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let length = trimmed.chars().take_while(|c| *c == fence).count();
    if length < 3 {
        return None;
    }
    let info = trimmed[length..].trim();
    // A backtick fence's info string cannot contain a backtick (that is inline code).
    if fence == '`' && info.contains('`') {
        return None;
    }
    Some((fence, length, info))
}

/// Whether `line` closes a block opened with `length` times `fence`.
fn closes(line: &str, fence: char, length: usize) -> bool {
    let trimmed = line.trim();
    trimmed.chars().take_while(|c| *c == fence).count() >= length
        && trimmed.chars().all(|c| c == fence)
}

/// The `mesh` blocks of one Markdown file, and the problems found while reading it.
fn mesh_blocks(name: &str, markdown: &str) -> (Vec<Block>, Vec<String>) {
    let mut blocks = Vec::new();
    let mut problems = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let Some((fence, length, info)) = opening_fence(line) else {
            continue;
        };
        let location = format!("{name}:{}", index + 1);
        let indent = line.len() - line.trim_start().len();
        let mut text = String::new();
        let mut closed = false;
        for (_, line) in lines.by_ref() {
            if closes(line, fence, length) {
                closed = true;
                break;
            }
            // Content is indented like its fence (inside list items, say).
            let strip = line.len() - line.trim_start().len();
            text.push_str(&line[strip.min(indent)..]);
            text.push('\n');
        }
        let words: Vec<&str> = info.split([',', ' ']).filter(|w| !w.is_empty()).collect();
        let import = words.first() == Some(&"yaml") && words.contains(&"import");
        let validate = words.first() == Some(&"yaml") && (words.contains(&"validate") || import);
        if words.first() == Some(&"yaml") && closed && !validate && !info.contains("fragment") {
            // The output of the latest mesh block, if that one is compiled.
            if let Some(last) = blocks.last_mut().filter(|b: &&mut Block| {
                !b.validate
                    && matches!(
                        b.expect,
                        Expect::Compile | Expect::Warning(_) | Expect::Note(_)
                    )
            }) {
                last.outputs.push((location, text));
            }
            continue;
        }
        // A `yaml,validate` block's attributes read like a `mesh` block's.
        let expect = if validate {
            let attributes: Vec<&str> = words[1..]
                .iter()
                .copied()
                .filter(|w| *w != "validate" && *w != "import")
                .collect();
            parse_info(&format!("mesh,{}", attributes.join(",")))
        } else {
            parse_info(info)
        };
        if !closed {
            problems.push(format!(
                "{location}: this code block is never closed (a line of `{}` is missing)",
                fence.to_string().repeat(length)
            ));
            continue;
        }
        match expect {
            Ok(None) => {}
            Ok(Some(expect)) => blocks.push(Block {
                file: name.to_string(),
                location,
                line: index + 1,
                expect,
                text,
                outputs: Vec::new(),
                validate,
                import,
            }),
            Err(problem) => problems.push(format!("{location}: `{info}`: {problem}")),
        }
    }
    (blocks, problems)
}

/// Every `mesh` block of the book, and the problems found while reading the book.
fn book_blocks() -> (Vec<Block>, Vec<String>) {
    let root = repo_root();
    let mut files = Vec::new();
    markdown_files(&root.join("book/src"), &mut files);
    let mut blocks = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        let markdown = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!("{name}: cannot read: {e}"));
                continue;
            }
        };
        let (file_blocks, file_problems) = mesh_blocks(&name, &markdown);
        blocks.extend(file_blocks);
        problems.extend(file_problems);
    }
    (blocks, problems)
}

/// A block's files, split at its `// file:` lines. With `keep_lines`, each file is registered
/// under the Markdown file's name, behind blank lines that keep the line numbers of the Markdown
/// file, so that a diagnostic points at the right line of the book.
fn block_sources(block: &Block, keep_lines: bool) -> SourceMap {
    let mut files: Vec<(usize, String)> = vec![(0, String::new())];
    for (index, line) in block.text.split_inclusive('\n').enumerate() {
        if line.starts_with("// file: ") {
            files.push((index, String::new()));
        }
        if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
        }
    }
    let mut sources = SourceMap::new();
    for (index, (first_line, text)) in files.into_iter().enumerate() {
        if index == 0 && text.trim().is_empty() {
            continue;
        }
        if keep_lines {
            let padding = "\n".repeat(block.line + first_line);
            sources.add(block.file.as_str(), format!("{padding}{text}"));
        } else {
            sources.add(block.file.as_str(), text);
        }
    }
    sources
}

/// Compiles a block's files with the options of its `// options:` line, if it has one.
fn compile_block(block: &Block, sources: &mut SourceMap) -> meshc::Compilation {
    let options = match block
        .text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("// options:"))
    {
        Some(flags) => meshc::target::Options::from_flags(flags)
            .unwrap_or_else(|e| panic!("{}: {e}", block.location)),
        None => meshc::target::Options::default(),
    };
    meshc::compile_with(sources, options)
}

/// The diagnostics of a `yaml,validate` block, registered under the Markdown file's name with
/// its line numbers.
fn validate_block(block: &Block) -> (SourceMap, Vec<meshc::Diagnostic>) {
    let mut sources = SourceMap::new();
    let text = format!("{}{}", "\n".repeat(block.line), block.text);
    let id = sources.add(block.file.as_str(), text);
    let diagnostics = if block.import {
        meshc::import::import_stream(id, sources.text(id)).1
    } else {
        let channel = meshc::validate::Channel::Standard;
        meshc::validate::check_stream(id, sources.text(id), channel).0
    };
    (sources, diagnostics)
}

/// Compiles (or, for a `yaml,validate` block, validates) one block; `Some(problem)` when it
/// does not do what its info string says.
fn check_block(block: &Block) -> Option<String> {
    let (sources, diagnostics) = if block.validate {
        validate_block(block)
    } else {
        let mut sources = block_sources(block, true);
        let diagnostics = compile_block(block, &mut sources).diagnostics;
        (sources, diagnostics)
    };
    let errors: Vec<Code> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    let has = |code: Code| diagnostics.iter().any(|d| d.code == code);
    let problem = match block.expect {
        Expect::Ignore => return None,
        Expect::Compile if errors.is_empty() => return None,
        Expect::Compile => "expected to compile without errors".to_string(),
        Expect::Error(code) if !errors.is_empty() && errors.iter().all(|e| *e == code) => {
            return None
        }
        Expect::Error(code) => format!("expected errors {} and no others", code.as_str()),
        Expect::Warning(code) if errors.is_empty() && has(code) => return None,
        Expect::Warning(code) => format!(
            "expected to compile without errors, with warning {}",
            code.as_str()
        ),
        Expect::Note(code) if errors.is_empty() && has(code) => return None,
        Expect::Note(code) => format!(
            "expected to compile without errors, with note {}",
            code.as_str()
        ),
    };
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
    let mut report = format!("{}: {problem}, got {codes:?}", block.location);
    let rendered = render::human_string(&sources, &diagnostics);
    if !rendered.is_empty() {
        let _ = write!(report, "\n{}", rendered.trim_end());
    }
    Some(report)
}

#[test]
fn mesh_blocks_compile_as_marked() {
    let (blocks, mut problems) = book_blocks();
    assert!(
        !blocks.is_empty(),
        "no ```mesh blocks found in book/src: is the book there?"
    );
    problems.extend(blocks.iter().filter_map(check_block));
    assert!(
        problems.is_empty(),
        "{} of {} mesh blocks in the book are wrong:\n\n{}\n",
        problems.len(),
        blocks.len(),
        problems.join("\n\n")
    );
}

/// The YAML shown after a program is what meshc emits for it.
#[test]
fn yaml_blocks_are_real_output() {
    let (blocks, _) = book_blocks();
    let mut problems = Vec::new();
    let mut compared = 0;
    for block in blocks.iter().filter(|b| !b.outputs.is_empty()) {
        let mut sources = block_sources(block, false);
        let compilation = compile_block(block, &mut sources);
        if compilation.has_errors() {
            problems.push(format!(
                "{}: the program before a YAML block does not compile",
                block.location
            ));
            continue;
        }
        let yaml = meshc::emit::yaml::stream(&compilation.manifests());
        let emitted: Vec<&str> = yaml.split("\n---\n").map(str::trim_end).collect();
        for (location, shown) in &block.outputs {
            compared += 1;
            let documents = shown.split("\n---\n").map(str::trim_end);
            if !documents.clone().all(|d| emitted.contains(&d)) || shown.trim().is_empty() {
                problems.push(format!(
                    "{location}: this YAML is not the output of the program at {}; meshc emits:\n{yaml}",
                    block.location
                ));
            }
        }
    }
    assert!(compared > 0, "no YAML output blocks found in the book");
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n\n"));
}

/// `meshc build` writes Istio's DestinationRules and VirtualServices straight from the IR, not
/// from their models: for every program of the book that compiles (with its own options), the
/// YAML written that way is the models' YAML, byte for byte.
#[test]
fn book_programs_stream_what_their_models_give() {
    let (blocks, _) = book_blocks();
    let mut problems = Vec::new();
    let mut compared = 0;
    for block in blocks
        .iter()
        .filter(|b| !b.validate && b.expect != Expect::Ignore)
    {
        let mut sources = block_sources(block, false);
        let compilation = compile_block(block, &mut sources);
        if compilation.has_errors() {
            continue;
        }
        let expected = meshc::emit::yaml::stream(&compilation.manifests());
        let streamed = mesh::streamed_yaml(&compilation, 1, 256);
        compared += 1;
        if let Some(line) = mesh::first_differing_line(&streamed, &expected) {
            problems.push(format!(
                "{}: the streamed YAML differs from the models' at line {line}:\n{streamed}\n\
                 models:\n{expected}",
                block.location
            ));
        }
    }
    assert!(compared >= 100, "only {compared} programs compared");
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n\n"));
}

/// Each error page shows its own code going wrong, and a corrected program.
#[test]
fn every_error_page_has_an_example_and_a_fix() {
    let (blocks, _) = book_blocks();
    let mut problems = Vec::new();
    for code in Code::ALL {
        let page = format!("book/src/errors/{}.md:", code.as_str());
        let on_page: Vec<&Block> = blocks
            .iter()
            .filter(|b| b.location.starts_with(&page))
            .collect();
        let (wrong, attribute) = if code.is_warning() {
            (Expect::Warning(*code), "warning")
        } else if code.is_note() {
            (Expect::Note(*code), "note")
        } else {
            (Expect::Error(*code), "error")
        };
        if !on_page.iter().any(|b| b.expect == wrong) {
            problems.push(format!(
                "{page} has no ```mesh,{attribute}={} example",
                code.as_str()
            ));
        }
        if !on_page.iter().any(|b| b.expect == Expect::Compile) {
            problems.push(format!("{page} has no corrected ```mesh program"));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn reads_fences_and_info_strings() {
    let markdown = "text\n\n```mesh\nnamespace a\n```\n\n- item\n\n  ````mesh,error=E0101\n  x\n  ```\n  y\n  ````\n\n```rust\nfn main() {}\n```\n\n~~~mesh,ignore\nz\n~~~\n\n```mesh,bogus\n```\n\n```mesh\nunclosed\n";
    let (blocks, problems) = mesh_blocks("t.md", markdown);
    let summary: Vec<(&str, Expect, &str)> = blocks
        .iter()
        .map(|b| (b.location.as_str(), b.expect.clone(), b.text.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("t.md:3", Expect::Compile, "namespace a\n"),
            ("t.md:9", Expect::Error(Code::E0101), "x\n```\ny\n"),
            ("t.md:19", Expect::Ignore, "z\n"),
        ]
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("t.md:23:"), "{problems:?}");
    assert!(problems[1].starts_with("t.md:26:"), "{problems:?}");
    assert_eq!(
        parse_info("mesh, warning=W0001"),
        Ok(Some(Expect::Warning(Code::W0001)))
    );
    assert_eq!(
        parse_info("mesh,note=N0001"),
        Ok(Some(Expect::Note(Code::N0001)))
    );
    assert!(parse_info("mesh,error=W0001").is_err());
    assert!(parse_info("mesh,error=N0001").is_err());
    assert!(parse_info("mesh,warning=N0001").is_err());
    assert!(parse_info("mesh,error=E0101,ignore").is_err());
    assert_eq!(parse_info("meshc"), Ok(None));
    assert_eq!(parse_info(""), Ok(None));
}

/// The target matrix in the book is the one the compiler uses.
#[test]
fn the_target_matrix_is_generated_from_the_code() {
    let path = repo_root().join("book/src/reference/targets.md");
    let page = std::fs::read_to_string(&path).expect("book/src/reference/targets.md exists");
    let start = page.find("<!-- matrix:start -->\n").expect("start marker")
        + "<!-- matrix:start -->\n".len();
    let end = page.find("<!-- matrix:end -->").expect("end marker");
    assert_eq!(
        page[start..end].trim_end(),
        meshc::target::matrix_markdown().trim_end(),
        "regenerate the table in {} from meshc::target::matrix_markdown()",
        path.display()
    );
}

/// The standard library's reference page is what `meshc::stdlib::reference()` generates from
/// `stdlib/*.mesh`; `MESHC_UPDATE_BOOK=1` rewrites it.
#[test]
fn stdlib_reference_is_generated_from_the_library() {
    let path = repo_root().join("book/src/stdlib.md");
    let generated = meshc::stdlib::reference();
    if std::env::var_os("MESHC_UPDATE_BOOK").is_some() {
        std::fs::write(&path, &generated).expect("writable book page");
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "book/src/stdlib.md is out of date: run `MESHC_UPDATE_BOOK=1 cargo test --test book`"
    );
}
