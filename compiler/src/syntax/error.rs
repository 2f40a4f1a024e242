//! pest errors → diagnostics in human words (code E0001). No rule name reaches the user.

use pest::error::{ErrorVariant, InputLocation};

use super::grammar::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// How a grammar rule is named in "expected ..." messages.
fn rule_name(rule: Rule) -> String {
    let debug = format!("{rule:?}");
    if let Some(keyword) = debug.strip_prefix("kw_") {
        return format!("`{keyword}`");
    }
    let name = match rule {
        Rule::EOI => "end of file",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::comma => "`,`",
        Rule::eq => "`=`",
        Rule::dot => "`.`",
        Rule::arrow => "`->`",
        Rule::name | Rule::dest_ref => "a name",
        Rule::hostname => "a host name",
        Rule::header_name | Rule::header_word => "a header name",
        Rule::label_key => "a label key",
        Rule::label_value | Rule::label_word => "a label value",
        Rule::literal => "a value",
        Rule::duration => "a duration",
        Rule::percent => "a percentage",
        Rule::float | Rule::int => "a number",
        Rule::string => "a string",
        Rule::word => "a word",
        Rule::retry_condition => "a retry condition",
        Rule::match_op => "`=`, `prefix` or `regex`",
        Rule::string_match => "`=`, `prefix` or `regex` and a string",
        Rule::route_clause => "a route clause",
        Rule::header_dir => "`request` or `response`",
        _ => return debug.replace('_', " "),
    };
    name.to_string()
}

/// Joins names as "a, b or c".
fn one_of(mut names: Vec<String>) -> String {
    names.sort();
    names.dedup();
    match names.len() {
        0 => "something else".to_string(),
        1 => names.remove(0),
        n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// The token found at `offset`, for "found ..." (a word, a symbol, or end of file).
fn found_at(text: &str, offset: usize) -> String {
    let rest = text.get(offset..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return "end of file".to_string();
    };
    if first == '\n' || first == '\r' {
        return "end of line".to_string();
    }
    let word_char = |c: char| c.is_alphanumeric() || c == '-' || c == '_' || c == '%' || c == '.';
    let token: String = if word_char(first) {
        rest.chars()
            .take_while(|c| word_char(*c))
            .take(40)
            .collect()
    } else {
        rest.chars()
            .take(if rest.starts_with("->") { 2 } else { 1 })
            .collect()
    };
    format!("`{token}`")
}

/// Converts pest's error into one E0001 diagnostic.
pub(super) fn syntax_error(file: FileId, text: &str, err: &pest::error::Error<Rule>) -> Diagnostic {
    let (start, end) = match err.location {
        InputLocation::Pos(pos) => (pos, pos),
        InputLocation::Span((start, end)) => (start, end),
    };
    let found = found_at(text, start);
    // Point at the whole unexpected token when there is one.
    let token_len = found.trim_matches('`').len();
    let end = if end == start && found.starts_with('`') {
        start + token_len
    } else {
        end
    };
    let span = Span {
        file,
        start: start as u32,
        end: end as u32,
    };
    let (label, help) = match &err.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => {
            let expected: Vec<String> = positives.iter().copied().map(rule_name).collect();
            let label = if expected.is_empty() {
                let unexpected: Vec<String> = negatives.iter().copied().map(rule_name).collect();
                format!("unexpected {}", one_of(unexpected))
            } else {
                format!("expected {}, found {found}", one_of(expected))
            };
            (label, help_for(positives, &found))
        }
        ErrorVariant::CustomError { message } => (
            message.clone(),
            "simplify the file: it nests too deeply to parse".to_string(),
        ),
    };
    Diagnostic::new(Code::E0001, "syntax error", span, label, help)
}

/// A help line fitted to what the parser expected: a did-you-mean when the unexpected word is
/// close to an expected keyword, otherwise a hint about what goes here.
fn help_for(positives: &[Rule], found: &str) -> String {
    let has = |rule: Rule| positives.contains(&rule);
    let keywords: Vec<String> = positives
        .iter()
        .filter_map(|rule| format!("{rule:?}").strip_prefix("kw_").map(str::to_string))
        .collect();
    let word = found.trim_matches('`');
    if let Some(near) = crate::diagnostics::did_you_mean(word, keywords.iter().map(String::as_str))
    {
        return format!("did you mean `{near}`?");
    }
    if has(Rule::kw_namespace) || has(Rule::kw_service) || has(Rule::kw_route) {
        "a file holds `namespace NAME`, `service NAME { ... }` and `route SERVICE ...` declarations"
            .into()
    } else if has(Rule::duration) || has(Rule::literal) {
        "write a value here: a number (`3`), a duration (`15s`), a percentage (`10%`), a word or a \"string\"".into()
    } else if has(Rule::rbrace) {
        "close the block with `}`, or check the spelling of the setting (see `meshc explain E0001`)"
            .into()
    } else {
        "see the language reference in the book (`meshc explain E0001`)".into()
    }
}
