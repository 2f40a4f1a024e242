//! pest errors → diagnostics in human words (code E0001). No rule name reaches the user.

use pest::error::{ErrorVariant, InputLocation};

use super::grammar::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// How a grammar rule is named in "expected ..." messages: the words or symbols it starts with,
/// or what kind of thing it is. Every rule has an entry (a unit test checks it), so no rule name
/// reaches the user.
fn rule_names(rule: Rule) -> Vec<String> {
    let debug = format!("{rule:?}");
    if let Some(keyword) = debug.strip_prefix("kw_") {
        return vec![format!("`{keyword}`")];
    }
    let names: &[&str] = match rule {
        Rule::EOI => &["end of file"],
        Rule::lbrace | Rule::subset_body => &["`{`"],
        Rule::rbrace => &["`}`"],
        Rule::lparen | Rule::label_set => &["`(`"],
        Rule::rparen => &["`)`"],
        Rule::comma => &["`,`"],
        Rule::eq => &["`=`"],
        Rule::dot => &["`.`"],
        Rule::slash => &["`/`"],
        Rule::at | Rule::allow_attr => &["`@`"],
        Rule::lint_name => &["a lint name"],
        Rule::idempotent_only => &["`idempotent`"],
        Rule::arrow | Rule::destinations => &["`->`"],
        Rule::name | Rule::dest_ref | Rule::destination => &["a name"],
        Rule::hostname => &["a host name"],
        Rule::header_name | Rule::header_word => &["a header name"],
        Rule::label_key | Rule::label => &["a label key"],
        Rule::label_value | Rule::label_word => &["a label value"],
        Rule::literal => &["a value"],
        Rule::duration => &["a duration"],
        Rule::percent => &["a percentage"],
        Rule::float | Rule::int => &["a number"],
        Rule::string | Rule::string_inner => &["a string"],
        Rule::word => &["a word"],
        Rule::retry_condition => &["a retry condition"],
        Rule::match_op | Rule::string_match => &["`=`", "`prefix`", "`regex`"],
        Rule::header_dir | Rule::header_clause => &["`request`", "`response`"],
        Rule::named_what | Rule::named_decl => &["`routes`", "`policy`"],
        Rule::rewrite_what => &["`prefix`", "`path`", "`authority`"],
        Rule::ingress_decl => &["`ingress`"],
        Rule::deploy_decl => &["`deploy`"],
        Rule::extra_decl => &["`extra`"],
        Rule::lbracket | Rule::extra_list => &["`[`"],
        Rule::rbracket => &["`]`"],
        Rule::extra_entry
        | Rule::extra_group
        | Rule::extra_set
        | Rule::extra_path
        | Rule::extra_key => &["a field path"],
        Rule::extra_index => &["a list index"],
        Rule::extra_object => &["`{`"],
        Rule::canary_decl => &["`canary`"],
        Rule::canary_from => &["`from`"],
        Rule::canary_to => &["`to`"],
        Rule::canary_steps => &["`steps`"],
        Rule::canary_check => &["`check`"],
        Rule::check_error_rate => &["`error`"],
        Rule::check_latency => &["`p99`"],
        Rule::canary_interval => &["`every`"],
        Rule::canary_fail => &["`fail`"],
        Rule::canary_beta => &["`beta`"],
        Rule::canary_mirror => &["`mirror`"],
        Rule::canary_prometheus => &["`prometheus`"],
        Rule::deploy_image => &["`image`"],
        Rule::deploy_replicas => &["`replicas`"],
        Rule::deploy_container => &["`container`"],
        Rule::deploy_port | Rule::ready_port => &["`port`"],
        Rule::deploy_ready => &["`ready`"],
        Rule::ready_after => &["`after`"],
        Rule::ready_every => &["`every`"],
        Rule::deploy_requests => &["`requests`"],
        Rule::deploy_limits => &["`limits`"],
        Rule::resource_amount | Rule::resource_kind => &["`cpu`", "`memory`"],
        Rule::deploy_env => &["`env`"],
        Rule::gateway_decl => &["`gateway`"],
        Rule::gateway_namespace => &["`in`"],
        Rule::gateway_section => &["`section`"],
        Rule::hostname_decl => &["`hostname`"],
        Rule::backend_timeout_clause => &["`backend`"],
        Rule::redirect_clause => &["`redirect`"],
        Rule::redirect_scheme => &["`scheme`"],
        Rule::redirect_host => &["`host`"],
        Rule::redirect_port => &["`port`"],
        Rule::redirect_path => &["`path`"],
        Rule::redirect_prefix => &["`prefix`"],
        Rule::redirect_status => &["`status`"],
        Rule::error_kind => &["`5xx`", "`gateway`", "`errors`"],
        Rule::gateway_errors => &["`gateway`"],
        Rule::file => &["`namespace`", "`service`", "`route`"],
        Rule::namespace_decl => &["`namespace`"],
        Rule::service_decl => &["`service`"],
        Rule::host_decl => &["`host`"],
        Rule::port_decl => &["`port`"],
        Rule::subset_decl => &["`subset`"],
        Rule::pool => &["`pool`"],
        Rule::max_connections
        | Rule::max_pending_requests
        | Rule::max_requests_per_connection
        | Rule::max_requests
        | Rule::max_retries => &["`max`"],
        Rule::connect_timeout => &["`connect`"],
        Rule::idle_timeout => &["`idle`"],
        Rule::h2_upgrade => &["`h2`"],
        Rule::eject => &["`eject`"],
        Rule::eject_after => &["`after`"],
        Rule::eject_interval => &["`check`"],
        Rule::eject_for => &["`for`"],
        Rule::eject_at_most => &["`at`"],
        Rule::eject_keep => &["`keep`"],
        Rule::balance => &["`balance`"],
        Rule::lb_round_robin => &["`round`"],
        Rule::lb_least_request | Rule::lb_least_conn => &["`least`"],
        Rule::lb_random => &["`random`"],
        Rule::lb_passthrough => &["`passthrough`"],
        Rule::lb_hash => &["`hash`"],
        Rule::hash_header | Rule::header_cond => &["`header`"],
        Rule::hash_cookie => &["`cookie`"],
        Rule::cookie_ttl => &["`ttl`"],
        Rule::cookie_path => &["`path`"],
        Rule::hash_source_ip => &["`source`"],
        Rule::hash_query | Rule::query_cond => &["`query`"],
        Rule::route_decl => &["`route`"],
        Rule::route_match => &["`when`"],
        Rule::match_alt => &["`header`", "`query`", "`uri`", "`method`"],
        Rule::uri_cond => &["`uri`"],
        Rule::method_cond => &["`method`"],
        Rule::retry_clause => &["`retry`"],
        Rule::per_try => &["`per`"],
        Rule::retry_on => &["`on`"],
        Rule::remote_localities => &["`remote`"],
        Rule::timeout_clause => &["`timeout`"],
        Rule::fault_clause => &["`fault`"],
        Rule::fault_delay => &["`delay`"],
        Rule::fault_abort => &["`abort`"],
        Rule::grpc_status => &["`grpc`"],
        Rule::mirror_clause => &["`mirror`"],
        Rule::rewrite_clause => &["`rewrite`"],
        Rule::header_set => &["`set`"],
        Rule::header_add => &["`add`"],
        Rule::header_remove => &["`remove`"],
        Rule::colon => &["`:`"],
        Rule::import_decl => &["`import`"],
        Rule::std_module => &["`std/NAME`"],
        Rule::policy_decl => &["`policy`"],
        Rule::param_list | Rule::arg_list => &["`(`"],
        Rule::param => &["a parameter name"],
        Rule::defaults_decl => &["`defaults`"],
        Rule::use_clause => &["`use`"],
        Rule::policy_ref => &["a policy name"],
        Rule::arg => &["a value"],
        Rule::retry_count => &["a number"],
        Rule::policy_part => &["a route clause", "`pool`", "`eject`", "`balance`", "`use`"],
        _ => &[],
    };
    names.iter().map(|name| name.to_string()).collect()
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

/// What the parser found where it stopped, for "found ...".
enum Found {
    /// `end of file`, `end of line`: nothing to underline.
    End(&'static str),
    /// A word or a symbol, shown in backticks.
    Token(String),
    /// A character that prints as nothing, or as something else (NUL, U+00A0, ...).
    Invisible(char),
}

impl Found {
    fn at(text: &str, offset: usize) -> Found {
        let rest = text.get(offset..).unwrap_or("");
        let Some(first) = rest.chars().next() else {
            return Found::End("end of file");
        };
        if first == '\n' || first == '\r' {
            return Found::End("end of line");
        }
        if first.is_control() || (first.is_whitespace() && !first.is_ascii()) || first == '\u{feff}'
        {
            return Found::Invisible(first);
        }
        let word_char =
            |c: char| c.is_alphanumeric() || c == '-' || c == '_' || c == '%' || c == '.';
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
        Found::Token(token)
    }

    /// How many bytes to underline.
    fn len(&self) -> usize {
        match self {
            Found::End(_) => 0,
            Found::Token(token) => token.len(),
            Found::Invisible(c) => c.len_utf8(),
        }
    }
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::End(what) => f.write_str(what),
            Found::Token(token) => write!(f, "`{token}`"),
            Found::Invisible('\0') => f.write_str("a NUL byte"),
            Found::Invisible(c) => write!(f, "the invisible character U+{:04X}", u32::from(*c)),
        }
    }
}

/// Converts pest's error into one E0001 diagnostic.
pub(super) fn syntax_error(file: FileId, text: &str, err: &pest::error::Error<Rule>) -> Diagnostic {
    let (start, end) = match err.location {
        InputLocation::Pos(pos) => (pos, pos),
        InputLocation::Span((start, end)) => (start, end),
    };
    let found = Found::at(text, start);
    // Point at the whole unexpected token (or character) when there is one.
    let end = if end == start {
        start + found.len()
    } else {
        end
    };
    // At the end of the file there is nothing to underline: point at the last token instead.
    let (start, end) = match text.trim_end().len() {
        content_end if start >= content_end && content_end > 0 => {
            let last = text[..content_end]
                .chars()
                .next_back()
                .map_or(1, char::len_utf8);
            (content_end - last, content_end)
        }
        _ => (start, end),
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
            let expected: Vec<String> = positives.iter().copied().flat_map(rule_names).collect();
            let label = if expected.is_empty() {
                let unexpected: Vec<String> =
                    negatives.iter().copied().flat_map(rule_names).collect();
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
fn help_for(positives: &[Rule], found: &Found) -> String {
    let has = |rule: Rule| positives.contains(&rule);
    let keywords: Vec<String> = positives
        .iter()
        .filter_map(|rule| format!("{rule:?}").strip_prefix("kw_").map(str::to_string))
        .collect();
    match found {
        Found::Invisible(_) => return "delete it, or replace it with a plain space: such characters are often pasted in from web pages or word processors".to_string(),
        Found::Token(word) => {
            if let Some(near) =
                crate::diagnostics::did_you_mean(word, keywords.iter().map(String::as_str))
            {
                return format!("did you mean `{near}`?");
            }
        }
        Found::End(_) => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_human_name() {
        // Silent rules (`_{ ... }`) never appear in pest's errors.
        let silent = [
            Rule::WHITESPACE,
            Rule::COMMENT,
            Rule::item,
            Rule::service_item,
            Rule::pool_setting,
            Rule::eject_setting,
            Rule::balance_kind,
            Rule::condition,
            Rule::route_clause,
            Rule::deploy_setting,
            Rule::canary_setting,
            Rule::number,
            Rule::duration_unit,
            Rule::ident_char,
        ];
        let unnamed: Vec<Rule> = Rule::all_rules()
            .iter()
            .copied()
            .filter(|rule| !silent.contains(rule) && rule_names(*rule).is_empty())
            .collect();
        assert_eq!(unnamed, [], "rules without a human name in `rule_names`");
    }
}
