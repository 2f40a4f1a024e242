//! Support for `meshc test` (comparing a compiled YAML stream with its committed expectation),
//! the benchmark's canonical program ([`benchmark_program`]) and the fixtures' several-file
//! programs ([`fixture_sources`]).
//!
//! The comparison is a line diff (a longest common subsequence over the lines that differ, after
//! the common head and tail are set aside), shown as unified-diff hunks with a few lines of
//! context. It does no I/O and knows nothing of terminals: the CLI colours the lines.

use std::borrow::Cow;

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// In both texts; shown as context.
    Same(Cow<'a, str>),
    /// Only in the expected text.
    Removed(Cow<'a, str>),
    /// Only in the actual text.
    Added(Cow<'a, str>),
    /// A hunk header: where the next lines are, 1-based, as `(expected line, actual line)`.
    Hunk(usize, usize),
}

/// How many unchanged lines are shown around each change.
pub const CONTEXT: usize = 3;

/// The lines that differ between `expected` and `actual`, in hunks with [`CONTEXT`] lines of
/// context; empty exactly when the texts are equal.
pub fn diff<'a>(expected: &'a str, actual: &'a str) -> Vec<Line<'a>> {
    if expected == actual {
        return Vec::new();
    }
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    let mut edits = edit_script(&old, &new);
    // `lines` hides line endings and the final newline: name a difference in them.
    let (expected_endings, actual_endings) = (endings(expected), endings(actual));
    if expected_endings != actual_endings {
        edits.push(Line::Removed(
            format!("(the expected file has {expected_endings})").into(),
        ));
        edits.push(Line::Added(
            format!("(the output has {actual_endings})").into(),
        ));
    } else if edits.iter().all(|e| matches!(e, Line::Same(_))) {
        // The same lines and the same mix of endings, in different places.
        let (number, ending) = expected
            .split_inclusive('\n')
            .zip(actual.split_inclusive('\n'))
            .enumerate()
            .find(|(_, (e, a))| e != a)
            .map(|(k, (e, _))| (k + 1, e.ends_with("\r\n")))
            .unwrap_or((old.len(), false));
        let [removed, added] = if ending {
            ["CRLF", "LF"]
        } else {
            ["LF", "CRLF"]
        };
        edits.push(Line::Removed(
            format!("(line {number} ends with {removed})").into(),
        ));
        edits.push(Line::Added(
            format!("(line {number} ends with {added})").into(),
        ));
    }
    hunks(&edits)
}

/// How `text` ends its lines: `CRLF`, `LF` or `mixed`, and with or without a final newline.
fn endings(text: &str) -> String {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    let style = match (crlf, lf) {
        (0, _) => "LF",
        (_, 0) => "CRLF",
        _ => "mixed",
    };
    let last = if text.ends_with('\n') { "a" } else { "no" };
    format!("{style} line endings and {last} final newline")
}

/// Above this many cells (16 MiB of table), the lines between the common head and tail are
/// shown as removed, then added, instead of being matched line by line.
const MAX_TABLE: usize = 1 << 22;

/// The full edit script from `old` to `new`: every line, kept, removed or added.
fn edit_script<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<Line<'a>> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let a = &old[head..old.len() - tail];
    let b = &new[head..new.len() - tail];
    let mut edits: Vec<Line> = old[..head]
        .iter()
        .map(|l| Line::Same((*l).into()))
        .collect();
    if (a.len() + 1).saturating_mul(b.len() + 1) > MAX_TABLE {
        edits.extend(a.iter().map(|l| Line::Removed((*l).into())));
        edits.extend(b.iter().map(|l| Line::Added((*l).into())));
        edits.extend(
            old[old.len() - tail..]
                .iter()
                .map(|l| Line::Same((*l).into())),
        );
        return edits;
    }
    // lcs[i][j]: the length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut edits: Vec<Line> = old[..head]
        .iter()
        .map(|l| Line::Same((*l).into()))
        .collect();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            edits.push(Line::Same(a[i].into()));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            edits.push(Line::Removed(a[i].into()));
            i += 1;
        } else {
            edits.push(Line::Added(b[j].into()));
            j += 1;
        }
    }
    edits.extend(
        old[old.len() - tail..]
            .iter()
            .map(|l| Line::Same((*l).into())),
    );
    edits
}

/// Cuts an edit script into hunks: each change with up to [`CONTEXT`] unchanged lines around
/// it, a header before each hunk.
fn hunks<'a>(edits: &[Line<'a>]) -> Vec<Line<'a>> {
    let changed: Vec<bool> = edits.iter().map(|e| !matches!(e, Line::Same(_))).collect();
    // Whether each line is shown: a change, or within CONTEXT lines of one.
    let shown: Vec<bool> = (0..edits.len())
        .map(|k| {
            let from = k.saturating_sub(CONTEXT);
            let to = (k + CONTEXT + 1).min(edits.len());
            changed[from..to].iter().any(|c| *c)
        })
        .collect();
    let mut out = Vec::new();
    let (mut old_line, mut new_line) = (1, 1);
    for (k, edit) in edits.iter().enumerate() {
        if shown[k] {
            if k == 0 || !shown[k - 1] {
                out.push(Line::Hunk(old_line, new_line));
            }
            out.push(edit.clone());
        }
        match edit {
            Line::Same(_) => {
                old_line += 1;
                new_line += 1;
            }
            Line::Removed(_) => old_line += 1,
            Line::Added(_) => new_line += 1,
            Line::Hunk(..) => {}
        }
    }
    out
}

/// The benchmark's canonical program (what `scripts/bench-input N` prints): `n` services in one
/// namespace, each with subsets v1/v2, a connection pool, outlier detection and a 90/10 route
/// with retries and a timeout (two manifests per service). For the benchmark and the tests.
pub fn benchmark_program(n: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("namespace bench\n");
    for i in 1..=n {
        let _ = write!(
            out,
            "\nservice svc-{i} {{\n  subset v1 (version = v1)\n  subset v2 (version = v2)\n  \
             pool {{ max connections 100  max pending requests 10  max requests 100 }}\n  \
             eject {{ after 5 consecutive 5xx  check every 30s  for 30s  at most 50% }}\n}}\n\
             @allow(retry-non-idempotent, retry-budget)\n\
             route svc-{i} -> v1 90%, v2 10% retry 3 per try 5s on 5xx, reset timeout 15s\n"
        );
    }
    out
}

/// The YAML stream meshc emits for [`benchmark_program`]`(n)`, written straight out with
/// `write!`: no parsing, no checking, no model. The benchmark's floor (the "plain writer" meshc
/// is measured against, `compiler/examples/plain_writer.rs`); a test keeps it byte for byte
/// what meshc writes.
pub fn write_benchmark_yaml(n: usize, out: &mut impl std::io::Write) -> std::io::Result<()> {
    for i in 1..=n {
        if i > 1 {
            out.write_all(b"---\n")?;
        }
        write!(
            out,
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  \
             name: svc-{i}\n  namespace: bench\n  labels:\n    \
             app.kubernetes.io/managed-by: meshc\nspec:\n  \
             host: svc-{i}.bench.svc.cluster.local\n  trafficPolicy:\n    connectionPool:\n      \
             tcp:\n        maxConnections: 100\n      http:\n        \
             http1MaxPendingRequests: 10\n        http2MaxRequests: 100\n    \
             outlierDetection:\n      consecutive5xxErrors: 5\n      interval: 30s\n      \
             baseEjectionTime: 30s\n      maxEjectionPercent: 50\n  subsets:\n  \
             - name: v1\n    labels:\n      version: v1\n  - name: v2\n    labels:\n      \
             version: v2\n"
        )?;
    }
    for i in 1..=n {
        write!(
            out,
            "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  \
             name: svc-{i}\n  namespace: bench\n  labels:\n    \
             app.kubernetes.io/managed-by: meshc\nspec:\n  hosts:\n  \
             - svc-{i}.bench.svc.cluster.local\n  http:\n  - route:\n    - destination:\n        \
             host: svc-{i}.bench.svc.cluster.local\n        subset: v1\n      weight: 90\n    \
             - destination:\n        host: svc-{i}.bench.svc.cluster.local\n        \
             subset: v2\n      weight: 10\n    timeout: 15s\n    retries:\n      \
             attempts: 3\n      perTryTimeout: 5s\n      retryOn: 5xx,reset\n"
        )?;
    }
    Ok(())
}

/// A program of several files written as one text, as the diagnostics fixtures and the fuzzer
/// write them: a line `// file: NAME.mesh` starts another file, named `NAME.mesh`, up to the
/// next such line; the text above the first one is the file `first`. Every line stays in its
/// file, the `// file:` line included.
pub fn fixture_sources(first: &str, text: &str) -> crate::SourceMap {
    let mut sources = crate::SourceMap::new();
    let mut file = (first.to_string(), String::new());
    for line in text.split_inclusive('\n') {
        if let Some(next) = line.trim_end().strip_prefix("// file: ") {
            let done = std::mem::replace(&mut file, (next.trim().to_string(), String::new()));
            sources.add(done.0, done.1);
        }
        file.1.push_str(line);
    }
    sources.add(file.0, file.1);
    sources
}

/// The syntax tree of `text` (parsed as file 0) as text, without its spans: what formatting
/// must keep (`meshc fmt` moves spans). `None` when the text does not parse.
pub fn tree_without_spans(text: &str) -> Option<String> {
    let tree = crate::syntax::parse(0, text).ok()?;
    let debug = format!("{tree:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span {") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').map_or(rest.len(), |n| at + n + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    Some(out)
}

/// What is wrong with the labels of `diagnostics`, if anything: a label outside the files of
/// `sources` or their text, ending before it starts, or off a char boundary (codespan would
/// fail to render it). The fuzz targets' invariant.
pub fn span_problem(
    sources: &crate::SourceMap,
    diagnostics: &[crate::Diagnostic],
) -> Option<String> {
    for diagnostic in diagnostics {
        let labels = std::iter::once(&diagnostic.primary).chain(&diagnostic.secondary);
        for label in labels {
            let span = label.span;
            if span.file >= sources.len() {
                return Some(format!(
                    "{}: span in file {} of {}: {diagnostic:?}",
                    diagnostic.code.as_str(),
                    span.file,
                    sources.len()
                ));
            }
            let text = sources.text(span.file);
            let fits = span.start <= span.end
                && (span.end as usize) <= text.len()
                && text.is_char_boundary(span.start as usize)
                && text.is_char_boundary(span.end as usize);
            if !fits {
                return Some(format!(
                    "{}: span {}..{} outside the text ({} bytes) or not on char boundaries: {diagnostic:?}",
                    diagnostic.code.as_str(),
                    span.start,
                    span.end,
                    text.len()
                ));
            }
        }
    }
    None
}

/// The manifests of a one-file program (`web.mesh`) compiled with `options`; the unit tests'
/// way to look at what an emitter writes. Panics, with the diagnostics, if it has errors.
#[cfg(test)]
pub(crate) fn manifests_of(text: &str, options: crate::target::Options) -> Vec<crate::Manifest> {
    let mut sources = crate::SourceMap::new();
    sources.add("web.mesh", text);
    let compilation = crate::compile_with(&mut sources, options);
    assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
    compilation.manifests()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(lines: &[Line]) -> String {
        lines
            .iter()
            .map(|line| match line {
                Line::Same(t) => format!(" {t}\n"),
                Line::Removed(t) => format!("-{t}\n"),
                Line::Added(t) => format!("+{t}\n"),
                Line::Hunk(a, b) => format!("@@ {a} {b}\n"),
            })
            .collect()
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(diff("a\nb\n", "a\nb\n"), Vec::new());
    }

    #[test]
    fn a_changed_line_is_shown_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            render(&diff(old, new)),
            "@@ 2 2\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn distant_changes_make_two_hunks() {
        let old: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let new: String = old
            .lines()
            .map(|l| match l {
                "2" => "two\n".to_string(),
                "19" => "nineteen\n".to_string(),
                l => format!("{l}\n"),
            })
            .collect();
        let text = render(&diff(&old, &new));
        assert_eq!(text.matches("@@").count(), 2, "{text}");
        assert!(text.contains("@@ 16 16\n"), "{text}");
        assert!(text.contains("-19\n+nineteen\n"), "{text}");
    }

    #[test]
    fn insertions_and_deletions_keep_line_numbers() {
        let old = "a\nb\nc\n";
        let new = "a\nx\nb\n";
        assert_eq!(render(&diff(old, new)), "@@ 1 1\n a\n+x\n b\n-c\n");
    }

    #[test]
    fn a_missing_final_newline_is_named() {
        assert_eq!(
            render(&diff("a\n", "a")),
            "@@ 1 1\n a\n-(the expected file has LF line endings and a final newline)\n\
             +(the output has LF line endings and no final newline)\n"
        );
    }

    #[test]
    fn endings_placed_differently_are_named_at_their_line() {
        assert_eq!(
            render(&diff("a\r\nb\n", "a\nb\r\n")),
            "@@ 1 1\n a\n b\n-(line 1 ends with CRLF)\n+(line 1 ends with LF)\n"
        );
    }

    #[test]
    fn an_ending_difference_is_named_beside_changed_lines() {
        let text = render(&diff("a\r\nb\r\n", "a\nc\n"));
        assert!(text.contains("-b\n+c\n"), "{text}");
        assert!(
            text.contains("-(the expected file has CRLF line endings"),
            "{text}"
        );
    }

    #[test]
    fn huge_differences_are_shown_without_a_huge_table() {
        // One shared line in the middle: matching it would take a 3001 × 3001 table.
        let text = |prefix: &str| -> String {
            (0..3000)
                .map(|n| match n {
                    1500 => "shared\n".to_string(),
                    n => format!("{prefix} {n}\n"),
                })
                .collect()
        };
        let (old, new) = (text("old"), text("new"));
        let lines = diff(&old, &new);
        let removed = lines
            .iter()
            .filter(|l| matches!(l, Line::Removed(_)))
            .count();
        let added = lines.iter().filter(|l| matches!(l, Line::Added(_))).count();
        assert_eq!((removed, added), (3000, 3000));
        assert!(!lines.iter().any(|l| matches!(l, Line::Same(_))));
    }

    #[test]
    fn crlf_line_endings_are_named() {
        let text = render(&diff("a\r\nb\r\n", "a\nb\n"));
        assert!(
            text.contains("-(the expected file has CRLF line endings and a final newline)\n"),
            "{text}"
        );
        assert!(
            text.contains("+(the output has LF line endings and a final newline)\n"),
            "{text}"
        );
    }
}
