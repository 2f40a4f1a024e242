//! The writer against serde-saphyr, its oracle: the same bytes for the same value, and every
//! string read back as the same string.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{json, Value};

use super::scalar;

/// What meshc's writer writes for `value`.
fn ours<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = String::new();
    super::write(&mut out, value).unwrap_or_else(|e| panic!("cannot write: {e}"));
    out
}

/// What serde-saphyr writes for `value`.
fn oracle<T: Serialize + ?Sized>(value: &T) -> String {
    serde_saphyr::to_string(&value).expect("serde-saphyr writes it")
}

/// Asserts that the writer writes `value` as serde-saphyr does, and returns the YAML.
#[track_caller]
fn same<T: Serialize + ?Sized + std::fmt::Debug>(value: &T) -> String {
    let yaml = ours(value);
    assert_eq!(yaml, oracle(value), "for {value:?}");
    yaml
}

/// Reads a YAML document back as data.
#[track_caller]
fn read(yaml: &str) -> Value {
    serde_saphyr::from_str::<Value>(yaml).unwrap_or_else(|e| panic!("{e}:\n{yaml}"))
}

/// Writes `s` as a value, a sequence item, a key, and inside nested collections; asserts that
/// each is serde-saphyr's text and reads back as `s`.
#[track_caller]
fn round_trip(s: &str) {
    #[derive(Debug, Serialize)]
    struct Field<'a> {
        v: &'a str,
    }
    #[derive(Debug, Serialize)]
    struct Nested<'a> {
        items: Vec<Field<'a>>,
        map: IndexMap<&'a str, Vec<&'a str>>,
        after: u32,
    }
    let value = same(&Field { v: s });
    assert_eq!(read(&value), json!({ "v": s }), "value {s:?}:\n{value}");
    let item = same(&[s, s]);
    assert_eq!(read(&item), json!([s, s]), "item {s:?}:\n{item}");
    let key = same(&IndexMap::from([(s, s), ("k", s)]));
    let expected: serde_json::Map<String, Value> =
        [(s.to_string(), json!(s)), ("k".to_string(), json!(s))]
            .into_iter()
            .collect();
    assert_eq!(read(&key), Value::Object(expected), "key {s:?}:\n{key}");
    let nested = same(&Nested {
        items: vec![Field { v: s }, Field { v: "x" }],
        map: IndexMap::from([(s, vec![s])]),
        after: 1,
    });
    assert_eq!(
        read(&nested),
        json!({ "items": [{ "v": s }, { "v": "x" }], "map": { s: [s] }, "after": 1 }),
        "nested {s:?}:\n{nested}"
    );
    let root = same(s);
    assert_eq!(read(&root), json!(s), "document {s:?}:\n{root}");
    // The fast path for ASCII agrees with serde-saphyr's predicates.
    assert_eq!(
        scalar::is_plain_value(s),
        scalar::saphyr::is_plain_value_safe(s, false, false),
        "plain value {s:?}"
    );
    assert_eq!(
        scalar::is_plain_key(s),
        scalar::saphyr::is_plain_safe(s) && scalar::saphyr::is_plain_value_safe(s, false, true),
        "plain key {s:?}"
    );
}

/// Strings that a YAML 1.1 reader (Kubernetes) or a YAML 1.2 reader would read as something
/// else than a string, or could not read, if they were written bare.
#[rustfmt::skip]
const AMBIGUOUS: &[&str] = &[
    // Booleans (YAML 1.1 and 1.2), in several cases.
    "y", "Y", "n", "N", "yes", "Yes", "YES", "yEs", "no", "No", "NO", "true", "True", "TRUE",
    "tRuE", "false", "False", "FALSE", "on", "On", "ON", "oN", "off", "Off", "OFF",
    // Null.
    "", "~", "null", "Null", "NULL", "nULL",
    // Integers: decimal, signed, octal (1.1 `017`, 1.2 `0o17`), hex, binary, with `_`.
    "0", "7", "-1", "+1", "017", "0o17", "0O17", "0x1F", "0X1f", "-0x1F", "0b101", "+0b1",
    "1_000", "1__0", "0x_1", "-0o7", "00",
    // Floats.
    "1.5", "-1.5", "+1.5", "1.", ".5", "-.5", "+.5", "1e3", "1E3", "1e+3", "1e-3", "-1.5e-3",
    "1.5E+10", ".5e1", "6.8523015e+5", "685.230_15e+03", "1.2.3",
    // Infinity and not-a-number.
    ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN", "nan", "NaN", "inf",
    "-inf", "+inf",
    // Sexagesimal (YAML 1.1 base 60).
    "12:30", "1:30", "190:20:30", "-12:30", "12:30:45.5", "1_2:30",
    // Dates and timestamps.
    "2024-01-01", "2024-1-1", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "2001-12-15T02:59:43.1Z", "2002-12-14",
    // Merge key and the YAML 1.1 value key.
    "<<", "=",
    // Indicators that start a node.
    "-", "- a", "-\ta", "?", "? a", ":", ": a", ":a", ",", ",a", "[", "[a]", "]", "{", "{a}",
    "}", "#", "#a", "&", "&a", "*", "*a", "!", "!a", "!!str", "|", "|a", ">", ">a", "'",
    "'a'", "\"", "\"a\"", "%", "%a", "@", "@a", "`", "`a", ".",
    // Document markers.
    "---", "--- a", "...", "... a",
    // A mapping indicator or a comment inside, a trailing colon.
    "a: b", "a:", "a: ", "a #b", "a\t#b",
    // Leading or trailing white space.
    " ", " a", "a ", "\ta", "a\t", "  a  ",
    // Control and non-printable characters.
    "\0", "a\u{1}", "\u{7}", "\u{8}", "\u{b}", "\u{c}", "\r", "a\rb", "\u{1b}", "\u{7f}",
    "\u{80}", "\u{85}", "\u{9f}", "\u{feff}", "\u{2028}", "\u{2029}", "\u{fffe}", "\u{ffff}",
    "a\u{feff}b",
];

/// Every ambiguous string is quoted, as a value and as a key, and reads back as itself.
#[test]
fn ambiguous_strings_are_quoted() {
    for &s in AMBIGUOUS {
        round_trip(s);
        let value = ours(&IndexMap::from([("k", s)]));
        let written = value
            .strip_prefix("k: ")
            .expect("k: value")
            .trim_end_matches('\n');
        assert!(
            (written.starts_with('"') && written.ends_with('"') && written.len() >= 2)
                || (written.starts_with('\'') && written.ends_with('\'') && written.len() >= 2),
            "{s:?} is written unquoted as a value: {written}"
        );
        let key = ours(&IndexMap::from([(s, "v")]));
        assert!(
            key.starts_with('"') && key.ends_with("\": v\n"),
            "{s:?} is written unquoted as a key: {key}"
        );
    }
}

/// Strings that are written bare, so that the quoting is no broader than serde-saphyr's.
#[test]
fn ordinary_strings_are_plain() {
    for s in [
        "reviews",
        "reviews.team1.svc.cluster.local",
        "15s",
        "1500ms",
        "/api/v1",
        "^/api/.*$",
        "x-user",
        "gateway-error,connect-failure,reset",
        "app.kubernetes.io/managed-by",
        "image:1.2",
        "a:b",
        "a#b",
        "-a",
        "?a",
        "a b",
        "a, b",
        "10%",
        "yess",
        "nulls",
        "é",
        "日本",
    ] {
        round_trip(s);
        assert_eq!(ours(&IndexMap::from([("k", s)])), format!("k: {s}\n"));
    }
}

/// A deterministic generator (xorshift64*), so that a failure repeats.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Every ASCII character alone, doubled, and before, after and between others; keywords in
/// every case; numbers; Unicode; control characters; multi-line and long strings; and random
/// strings of YAML's special characters: each written as serde-saphyr writes it, and read back.
#[test]
fn strings_round_trip_as_serde_saphyr_writes_them() {
    let mut strings: Vec<String> = Vec::new();
    for byte in 0u8..128 {
        let c = char::from(byte);
        for s in [
            format!("{c}"),
            format!("{c}{c}"),
            format!("a{c}"),
            format!("{c}a"),
            format!("a{c}b"),
            format!("{c} "),
            format!(" {c}"),
            format!("{c} a"),
            format!("a {c}"),
            format!("a{c} b"),
            format!("1{c}"),
            format!("{c}1"),
        ] {
            strings.push(s);
        }
    }
    // Every pair of printable ASCII characters.
    for a in b' '..=b'~' {
        for b in b' '..=b'~' {
            strings.push(format!("{}{}", char::from(a), char::from(b)));
        }
    }
    for word in [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf", ".inf", ".nan",
    ] {
        let upper = word.to_uppercase();
        let title = format!("{}{}", &upper[..1], &word[1..]);
        let alternating: String = word
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        for s in [word.to_string(), upper, title, alternating] {
            strings.push(format!("{s}x"));
            strings.push(format!("x{s}"));
            strings.push(format!("{s} "));
            strings.push(s);
        }
    }
    for s in [
        "1",
        "-1",
        "+1",
        "0",
        "-0",
        "01",
        "0o7",
        "0o8",
        "0x",
        "0xG",
        "0b2",
        "1e",
        "1e+",
        "e3",
        "1.2e3.4",
        "1_",
        "_1",
        "1._0",
        "12:60",
        "12:5",
        "0:30",
        "1:2:3",
        "12:30:60",
        "2024-01",
        "2024-01-01x",
        "2024-01-01 10:00",
        "2024-01-01T10:00:00",
        "2024-01-01T10:00:00+01:00",
        "99999999999999999999999",
        "1.7976931348623157e309",
        "１２",
    ] {
        strings.push(s.to_string());
    }
    for s in [
        "é",
        "naïve",
        "日本語",
        "😀",
        "a\u{a0}",
        "\u{a0}a",
        "a\u{3000}",
        "a:\u{3000}",
        "a\u{3000}#b",
        "a\u{2003}#b",
        "\u{200b}",
        "\u{d7ff}",
        "\u{e000}",
        "\u{fffd}",
        "\u{10ffff}",
        "a\u{85}b",
        "a\u{2028}b",
        "\u{feff}a",
        "ǅ",
        "İ",
    ] {
        strings.push(s.to_string());
    }
    for s in [
        "a\nb",
        "a\n",
        "a\n\n",
        "a\n\n\n",
        "\n",
        "\n\n",
        "\na",
        "\n\na",
        " a\nb",
        "a\n b",
        "\n  a",
        "a\r\nb",
        "a\n\tb",
        "\ta\nb",
        "#a\nb",
        "a: b\nc",
        "---\na",
        "a \nb ",
        "a\n\nb",
        "- a\n- b",
        "a\u{85}\nb",
        "a\u{feff}\nb",
        "a\0\nb",
        "é\nü",
        "'\n\"",
        "sum(rate(x[5m]))\n/\nsum(rate(y[5m]))\n> 0.01",
    ] {
        strings.push(s.to_string());
    }
    // Long single-line strings: folded at spaces when plain, else quoted.
    let words = "the quick brown fox jumps over the lazy dog";
    for s in [
        words.repeat(3),
        format!("{} ", words.repeat(3)),
        format!("{}   ", words.repeat(3)),
        words.repeat(3).replace(' ', "  "),
        words.repeat(3).replace(' ', "   "),
        "x".repeat(200),
        format!("{} {}", "x".repeat(100), "y".repeat(100)),
        format!("{} \t{}", "a".repeat(79), "b".repeat(10)),
        format!("{} {}", "a".repeat(80), "b"),
        format!("{} {}", "a".repeat(79), "b"),
        "é ".repeat(60),
        "日本 ".repeat(30),
        "日".repeat(81),
        "é".repeat(41),
        format!(" {}", words.repeat(3)),
        format!("{}: x", words.repeat(3)),
        format!("{} #x", words.repeat(3)),
        format!("- {}", words.repeat(3)),
        format!("{}\u{1}", words.repeat(3)),
        "a ".repeat(100),
        "ab ".repeat(40),
        " ".repeat(100),
    ] {
        strings.push(s);
    }
    // Random strings of YAML's special characters and words.
    let pieces = [
        "a", "b", "1", "0", ".", "-", "+", "_", ":", " ", "  ", "#", "'", "\"", "\\", "\n", "\t",
        "\r", "\0", "?", ",", "[", "]", "{", "}", "&", "*", "!", "|", ">", "%", "@", "`", "~", "e",
        "x", "o", "yes", "no", "null", "é", "\u{85}", "\u{a0}", "\u{2028}", "\u{feff}", "\u{3000}",
        "---", "...", "12", "2024-", "T", "Z",
    ];
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let len = 1 + random.below(8);
        let s: String = (0..len)
            .map(|_| pieces[random.below(pieces.len())])
            .collect();
        strings.push(s);
    }
    for _ in 0..300 {
        // Long ones, around the folding width.
        let len = 20 + random.below(60);
        let s: String = (0..len).map(|_| pieces[random.below(12)]).collect();
        strings.push(s);
    }
    for s in &strings {
        round_trip(s);
    }
}

/// A key longer than 1024 characters is written `? key` with its value after `:`.
#[test]
fn long_keys_are_explicit() {
    #[derive(Debug, Serialize)]
    enum Match {
        #[serde(rename = "exact")]
        Exact(&'static str),
    }
    // At the limit an implicit key is still allowed; it counts characters, not bytes.
    for key in ["k".repeat(1024), "é".repeat(1000)] {
        let yaml = same(&IndexMap::from([(key.as_str(), "v")]));
        assert!(!yaml.starts_with("? "), "{yaml}");
    }
    let long = "k".repeat(1025);
    let quoted = format!("{} #", "k".repeat(1100));
    let wide = "é".repeat(1025);
    for key in [long.as_str(), quoted.as_str(), wide.as_str()] {
        let yaml = same(&IndexMap::from([(key, "v")]));
        assert!(yaml.starts_with("? "), "{yaml}");
        assert_eq!(read(&yaml), json!({ key: "v" }));
        same(&IndexMap::from([(
            key,
            IndexMap::from([("a", 1), ("b", 2)]),
        )]));
        same(&IndexMap::from([(key, IndexMap::<&str, u32>::new())]));
        same(&IndexMap::from([(key, vec![1, 2])]));
        same(&IndexMap::from([(key, Match::Exact("/api"))]));
        same(&IndexMap::from([(key, "a\nb")]));
        same(&vec![IndexMap::from([(key, "v"), ("b", "w")])]);
        same(&IndexMap::from([("outer", IndexMap::from([(key, "v")]))]));
    }
}

/// Every shape a manifest has, in every position, and a few more.
#[test]
fn shapes_are_laid_out_as_serde_saphyr_lays_them_out() {
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    enum Match {
        Exact(String),
        Prefix(String),
        Nested(Inner),
        List(Vec<u32>),
        Pause(Empty),
        Unit,
    }
    #[derive(Debug, Serialize)]
    struct Empty {
        #[serde(skip_serializing_if = "Option::is_none")]
        duration: Option<String>,
    }
    #[derive(Debug, Serialize)]
    struct Inner {
        name: String,
        weight: Option<u32>,
        labels: IndexMap<String, String>,
    }
    #[derive(Debug, Serialize)]
    #[serde(untagged)]
    enum IntOrName {
        Int(u16),
        Name(&'static str),
    }
    #[derive(Debug, Serialize)]
    struct Everything {
        string: String,
        int: i64,
        uint: u64,
        small: u16,
        float: f64,
        yes: bool,
        no: bool,
        none: Option<String>,
        some: Option<String>,
        unit: (),
        empty_vec: Vec<u32>,
        empty_map: IndexMap<String, String>,
        empty_struct: Empty,
        ints: Vec<u32>,
        floats: Vec<f64>,
        strings: Vec<String>,
        nested: Vec<Vec<String>>,
        empty_nested: Vec<Vec<String>>,
        maps: Vec<IndexMap<String, u32>>,
        empty_maps: Vec<IndexMap<String, u32>>,
        structs: Vec<Inner>,
        matches: Vec<Match>,
        by_name: IndexMap<String, Match>,
        one: Match,
        unit_variant: Match,
        either: Vec<IntOrName>,
        tuple: (u32, String),
        text: String,
        texts: Vec<String>,
        long: String,
        longs: Vec<String>,
        deep: IndexMap<String, IndexMap<String, Vec<Inner>>>,
    }
    let inner = |name: &str, weight| Inner {
        name: name.to_string(),
        weight,
        labels: IndexMap::from([
            ("app".to_string(), name.to_string()),
            ("version".to_string(), "v1".to_string()),
        ]),
    };
    let long = "sum(rate(istio_requests_total{destination_service=\"reviews.team1.svc.cluster.local\"}[5m])) by (le) > 0.5".to_string();
    let text = "first line\n  indented\n\nlast".to_string();
    let everything = Everything {
        string: "hello".to_string(),
        int: i64::MIN,
        uint: u64::MAX,
        small: 8080,
        float: 0.5,
        yes: true,
        no: false,
        none: None,
        some: Some("on".to_string()),
        unit: (),
        empty_vec: vec![],
        empty_map: IndexMap::new(),
        empty_struct: Empty { duration: None },
        ints: vec![0, 1, 90, 10],
        floats: vec![
            0.5,
            10.0,
            1e-3,
            99.9,
            100.0,
            1e16,
            1.5e-7,
            -0.0,
            f64::NAN,
            f64::INFINITY,
        ],
        strings: vec!["a".to_string(), "yes".to_string(), String::new()],
        nested: vec![
            vec!["a".to_string(), "b".to_string()],
            vec![],
            vec!["c".to_string()],
        ],
        empty_nested: vec![vec![]],
        maps: vec![IndexMap::from([("a".to_string(), 1), ("b".to_string(), 2)])],
        empty_maps: vec![IndexMap::new(), IndexMap::new()],
        structs: vec![inner("v1", Some(90)), inner("v2", None)],
        matches: vec![
            Match::Exact("/api".to_string()),
            Match::Prefix("12:30".to_string()),
            Match::Nested(inner("n", Some(1))),
            Match::List(vec![1, 2]),
            Match::List(vec![]),
            Match::Pause(Empty { duration: None }),
            Match::Pause(Empty {
                duration: Some("30s".to_string()),
            }),
            Match::Unit,
            Match::Exact(text.clone()),
            Match::Exact(long.clone()),
        ],
        by_name: IndexMap::from([
            ("uri".to_string(), Match::Prefix("/".to_string())),
            ("nested".to_string(), Match::Nested(inner("m", None))),
            ("list".to_string(), Match::List(vec![3])),
            ("empty".to_string(), Match::List(vec![])),
            ("pause".to_string(), Match::Pause(Empty { duration: None })),
            ("unit".to_string(), Match::Unit),
            ("text".to_string(), Match::Exact(text.clone())),
            ("long".to_string(), Match::Exact(long.clone())),
        ]),
        one: Match::Exact("x".to_string()),
        unit_variant: Match::Unit,
        either: vec![IntOrName::Int(8080), IntOrName::Name("http")],
        tuple: (1, "a".to_string()),
        text: text.clone(),
        texts: vec![text.clone(), "a\n".to_string(), "\n".to_string()],
        long: long.clone(),
        longs: vec![long.clone(), long.repeat(2)],
        deep: IndexMap::from([(
            "a".to_string(),
            IndexMap::from([("b".to_string(), vec![inner("d", Some(5))])]),
        )]),
    };
    same(&everything);
    same(&vec![everything]);
    // Documents that are not mappings.
    same(&Vec::<u32>::new());
    same(&IndexMap::<String, u32>::new());
    same(&Empty { duration: None });
    same(&vec![vec![1, 2], vec![3]]);
    same(&vec![Match::Exact("a".to_string())]);
    same(&vec![text.clone()]);
    same(&text);
    same(&long);
    same(&7u32);
    same(&-7i32);
    same(&0.25f64);
    same(&true);
    same(&Option::<u32>::None);
    same(&Match::Unit);
    // Non-string keys.
    same(&IndexMap::from([(1u32, "a"), (2, "b")]));
    same(&IndexMap::from([(true, "a")]));
    same(&IndexMap::from([(Some(-1i64), "a"), (None, "b")]));
    // An enum variant as the whole document is not a manifest's shape: an error, no panic.
    assert!(super::write(&mut String::new(), &Match::Exact("a".to_string())).is_err());
}

/// Floats as serde-saphyr writes them (zmij's shortest digits): `0.5`, `10.0`, `0.001`,
/// `1.0e+16`, `1.5e-7`, `.nan`, `.inf`; and integers at their limits.
#[test]
fn numbers_are_written_as_serde_saphyr_writes_them() {
    let mut floats = vec![
        0.0,
        -0.0,
        0.5,
        10.0,
        1e-3,
        12.5,
        99.99,
        100.0,
        1.0 / 3.0,
        2.0f64.sqrt(),
        1e-5,
        1.2345e-5,
        1e-6,
        9.99e-6,
        1e15,
        123456789012345.6,
        1e16,
        1.5e16,
        1e21,
        1e22,
        1e100,
        -1e-100,
        1.7976931348623157e308,
        f64::MIN_POSITIVE,
        5e-324,
        f64::EPSILON,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.1 + 0.2,
    ];
    let mut random = Random(42);
    for _ in 0..1000 {
        // Exact ties in the 16th or 17th digit: 2^49..2^51 holds quarters.
        let whole = (1u64 << 49) + random.next() % (3u64 << 49);
        for fraction in [0.25, 0.75, 0.5] {
            floats.push(whole as f64 + fraction);
            floats.push(-(whole as f64 + fraction));
            floats.push((whole as f64 + fraction) / 1024.0);
            floats.push((whole as f64 + fraction) * 1e-20);
        }
    }
    for _ in 0..20_000 {
        let value = f64::from_bits(random.next());
        floats.push(value);
        // And numbers of ordinary magnitudes, with few digits.
        let digits = random.below(100_000) as f64;
        let scale = 10f64.powi(random.below(24) as i32 - 12);
        floats.push(digits * scale);
    }
    let mismatches: Vec<String> = floats
        .iter()
        .filter(|value| ours(*value) != oracle(*value))
        .map(|value| {
            format!(
                "{value:e} {:#x}: ours {} saphyr {}",
                value.to_bits(),
                ours(value).trim_end(),
                oracle(value).trim_end()
            )
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {}:\n{}",
        mismatches.len(),
        floats.len(),
        mismatches.join("\n")
    );
    same(&floats);
    let ints: Vec<i64> = vec![0, 1, -1, 9, 10, 99, 100, i64::MAX, i64::MIN, 1 << 40];
    same(&ints);
    same(&vec![u64::MAX, 0, 18_446_744_073_709_551_000]);
    same(&vec![i128::MIN, 0]);
    same(&vec![u128::MAX]);
    same(&vec![u8::MAX]);
    same(&vec![i8::MIN]);
    same(&vec!['a', '#', '-', ' ']);
}

/// Every `.mesh` file under `dir`, sorted.
fn mesh_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "mesh") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Every example, for every target, is written as serde-saphyr writes it.
#[test]
fn every_example_is_written_as_serde_saphyr_writes_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = [0; 4];
    for path in mesh_files(&root.join("examples")) {
        let text = std::fs::read_to_string(&path).expect("example");
        // Files are compiled alone, with the standard library only (and a namespace where
        // mesh.toml gives it): one that imports a file of its project is left to
        // `meshc test examples`.
        if text.contains("import \"") {
            continue;
        }
        for target in [
            crate::target::Target::Istio,
            crate::target::Target::GatewayApi,
            crate::target::Target::Flagger,
            crate::target::Target::ArgoRollouts,
        ] {
            let mut sources = crate::SourceMap::new();
            sources.add(path.display().to_string(), text.clone());
            // A namespace for the files that take theirs from a mesh.toml.
            let settings = crate::Settings {
                options: crate::target::Options {
                    target,
                    ..crate::target::Options::default()
                },
                namespace: Some("examples".to_string()),
                ..crate::Settings::default()
            };
            let compilation =
                crate::compile_configured(&mut sources, &settings, &mut crate::modules::NoFiles);
            // Every example is written for Istio (`meshc test examples` builds them all);
            // some use what another target cannot express.
            if compilation.has_errors() {
                assert!(
                    target != crate::target::Target::Istio,
                    "{path:?} does not compile"
                );
                continue;
            }
            let expected = serde_saphyr::to_string_multiple(&compilation.manifests())
                .expect("serde-saphyr writes it");
            assert_eq!(
                super::stream(&compilation.manifests()),
                expected,
                "{path:?}"
            );
            for manifest in &compilation.manifests() {
                assert_eq!(super::document(manifest), oracle(manifest));
            }
            checked[target as usize] += 1;
        }
    }
    // Each target writes several examples.
    assert!(
        checked.iter().all(|&n| n >= 3),
        "compilations per target: {checked:?}"
    );
    // And the benchmark's services.
    let mut sources = crate::SourceMap::new();
    sources.add("bench.mesh", crate::testing::benchmark_program(20));
    let compilation = crate::compile(&mut sources);
    assert!(!compilation.has_errors());
    assert_eq!(
        super::stream(&compilation.manifests()),
        serde_saphyr::to_string_multiple(&compilation.manifests()).expect("serde-saphyr writes it")
    );
}
