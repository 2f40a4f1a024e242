//! `meshc fmt`'s layout (`meshc::syntax::print::format`) on every `.mesh` file of the
//! repository: formatting never changes meaning (the syntax tree is the same, spans aside, and
//! the file compiles to the same diagnostics and byte-identical YAML), keeps every comment in
//! order, and is idempotent.

#[path = "support/mesh.rs"]
#[allow(dead_code)]
mod mesh;

use meshc::syntax::print::format;
use meshc::testing::tree_without_spans;

/// The comments of `text`, trimmed, in order (a rough reader: `//` to the end of the line,
/// outside double quotes on that line).
fn comments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let bytes = line.as_bytes();
        for (index, &byte) in bytes.iter().enumerate() {
            if in_string {
                match byte {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            if byte == b'"' {
                in_string = true;
            } else if byte == b'/' && bytes.get(index + 1) == Some(&b'/') {
                out.push(line[index..].trim_end().to_string());
                break;
            }
        }
    }
    out
}

/// The codes of the diagnostics and the YAML of `text` compiled on its own (as `path`).
fn compiled(path: &str, text: &str) -> (Vec<&'static str>, String) {
    let mut sources = meshc::SourceMap::new();
    sources.add(path, text);
    let compilation = meshc::compile(&mut sources);
    let codes = compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    let yaml = meshc::emit::yaml::stream(&compilation.manifests());
    (codes, yaml)
}

#[test]
fn formatting_keeps_meaning_and_comments_and_is_idempotent() {
    let mut formatted_files = 0;
    let mut problems = Vec::new();
    for dir in ["examples", "stdlib", "tests/fixtures"] {
        for path in mesh::mesh_files(dir) {
            let text = mesh::read(&path);
            let Some(before) = tree_without_spans(&text) else {
                // A fixture with a syntax error is not formatted.
                assert!(
                    format(0, &text).is_err(),
                    "{path}: formatted despite a syntax error"
                );
                continue;
            };
            let once = match format(0, &text) {
                Ok(once) => once,
                Err(e) => {
                    problems.push(format!("{path}: {e:?}"));
                    continue;
                }
            };
            formatted_files += 1;
            match tree_without_spans(&once) {
                Some(after) if after == before => {}
                Some(_) => problems.push(format!("{path}: the tree changed:\n{once}")),
                None => problems.push(format!("{path}: the output does not parse:\n{once}")),
            }
            if comments(&once) != comments(&text) {
                problems.push(format!(
                    "{path}: comments changed:\n{:?}\n{:?}\n{once}",
                    comments(&text),
                    comments(&once)
                ));
            }
            match format(0, &once) {
                Ok(twice) if twice == once => {}
                Ok(twice) => problems.push(format!(
                    "{path}: not idempotent:\n--- once\n{once}\n--- twice\n{twice}"
                )),
                Err(e) => problems.push(format!("{path}: the output does not format: {e:?}")),
            }
            // The same program: the same diagnostics (by code and line count aside) and YAML.
            let (before_codes, before_yaml) = compiled(&path, &text);
            let (after_codes, after_yaml) = compiled(&path, &once);
            if before_codes != after_codes || before_yaml != after_yaml {
                problems.push(format!(
                    "{path}: compiles differently: {before_codes:?} vs {after_codes:?}"
                ));
            }
            if once.lines().any(|l| l.ends_with(' ')) {
                problems.push(format!("{path}: trailing spaces:\n{once}"));
            }
        }
    }
    assert!(
        formatted_files > 150,
        "only {formatted_files} files formatted"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// The repository's own programs are in the layout `meshc fmt` writes (the book's style).
#[test]
fn examples_and_the_standard_library_are_in_the_canonical_layout() {
    let mut unformatted = Vec::new();
    for dir in ["examples", "stdlib"] {
        for path in mesh::mesh_files(dir) {
            let text = mesh::read(&path);
            if format(0, &text).ok().as_deref() != Some(text.as_str()) {
                unformatted.push(path);
            }
        }
    }
    assert!(
        unformatted.is_empty(),
        "run `meshc fmt` on: {unformatted:?}"
    );
}
