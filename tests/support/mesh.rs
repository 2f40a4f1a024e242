//! Compiling repository files from tests, and reading emitted YAML back as data.

use std::path::{Path, PathBuf};

use meshc::{Compilation, SourceMap};

/// The repository root (the parent of the `compiler` crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in a workspace")
        .to_path_buf()
}

/// Reads a repository file given by its path from the root.
pub fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Compiles one source text registered under `name`.
pub fn compile_text(name: &str, text: &str) -> (SourceMap, Compilation) {
    let mut sources = SourceMap::new();
    sources.add(name, text);
    let compilation = meshc::compile(&mut sources);
    (sources, compilation)
}

/// The YAML stream of a compilation as `meshc build` writes it (`emit::write_yaml_batched`), on
/// `threads` threads with `batch` parts per piece.
pub fn streamed_yaml(compilation: &Compilation, threads: usize, batch: usize) -> String {
    let mut streamed = String::new();
    let written = meshc::emit::write_yaml_batched(
        &compilation.program,
        compilation.options,
        threads,
        batch,
        &mut |piece| {
            streamed.push_str(piece);
            Ok::<(), ()>(())
        },
    );
    assert_eq!(written, Ok(()), "a String takes every piece");
    streamed
}

/// The first line (from 1) at which two texts differ, `None` when they are equal: a failing
/// comparison of two streams of megabytes names where they part, not the streams.
pub fn first_differing_line(a: &str, b: &str) -> Option<usize> {
    if a == b {
        return None;
    }
    let (mut a, mut b) = (a.lines(), b.lines());
    let mut line = 1;
    loop {
        match (a.next(), b.next()) {
            // Same lines, different line ends: the texts part at their end.
            (None, None) => return Some(line),
            (x, y) if x != y => return Some(line),
            _ => line += 1,
        }
    }
}

/// Compiles one repository file, registered under its path from the root, the way `meshc`
/// does: with the settings of its project's mesh.toml (found by walking up from the file, inside
/// the repository) and its imports read from the repository.
pub fn compile_file(relative: &str) -> (SourceMap, Compilation) {
    compile_file_with(relative, None)
}

/// Like [`compile_file`], for `options` instead of mesh.toml's target and channel.
pub fn compile_file_with(
    relative: &str,
    options: Option<meshc::target::Options>,
) -> (SourceMap, Compilation) {
    compile_file_on(relative, options, 0)
}

/// Like [`compile_file_with`], checked on `threads` threads (0: meshc's choice).
pub fn compile_file_on(
    relative: &str,
    options: Option<meshc::target::Options>,
    threads: usize,
) -> (SourceMap, Compilation) {
    let mut settings = meshc::Settings::from_config(&project_config(relative));
    if let Some(options) = options {
        settings.options = options;
    }
    settings.threads = threads;
    let mut sources = SourceMap::new();
    sources.add(relative, read(relative));
    let compilation = meshc::compile_configured(&mut sources, &settings, &mut RepoFiles);
    (sources, compilation)
}

/// The mesh.toml of the project a repository file belongs to; the defaults without one.
pub fn project_config(relative: &str) -> meshc::config::Config {
    let root = repo_root();
    let file = root.join(relative);
    for dir in file.ancestors().skip(1) {
        if !dir.starts_with(&root) {
            break;
        }
        let path = dir.join(meshc::config::FILE_NAME);
        if path.is_file() {
            let text = std::fs::read_to_string(&path).expect("readable mesh.toml");
            return meshc::config::parse(&text)
                .unwrap_or_else(|e| panic!("{}:{}: {}", path.display(), e.line, e.message));
        }
    }
    meshc::config::Config::default()
}

/// Reads imported files from the repository (paths from its root).
pub struct RepoFiles;

impl meshc::modules::Loader for RepoFiles {
    fn load(&mut self, path: &str) -> Result<(String, String), String> {
        std::fs::read_to_string(repo_root().join(path))
            .map(|text| (path.to_string(), text))
            .map_err(|e| e.to_string())
    }
}

/// Every `.mesh` file under a repository directory, as paths from the root, sorted.
pub fn mesh_files(relative_dir: &str) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|ext| ext == "mesh") {
                let relative = path.strip_prefix(root).expect("under the root");
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = repo_root();
    let mut out = Vec::new();
    walk(&root.join(relative_dir), &root, &mut out);
    out
}

/// Parses a (multi-document) YAML text into JSON values, one per document.
pub fn parse_yaml_documents(yaml: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple::<serde_json::Value>(yaml)
        .unwrap_or_else(|e| panic!("emitted YAML does not parse: {e}\n{yaml}"))
}

/// The manifests of a compilation as data, read back from the YAML meshc writes. Asserts that
/// every document reads back exactly as the value that was serialised.
pub fn manifests_as_data(compilation: &Compilation) -> Vec<serde_json::Value> {
    let manifests = compilation.manifests();
    let yaml = meshc::emit::yaml::stream(&manifests);
    let documents = parse_yaml_documents(&yaml);
    assert_eq!(
        documents.len(),
        manifests.len(),
        "one YAML document per manifest"
    );
    for (document, manifest) in documents.iter().zip(&manifests) {
        let expected = serde_json::to_value(manifest).expect("manifest serialises to JSON");
        assert_eq!(
            document, &expected,
            "YAML does not read back as written:\n{yaml}"
        );
    }
    documents
}
