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

// Only the file helpers: `mod support;` would also build the CRD validator into this crate.
#[path = "support/mesh.rs"]
#[allow(dead_code)]
mod mesh;

use meshc::syntax::{parse_fast, parse_reference};
use meshc::testing::benchmark_program;

/// The repository's `.mesh` files as (path from the root, text), `dirs` in order.
fn files_under(dirs: &[&str]) -> Vec<(String, String)> {
    dirs.iter()
        .flat_map(|dir| mesh::mesh_files(dir))
        .map(|name| {
            let text = mesh::read(&name);
            (name, text)
        })
        .collect()
}

/// Every `.mesh` file of the repository: fixtures (valid and not), examples, the stdlib.
fn repository_files() -> Vec<(String, String)> {
    let files = files_under(&["tests/fixtures", "examples", "stdlib"]);
    assert!(files.len() > 100, "found only {} .mesh files", files.len());
    files
}

/// The valid programs users see: examples and the standard library.
fn examples_and_stdlib() -> Vec<(String, String)> {
    let files = files_under(&["examples", "stdlib"]);
    assert!(files.len() > 30, "found only {} files", files.len());
    files
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
    for (name, text) in examples_and_stdlib() {
        assert_accepted(&name, &text);
    }
}

#[test]
fn generated_program_takes_the_fast_path() {
    let text = benchmark_program(200);
    assert_accepted("bench-input 200", &text);
    let ast = parse_fast(0, &text).expect("accepted");
    assert_eq!(ast.items.len(), 400);
    assert!(ast.allows.iter().all(|allow| allow.target.is_some()));
}

#[test]
fn generated_program_matches_the_script() {
    // The script is the benchmark's definition; `meshc::testing::benchmark_program` must
    // print the same text.
    let script = mesh::repo_root().join("scripts/bench-input");
    let output = std::process::Command::new("sh")
        .arg(&script)
        .arg("3")
        .output();
    match output {
        // No `sh` on this machine: the rest of the tests do not depend on the script.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: no `sh` to run {}", script.display())
        }
        Err(e) => panic!("cannot run {}: {e}", script.display()),
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{}: {stderr}", script.display());
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                benchmark_program(3)
            );
        }
    }
}

#[test]
fn crlf_files_take_the_fast_path() {
    for (name, text) in examples_and_stdlib() {
        let crlf = text.replace('\n', "\r\n");
        assert_accepted(&format!("{name} with CRLF line ends"), &crlf);
        let ast = parse_fast(0, &crlf).expect("accepted");
        // Doc comments lose their CR, as with LF line ends.
        for policy in &ast.policies {
            assert!(!policy.doc.contains('\r'), "{name}: {:?}", policy.doc);
        }
    }
}

#[test]
fn layouts_take_the_fast_path() {
    for (name, text) in examples_and_stdlib() {
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

/// What an edge case must give (on top of soundness, checked for every case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Both parsers accept it.
    Both,
    /// Both reject it: a syntax error.
    Neither,
    /// Valid; the fast parser may leave it to pest (a file ending in a comment without a
    /// newline, where pest's spans take in the comment).
    MayDecline,
}

use Expect::{Both as B, MayDecline as D, Neither as N};

/// Small programs at the grammar's corners, each with the outcome it must have.
const EDGE_CASES: &[(Expect, &str)] = &[
    (B, ""),
    (B, "   \n\t\r\n"),
    (B, "// only a comment"),
    (B, "namespace a"),
    (B, "namespace a // comment\n"),
    // A file ending in a comment without a newline: pest's spans may include the comment, so
    // the fast parser may decline.
    (D, "namespace a\nroute b // end"),
    (D, "route b -> v1 // end"),
    (D, "route b -> v1 //"),
    (D, "import std/a // end"),
    (D, "import \"a\" as b // end"),
    (B, "namespace a // end"),
    (B, "route a\n@allow(x) // end"),
    (B, "service a { subset v1 (a = b) } // end"),
    (B, "policy p { timeout 1s } //"),
    (B, "canary a { from v1 } // end"),
    (B, "ingress a { gateway g } // end"),
    (B, "defaults { } // end"),
    (B, "route b -> v1 // end\u{a0}"),
    (B, "route b -> v1, v2\n"),
    (B, "route b -> v1 90%, v2 10%"),
    (B, "route b -> team2/billing.v2 10%, b.v1 90% timeout 1m30s"),
    (B, "route b -> v1, timeout 10s"),
    (N, "route b -> v1, \"x\""),
    (N, "route b -> a/ timeout 1s"),
    (N, "route b -> a.5"),
    (N, "route b -> a. timeout 1s"),
    (B, "route b retry 3 per try 5s on 5xx, reset remote localities on idempotent only"),
    (B, "route b retry attempts on 5xx"),
    (N, "route b retry on 5xx"),
    (N, "route b retry per try 1s"),
    (N, "route b retry on on 5xx"),
    (N, "route b retry remote remote localities on"),
    (N, "route b retry idempotent idempotent only"),
    (B, "route b retry onx on 5xx"),
    (B, "route b timeout 1.5s"),
    (B, "route b timeout 1h2m3s4ms"),
    (N, "route b timeout 1m5"),
    (N, "route b timeout 1ms5"),
    (B, "route b timeout 1h30m retry 5.5ms per try 0.5m"),
    (N, "route b timeout 1.5.5s"),
    (B, "route b -> v1 1.5%, v2 98.5"),
    (N, "route b timeout 1."),
    (N, "route b timeout 1.s"),
    (N, "route b timeout 10%abc"),
    (B, "route b -> v1 10%, v2 90% timeout 10%"),
    (B, "route b timeout 2.5 retry 3"),
    (B, "route b timeout \"s\\\"q\\\\u\\nx\\ty\\d\""),
    (N, "route b timeout \"unterminated"),
    (N, "route b timeout \"new\nline\""),
    (N, "route b timeout \"\\"),
    (B, "route b timeout \"ünïcödé ✓\" // ✓ comment ✓\n"),
    (B, "route b timeout \"\\é\""),
    (B, "route b when header x-a = \"1\" and uri prefix \"/v2\" or method GET -> v2"),
    (B, "route b when method regex \"GET|HEAD\" or query q.x prefix \"a\""),
    (B, "route b when method regex"),
    (B, "route b when header \"X-Quoted\" regex \"a.*\" -> v1"),
    (B, "route b fault delay 5s for 10% fault abort 503 for 5% fault abort grpc UNAVAILABLE for 1%"),
    (N, "route b fault abort grpc for 5%"),
    (B, "route b mirror v2-test 10% rewrite prefix \"/a\" rewrite authority \"x\""),
    (B, "route b redirect scheme https host example.com port 443 path \"/new\" status 301"),
    (B, "route b redirect host \"a\" prefix \"/p\""),
    (B, "route b request set x-a = \"1\" response add x-b = \"2\" response remove server, x-c"),
    (B, "route b backend timeout 5s use m.p(1s, timeout = 2s,) use q use r()"),
    (N, "route b use m.(1s)"),
    (N, "route b use m."),
    (B, "route route route route"),
    (B, "route when when header a = \"b\""),
    (B, "route b-1_c -> x_y-z 1"),
    (N, "route b-> v1"),
    (B, "service a {\n  host a.b.svc.cluster.local\n  port 8080\n  routes named \"a-vs\"\n  policy named a-dr\n}"),
    (N, "service a { host \"*.x\" host 10.0.0.1 host a.b. }"),
    (B, "service a { host \"*.x\" host 10.0.0.1 host a.b-c.d }"),
    (B, "service a { subset v1 (version = v1, app.kubernetes.io/name = \"x\",) { pool { max connections 1 } balance random } subset v2 (a = b) }"),
    (B, "service a { subset v1 (version = v1 // c\n) }"),
    (N, "service a { subset v1 () }"),
    (B, "service a { pool { max requests per connection 1 max pending requests 2 max requests 3 max connections 4 max retries 5 connect timeout 1s idle timeout 2s h2 upgrade on } }"),
    (N, "service a { pool { max requests per 5 } }"),
    (B, "service a { pool { max requests per } }"),
    (N, "service a { pool { max requests per connection } }"),
    (B, "service a { eject { after 5 consecutive 5xx after 1 consecutive gateway errors after 2 consecutive errors check every 1s for 2s at most 50% keep 10% healthy } }"),
    (N, "service a { eject { after 5 consecutive gateway } }"),
    (B, "service a { balance least request balance least conn balance round robin balance passthrough }"),
    (B, "service a { balance hash header x-user balance hash query q balance hash source ip balance hash cookie c ttl 10s path \"/\" ttl 1s }"),
    (B, "service a { balance hash cookie \"c\" }"),
    (N, "service a { balance hash cookie c path }"),
    (B, "service a { deploy v1 { image \"r/a:v1\" replicas 2 container app port 8080 ready http \"/h\" port 1 after 10s every 5s requests cpu \"250m\" memory \"1Mi\" limits memory \"2Mi\" env LOG_LEVEL = \"info\" env \"X.Y\" = \"z\" } }"),
    (B, "service a { deploy v1 { ready http \"/h\" } }"),
    (N, "service a { deploy v1 { requests } }"),
    (B, "service a { use m.p(x = \"y\") use p }"),
    // `extra`: a group and a setting start alike (a path); values are flat.
    (B, "service a { extra VirtualService { spec.http[0].corsPolicy { maxAge = 24h allowMethods = [\"GET\", POST,] } spec.x = [] spec.y = {} metadata.annotations[\"a.b/c\"] = \"d\" spec.z-1_q[12][3] = 1.5 } extra X { } }"),
    (B, "service a { extra K { a.b { } a = true } }"),
    (B, "ingress i { gateway g extra HTTPRoute { spec.rules[0].name = \"r\" } hostname h }"),
    (N, "service a { extra K { a .b = 1 } }"),
    (N, "service a { extra K { a. b = 1 } }"),
    (N, "service a { extra K { a [0] = 1 } }"),
    (N, "service a { extra K { a[ 0] = 1 } }"),
    (N, "service a { extra K { a[0x] = 1 } }"),
    (N, "service a { extra K { a[] = 1 } }"),
    (N, "service a { extra K { a.1 = 1 } }"),
    (N, "service a { extra K { [0] = 1 } }"),
    (N, "service a { extra K { a = [ , ] } }"),
    (N, "service a { extra K { a = [[1]] } }"),
    (N, "service a { extra K { a = { b = 1 } } }"),
    (N, "service a { extra K { a { b { c = 1 } } } }"),
    (N, "service a { extra K { a = } }"),
    (N, "service a { extra { a = 1 } }"),
    (B, "ingress i { gateway g in ns section s gateway h section t gateway k hostname a.example.com hostname \"*.x\" routes named r }"),
    (N, "ingress i { gateway g section s in ns }"),
    (B, "canary a { from v1 to v2 steps 10%, 50%, 100% check error rate below 1% check p99 latency below 500ms every 1m fail after 5 beta header x-user = \"beta\" mirror 10% first prometheus \"http://p:9090\" use m.c }"),
    (N, "canary a { check latency below 1s }"),
    (B, "import \"./common.mesh\" as common\nimport std/resilience\nimport std/x as y"),
    (N, "import std /x"),
    (N, "import std"),
    (B, "/// Doc.\n///   Indented.\n// plain\npolicy p(timeout: duration = 120s, n: count,) { timeout timeout retry n }"),
    (B, "/// Doc.\r\n/// Two.\r\npolicy p() { mirror v2 10% mirror 5% first mirror v2 first }"),
    (B, "policy p { from v1 pool { } eject { } balance random use x request remove a }"),
    (B, "defaults { use resilience.standard() timeout 1s }"),
    (B, "@allow(missing-timeout, retry-budget,)\n@ allow ( a )\nroute a\n@allow(x) namespace n @allow(y) service s { }"),
    (B, "@allow(x) policy p { } @allow(y) import std/a @allow(z) defaults { } @allow(w) canary c { } @allow(v) ingress i { } @allow(u)"),
    (N, "@allow(a_b) route a"),
    (N, "@allow() route a"),
    (N, "\u{feff}namespace a"),
    (N, "namespace\u{b}a"),
    (N, "namespace\u{c}a"),
    (N, "namespace\u{a0}a"),
    (N, "namespace a\u{2028}"),
    (N, "namespace a }"),
    (N, "namespace"),
    (N, "service a {"),
    (N, "route"),
    (N, "namespace 1a"),
    (N, "route a -> v1 90% 10%"),
];

#[test]
fn edge_cases() {
    let mut failures = Vec::new();
    for (i, &(expect, text)) in EDGE_CASES.iter().enumerate() {
        let fits = |outcome: &Outcome| match expect {
            B => *outcome == Outcome::Both,
            N => *outcome == Outcome::Neither,
            D => *outcome != Outcome::Neither,
        };
        match compare(text) {
            Ok(outcome) if fits(&outcome) => {}
            Ok(outcome) => failures.push(format!(
                "case {i} {text:?}: expected {expect:?}, got {outcome:?}"
            )),
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
    assert!(
        both > checked / 10 && neither > checked / 10,
        "{checked} mutations: {both} accepted by both, {neither} rejected by both"
    );
}

/// Every byte offset at which a line starts.
fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1))
}

#[test]
fn a_file_parsed_in_two_halves_is_the_file_parsed_whole() {
    // Split at every line start of every file (a declaration, inside one, in a comment, at a
    // blank line or an `@allow`), and of mutations of them: the result is always the same.
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut compared, mut accepted) = (0, 0);
    for (name, text) in repository_files() {
        let mut texts = vec![text.clone()];
        texts.extend(mutations(&text, &mut rng, 4));
        for text in &texts {
            let whole = parse_fast(0, text);
            accepted += usize::from(whole.is_some());
            for split in line_starts(text) {
                compared += 1;
                assert!(
                    meshc::syntax::parse_fast_split(0, text, split) == whole,
                    "{name}: split at byte {split} differs:\n{text}"
                );
            }
        }
    }
    assert!(
        compared > 10_000 && accepted > 100,
        "{compared} splits, {accepted} files"
    );
    // A large program is split where `syntax::parse` splits it.
    let program = benchmark_program(4000);
    assert!(program.len() > 1 << 20);
    let split = meshc::syntax::split_point(&program).expect("a split point");
    assert!(split > program.len() / 2 && program[split..].starts_with("service "));
    assert!(meshc::syntax::parse(0, &program).ok() == parse_fast(0, &program));
    // CRLF line ends, and a two-byte character where the middle falls.
    let crlf = program.replace('\n', "\r\n");
    let split = meshc::syntax::split_point(&crlf).expect("a split point with CRLF");
    assert!(crlf[..split].ends_with("\r\n\r\n") && crlf[split..].starts_with("service "));
    // A comment line holding `é` so placed that the middle byte is inside it.
    let line = program[program.len() / 2 - 200..]
        .find("\nservice ")
        .map(|at| program.len() / 2 - 200 + at + 1)
        .expect("a declaration near the middle");
    let accented = (0..1000)
        .map(|pad| {
            format!(
                "{}//{}é\n{}",
                &program[..line],
                " ".repeat(pad),
                &program[line..]
            )
        })
        .find(|text| !text.is_char_boundary(text.len() / 2))
        .expect("a padding that puts the middle inside `é`");
    assert!(meshc::syntax::split_point(&accented).is_some());
    assert!(meshc::syntax::parse(0, &accented).ok() == parse_fast(0, &accented));
}
