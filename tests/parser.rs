//! The fast parser against the reference parser (pest + lowering), which stays the normative
//! grammar: see `compiler/src/syntax/mod.rs`.
//!
//! The rule checked everywhere is soundness: whenever the fast parser returns an AST, the
//! reference parser accepts the same text and returns an identical AST, every span included;
//! whenever the reference rejects a text, the fast parser returns `None`. On top of that, every
//! valid `.mesh` file of the repository must be accepted by the fast parser (so none takes the
//! slow path), as must a large generated program, CRLF line endings and other layouts.
//!
//! The inputs are every `.mesh` file under `tests/fixtures/`, `examples/` and `stdlib/`, a
//! generated benchmark program, hand-written edge cases, and deterministic mutations of every
//! valid file (bytes deleted, the text cut short, punctuation, quotes, comments, tabs and line
//! ends inserted): a cheap differential fuzz.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use meshc::syntax::{parse_fast, parse_reference};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in a workspace")
        .to_path_buf()
}

/// Every `.mesh` file below `dir`, sorted.
fn mesh_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read directory {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("readable directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "mesh") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The repository's `.mesh` files as (path from the root, text).
fn repository_files() -> Vec<(String, String)> {
    let root = repo_root();
    let mut out = Vec::new();
    for dir in ["tests/fixtures", "examples", "stdlib"] {
        for path in mesh_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.push((name, text));
        }
    }
    assert!(out.len() > 100, "found only {} .mesh files", out.len());
    out
}

/// What the two parsers made of one text.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Both accept it, with equal ASTs.
    Both,
    /// Only the reference accepts it: the slow path (allowed, but not for the repository's
    /// files).
    ReferenceOnly,
    /// Both reject it.
    Neither,
}

/// Runs both parsers on `text` and checks soundness; `Err` describes a violation.
fn compare(text: &str) -> Result<Outcome, String> {
    let fast = parse_fast(0, text);
    let reference = parse_reference(0, text);
    match (fast, reference) {
        (Some(fast), Ok(reference)) if fast == reference => Ok(Outcome::Both),
        (Some(fast), Ok(reference)) => {
            let (expected, actual) = (format!("{reference:#?}"), format!("{fast:#?}"));
            let mut out = String::from("the ASTs differ (- reference, + fast):\n");
            for line in meshc::testing::diff(&expected, &actual) {
                let _ = match line {
                    meshc::testing::Line::Same(l) => writeln!(out, "  {l}"),
                    meshc::testing::Line::Removed(l) => writeln!(out, "- {l}"),
                    meshc::testing::Line::Added(l) => writeln!(out, "+ {l}"),
                    meshc::testing::Line::Hunk(a, b) => writeln!(out, "@@ -{a} +{b} @@"),
                };
            }
            Err(out)
        }
        (Some(_), Err(error)) => Err(format!(
            "the fast parser accepts a text the reference rejects: {} (at {:?})",
            error.message, error.primary
        )),
        (None, Ok(_)) => Ok(Outcome::ReferenceOnly),
        (None, Err(_)) => Ok(Outcome::Neither),
    }
}

/// Checks soundness and that both parsers accept `text`.
fn assert_accepted(name: &str, text: &str) {
    match compare(text) {
        Ok(Outcome::Both) => {}
        Ok(outcome) => panic!("{name}: expected both parsers to accept it, got {outcome:?}"),
        Err(violation) => panic!("{name}: {violation}"),
    }
}

#[test]
fn repository_files_parse_the_same_with_both_parsers() {
    let mut failures = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for (name, text) in repository_files() {
        match compare(&text) {
            Ok(Outcome::Both) => valid += 1,
            Ok(Outcome::Neither) => invalid += 1,
            // Every valid file must take the fast path, fixtures included: a construct the fast
            // parser does not handle would otherwise silently cost speed.
            Ok(Outcome::ReferenceOnly) => {
                failures.push(format!("{name}: valid, but the fast parser declines it"))
            }
            Err(violation) => failures.push(format!("{name}: {violation}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The syntax-error fixtures (E0001) are among the files, so rejection is checked too.
    assert!(
        valid > 100 && invalid >= 5,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn examples_and_stdlib_take_the_fast_path() {
    let root = repo_root();
    let mut count = 0;
    for dir in ["examples", "stdlib"] {
        for path in mesh_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&path).expect("readable file");
            assert_accepted(&path.display().to_string(), &text);
            count += 1;
        }
    }
    assert!(count > 30, "only {count} files");
}

use meshc::testing::benchmark_program as bench_input;

#[test]
fn generated_program_takes_the_fast_path() {
    let text = bench_input(200);
    assert_accepted("bench-input 200", &text);
    let ast = parse_fast(0, &text).expect("accepted");
    assert_eq!(ast.items.len(), 400);
    assert!(ast.allows.iter().all(|allow| allow.target.is_some()));
}

#[test]
fn generated_program_matches_the_script() {
    // The script is the benchmark's definition; keep the generator above in step with it.
    let script = repo_root().join("scripts/bench-input");
    let output = std::process::Command::new("sh")
        .arg(&script)
        .arg("3")
        .output();
    match output {
        Ok(output) if output.status.success() => {
            assert_eq!(String::from_utf8_lossy(&output.stdout), bench_input(3));
        }
        // No `sh` or `awk` here: the rest of the tests do not depend on the script.
        _ => eprintln!("skipped: cannot run {}", script.display()),
    }
}

#[test]
fn crlf_files_take_the_fast_path() {
    let mut count = 0;
    for (name, text) in repository_files() {
        if !name.starts_with("examples") && !name.starts_with("stdlib") {
            continue;
        }
        let crlf = text.replace('\n', "\r\n");
        assert_accepted(&format!("{name} with CRLF line ends"), &crlf);
        let ast = parse_fast(0, &crlf).expect("accepted");
        // Doc comments lose their CR, as with LF line ends.
        for policy in &ast.policies {
            assert!(!policy.doc.contains('\r'), "{name}: {:?}", policy.doc);
        }
        count += 1;
    }
    assert!(count > 30);
}

#[test]
fn layouts_take_the_fast_path() {
    for (name, text) in repository_files() {
        if !name.starts_with("examples") && !name.starts_with("stdlib") {
            continue;
        }
        // Tabs for spaces, no final newline, one item a line, a comment after every line.
        let variants = [
            ("tabs", text.replace(' ', "\t")),
            ("no final newline", text.trim_end().to_string()),
            ("comments", text.replace('\n', " // note\n")),
            ("blank lines", text.replace('\n', "\n\n\t \n")),
        ];
        for (what, variant) in variants {
            assert_accepted(&format!("{name} ({what})"), &variant);
        }
    }
}

/// Small programs at the grammar's corners. Each is checked for soundness; those marked `true`
/// must also be accepted by both parsers.
const EDGE_CASES: &[(bool, &str)] = &[
    (true, ""),
    (true, "   \n\t\r\n"),
    (true, "// only a comment"),
    (true, "namespace a"),
    (true, "namespace a // comment\n"),
    // A file ending in a comment without a newline: pest's spans may include the comment, so
    // the fast parser may decline (soundness is what is checked).
    (false, "namespace a\nroute b // end"),
    (false, "route b -> v1 // end"),
    (false, "route b -> v1 //"),
    (false, "import std/a // end"),
    (false, "import \"a\" as b // end"),
    (true, "namespace a // end"),
    (true, "route a\n@allow(x) // end"),
    (true, "service a { subset v1 (a = b) } // end"),
    (true, "policy p { timeout 1s } //"),
    (true, "canary a { from v1 } // end"),
    (true, "ingress a { gateway g } // end"),
    (true, "defaults { } // end"),
    (true, "route b -> v1 // end\u{a0}"),
    (true, "route b -> v1, v2\n"),
    (true, "route b -> v1 90%, v2 10%"),
    (true, "route b -> team2/billing.v2 10%, b.v1 90% timeout 1m30s"),
    (true, "route b -> v1, timeout 10s"),
    (false, "route b -> v1, \"x\""),
    (false, "route b -> a/ timeout 1s"),
    (false, "route b -> a.5"),
    (false, "route b -> a. timeout 1s"),
    (true, "route b retry 3 per try 5s on 5xx, reset remote localities on idempotent only"),
    (true, "route b retry attempts on 5xx"),
    (false, "route b retry on 5xx"),
    (false, "route b retry per try 1s"),
    (false, "route b retry on on 5xx"),
    (false, "route b retry remote remote localities on"),
    (false, "route b retry idempotent idempotent only"),
    (true, "route b retry onx on 5xx"),
    (true, "route b timeout 1.5s"),
    (true, "route b timeout 1h2m3s4ms"),
    (false, "route b timeout 1m5"),
    (false, "route b timeout 1ms5"),
    (true, "route b timeout 1h30m retry 5.5ms per try 0.5m"),
    (false, "route b timeout 1.5.5s"),
    (true, "route b -> v1 1.5%, v2 98.5"),
    (false, "route b timeout 1."),
    (false, "route b timeout 1.s"),
    (false, "route b timeout 10%abc"),
    (true, "route b -> v1 10%, v2 90% timeout 10%"),
    (true, "route b timeout 2.5 retry 3"),
    (true, "route b timeout \"s\\\"q\\\\u\\nx\\ty\\d\""),
    (false, "route b timeout \"unterminated"),
    (false, "route b timeout \"new\nline\""),
    (false, "route b timeout \"\\"),
    (true, "route b timeout \"ünïcödé ✓\" // ✓ comment ✓\n"),
    (true, "route b timeout \"\\é\""),
    (true, "route b when header x-a = \"1\" and uri prefix \"/v2\" or method GET -> v2"),
    (true, "route b when method regex \"GET|HEAD\" or query q.x prefix \"a\""),
    (true, "route b when method regex"),
    (true, "route b when header \"X-Quoted\" regex \"a.*\" -> v1"),
    (true, "route b fault delay 5s for 10% fault abort 503 for 5% fault abort grpc UNAVAILABLE for 1%"),
    (false, "route b fault abort grpc for 5%"),
    (true, "route b mirror v2-test 10% rewrite prefix \"/a\" rewrite authority \"x\""),
    (true, "route b redirect scheme https host example.com port 443 path \"/new\" status 301"),
    (true, "route b redirect host \"a\" prefix \"/p\""),
    (true, "route b request set x-a = \"1\" response add x-b = \"2\" response remove server, x-c"),
    (true, "route b backend timeout 5s use m.p(1s, timeout = 2s,) use q use r()"),
    (false, "route b use m.(1s)"),
    (false, "route b use m."),
    (true, "route route route route"),
    (true, "route when when header a = \"b\""),
    (true, "route b-1_c -> x_y-z 1"),
    (false, "route b-> v1"),
    (true, "service a {\n  host a.b.svc.cluster.local\n  port 8080\n  routes named \"a-vs\"\n  policy named a-dr\n}"),
    (false, "service a { host \"*.x\" host 10.0.0.1 host a.b. }"),
    (true, "service a { host \"*.x\" host 10.0.0.1 host a.b-c.d }"),
    (true, "service a { subset v1 (version = v1, app.kubernetes.io/name = \"x\",) { pool { max connections 1 } balance random } subset v2 (a = b) }"),
    (false, "service a { subset v1 (version = v1 // c\n) }"),
    (false, "service a { subset v1 () }"),
    (true, "service a { pool { max requests per connection 1 max pending requests 2 max requests 3 max connections 4 max retries 5 connect timeout 1s idle timeout 2s h2 upgrade on } }"),
    (false, "service a { pool { max requests per 5 } }"),
    (true, "service a { pool { max requests per } }"),
    (false, "service a { pool { max requests per connection } }"),
    (true, "service a { eject { after 5 consecutive 5xx after 1 consecutive gateway errors after 2 consecutive errors check every 1s for 2s at most 50% keep 10% healthy } }"),
    (false, "service a { eject { after 5 consecutive gateway } }"),
    (true, "service a { balance least request balance least conn balance round robin balance passthrough }"),
    (true, "service a { balance hash header x-user balance hash query q balance hash source ip balance hash cookie c ttl 10s path \"/\" ttl 1s }"),
    (true, "service a { balance hash cookie \"c\" }"),
    (false, "service a { balance hash cookie c path }"),
    (true, "service a { deploy v1 { image \"r/a:v1\" replicas 2 container app port 8080 ready http \"/h\" port 1 after 10s every 5s requests cpu \"250m\" memory \"1Mi\" limits memory \"2Mi\" env LOG_LEVEL = \"info\" env \"X.Y\" = \"z\" } }"),
    (true, "service a { deploy v1 { ready http \"/h\" } }"),
    (false, "service a { deploy v1 { requests } }"),
    (true, "service a { use m.p(x = \"y\") use p }"),
    (true, "ingress i { gateway g in ns section s gateway h section t gateway k hostname a.example.com hostname \"*.x\" routes named r }"),
    (false, "ingress i { gateway g section s in ns }"),
    (true, "canary a { from v1 to v2 steps 10%, 50%, 100% check error rate below 1% check p99 latency below 500ms every 1m fail after 5 beta header x-user = \"beta\" mirror 10% first prometheus \"http://p:9090\" use m.c }"),
    (false, "canary a { check latency below 1s }"),
    (true, "import \"./common.mesh\" as common\nimport std/resilience\nimport std/x as y"),
    (false, "import std /x"),
    (false, "import std"),
    (true, "/// Doc.\n///   Indented.\n// plain\npolicy p(timeout: duration = 120s, n: count,) { timeout timeout retry n }"),
    (true, "/// Doc.\r\n/// Two.\r\npolicy p() { mirror v2 10% mirror 5% first mirror v2 first }"),
    (true, "policy p { from v1 pool { } eject { } balance random use x request remove a }"),
    (true, "defaults { use resilience.standard() timeout 1s }"),
    (true, "@allow(missing-timeout, retry-budget,)\n@ allow ( a )\nroute a\n@allow(x) namespace n @allow(y) service s { }"),
    (true, "@allow(x) policy p { } @allow(y) import std/a @allow(z) defaults { } @allow(w) canary c { } @allow(v) ingress i { } @allow(u)"),
    (false, "@allow(a_b) route a"),
    (false, "@allow() route a"),
    (false, "\u{feff}namespace a"),
    (false, "namespace\u{b}a"),
    (false, "namespace\u{c}a"),
    (false, "namespace\u{a0}a"),
    (false, "namespace a\u{2028}"),
    (false, "namespace a }"),
    (false, "namespace"),
    (false, "service a {"),
    (false, "route"),
    (false, "namespace 1a"),
    (false, "route a -> v1 90% 10%"),
];

#[test]
fn edge_cases() {
    let mut failures = Vec::new();
    for (i, &(valid, text)) in EDGE_CASES.iter().enumerate() {
        match compare(text) {
            Ok(Outcome::Both) => {}
            Ok(outcome) if valid => failures.push(format!(
                "case {i} {text:?}: expected acceptance, got {outcome:?}"
            )),
            Ok(_) => {}
            Err(violation) => failures.push(format!("case {i} {text:?}: {violation}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A small deterministic pseudo-random generator (xorshift), so that the fuzz needs no crate and
/// every run checks the same inputs.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// The character boundary at or before `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// What is inserted by the insertion mutations.
const INSERTS: &[&str] = &[
    "{",
    "}",
    "\"",
    "//",
    "\r\n",
    "\r",
    "\t",
    " ",
    "\n",
    ",",
    ".",
    "/",
    "-",
    "(",
    ")",
    "=",
    "%",
    "0",
    "5",
    "s",
    "@",
    "->",
    "é",
    "\\",
    "x ",
    " route a ",
    "// c\n",
    "\u{b}",
    "\u{c}",
    "\u{a0}",
    "\0",
    " on ",
    " per ",
    " first ",
    " mirror ",
    " use ",
    " when ",
    " and ",
    " or ",
    " max requests ",
    " 5 ",
    " v2 ",
    " 1.5 ",
    " 10% ",
    " \"s\" ",
];

/// Mutations of `text`: a character or a piece deleted, the text cut short, a piece copied
/// elsewhere, and short strings inserted, at positions drawn from `rng`; and four whole-text
/// variants (a final comment without newline, CRLF line ends, leading whitespace).
fn mutations(text: &str, rng: &mut Rng, count: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(count + 4);
    out.push(format!("{text}// end"));
    out.push(format!("{}// end", text.trim_end()));
    out.push(text.replace('\n', "\r\n").trim_end().to_string());
    out.push(format!("\n\t{text} "));
    for k in 0..count {
        let at = boundary(text, rng.below(text.len() + 1));
        // A piece of the text, up to 40 bytes from `at`.
        let piece_end = boundary(text, at + rng.below(40));
        let mutant = match k % 6 {
            // Delete one character.
            0 => {
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                format!("{}{}", &text[..at], &text[end..])
            }
            // Cut the text short.
            1 => text[..at].to_string(),
            // Delete a piece.
            2 => format!("{}{}", &text[..at], &text[piece_end..]),
            // Copy a piece elsewhere.
            3 => {
                let to = boundary(text, rng.below(text.len() + 1));
                format!("{}{}{}", &text[..to], &text[at..piece_end], &text[to..])
            }
            // Insert a string.
            _ => {
                let insert = INSERTS[rng.below(INSERTS.len())];
                format!("{}{insert}{}", &text[..at], &text[at..])
            }
        };
        out.push(mutant);
    }
    out
}

#[test]
fn mutations_of_valid_files_are_parsed_soundly() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut failures = Vec::new();
    let (mut checked, mut both, mut neither, mut reference_only) = (0, 0, 0, 0);
    for (name, text) in repository_files() {
        if parse_reference(0, &text).is_err() {
            continue;
        }
        // Small files get as many mutations as large ones: most mistakes are local.
        for (k, mutant) in mutations(&text, &mut rng, 48).iter().enumerate() {
            checked += 1;
            match compare(mutant) {
                Ok(Outcome::Both) => both += 1,
                Ok(Outcome::Neither) => neither += 1,
                Ok(Outcome::ReferenceOnly) => reference_only += 1,
                Err(violation) => {
                    failures.push(format!("{name}, mutation {k}:\n{mutant}\n---\n{violation}"))
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "{checked} mutations: {both} accepted by both parsers, {neither} rejected by both, \
         {reference_only} left to the reference"
    );
    // The mutations must exercise both outcomes, or the test proves little.
    assert!(both > checked / 10 && neither > checked / 10);
}
