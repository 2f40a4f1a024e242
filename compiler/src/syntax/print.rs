//! The canonical layout of a `.mesh` file (`meshc fmt`): a syntax tree printed back as text,
//! with the file's comments where they were.
//!
//! Layout: declarations in source order, one blank line kept wherever the source has one or
//! more (none at the start of a block); blocks indented by two spaces. A declaration or block
//! written on one line stays on one line if it fits in [`WIDTH`] columns and holds no comment;
//! otherwise a block has one item per line, and a route puts its condition, its destinations
//! and each clause on a line of their own. Words are separated by one space, the settings of a
//! one-line block by two. Literals keep their source text (`1500ms` stays `1500ms`).
//!
//! Comments are not in the syntax tree: they are read from the text, and each is written before
//! the first node that starts after it, at that node's indentation; a comment that follows code
//! on its line stays at the end of that line.

use crate::ast::{self, Clause, Condition, MatchOp};
use crate::source::{FileId, Span, Spanned};
use crate::Diagnostic;

/// The widest a line may be and still hold a whole declaration or block.
pub const WIDTH: usize = 100;

/// `text` in the canonical layout; the syntax error, if it has one.
pub fn format(file: FileId, text: &str) -> Result<String, Box<Diagnostic>> {
    let tree = super::parse(file, text)?;
    // Trailing comments are aligned through a marker; a text that holds it is not aligned.
    let mark = !text.contains(MARK);
    let mut printer = Printer {
        text,
        mark,
        comments: comments(text),
        next: 0,
        out: String::new(),
        indent: 0,
        last_end: 0,
    };
    printer.file(&tree);
    printer.flush_comments(text.len());
    let mut out = if mark {
        align(&printer.out)
    } else {
        printer.out
    };
    while out.ends_with('\n') {
        out.pop();
    }
    // An empty file stays empty; any other ends with one newline.
    if !out.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

/// Where a trailing comment starts, until `align` replaces it with spaces.
const MARK: char = '\u{1}';

/// Aligns the trailing comments of consecutive lines in one column, two spaces after the
/// longest code among them.
fn align(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < lines.len() {
        let run = lines[index..]
            .iter()
            .take_while(|line| line.contains(MARK))
            .count();
        if run == 0 {
            out.push_str(lines[index]);
            out.push('\n');
            index += 1;
            continue;
        }
        let group = &lines[index..index + run];
        let width = group
            .iter()
            .map(|line| line.split(MARK).next().unwrap_or_default().chars().count())
            .max()
            .unwrap_or(0);
        for line in group {
            let (code, comment) = line.split_once(MARK).unwrap_or((line, ""));
            let pad = width + 2 - code.chars().count();
            out.push_str(code);
            out.push_str(&" ".repeat(pad));
            out.push_str(comment);
            out.push('\n');
        }
        index += run;
    }
    out.pop();
    out
}

/// A `//` comment: its byte range, and whether code precedes it on its line.
#[derive(Debug, Clone, Copy)]
struct Comment {
    start: usize,
    end: usize,
    trailing: bool,
}

/// Every comment of `text`, in order (`//` outside strings, to the end of the line).
fn comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    let mut in_string = false;
    let mut line_has_code = false;
    while index < bytes.len() {
        let byte = bytes[index];
        if in_string {
            match byte {
                b'\\' => index += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            index += 1;
            continue;
        }
        match byte {
            b'"' => {
                in_string = true;
                line_has_code = true;
            }
            b'\n' => line_has_code = false,
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                let end = text[index..].find('\n').map_or(text.len(), |n| index + n);
                out.push(Comment {
                    start: index,
                    end,
                    trailing: line_has_code,
                });
                index = end;
                continue;
            }
            b' ' | b'\t' | b'\r' => {}
            _ => line_has_code = true,
        }
        index += 1;
    }
    out
}

struct Printer<'a> {
    text: &'a str,
    /// Whether trailing comments are marked for `align`.
    mark: bool,
    comments: Vec<Comment>,
    /// The first comment not yet written.
    next: usize,
    out: String,
    indent: usize,
    /// Where the last thing written ends in the source.
    last_end: usize,
}

impl Printer<'_> {
    /// Whether the source has a blank line between `from` and `to` (whitespace only around).
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let Some(gap) = self.text.get(from.min(to)..to) else {
            return false;
        };
        // The pieces between newlines: the first ends the previous line, the last starts the
        // next one; a blank line is one of the others with nothing but white space.
        let pieces: Vec<&str> = gap.split('\n').collect();
        pieces.len() > 2
            && pieces[1..pieces.len() - 1]
                .iter()
                .any(|p| p.trim().is_empty())
    }

    /// Starts a line at the current indentation, for a node that starts at `start` in the
    /// source: the comments before it first, and a blank line where the source has one.
    fn line(&mut self, start: usize) {
        self.flush_comments(start);
        self.new_line(start);
    }

    fn new_line(&mut self, start: usize) {
        if !self.out.is_empty() {
            let blank = self.blank_between(self.last_end, start)
                && !self.out.ends_with("{\n")
                && !self.out.ends_with('{');
            self.out.push('\n');
            if blank {
                self.out.push('\n');
            }
        }
        self.out.push_str(&"  ".repeat(self.indent));
        self.last_end = start;
    }

    /// Writes the comments that start before `offset`.
    fn flush_comments(&mut self, offset: usize) {
        while let Some(&comment) = self.comments.get(self.next) {
            if comment.start >= offset {
                break;
            }
            self.next += 1;
            let body = self.text[comment.start..comment.end].trim_end();
            // A trailing comment stays on its line, unless that line has one already.
            let line = &self.out[self.out.rfind('\n').map_or(0, |n| n + 1)..];
            let free = !line.trim().is_empty() && !line.contains("//");
            if comment.trailing && free {
                // Aligned with its neighbours' once the text is complete (`align`).
                if self.mark {
                    self.out.push(MARK);
                } else {
                    self.out.push_str("  ");
                }
                self.out.push_str(body);
            } else {
                self.new_line(comment.start);
                self.out.push_str(body);
            }
            self.last_end = comment.end;
        }
    }

    /// Whether a comment starts inside `span`.
    fn has_comment(&self, span: Span) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.start >= span.start as usize && c.start < span.end as usize)
    }

    /// Whether `span` was written on one line.
    fn one_line(&self, span: Span) -> bool {
        !self.text[span.start as usize..span.end as usize].contains('\n')
    }

    /// The width of the current line so far.
    fn column(&self) -> usize {
        self.out.len() - self.out.rfind('\n').map_or(0, |n| n + 1)
    }

    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn end(&mut self, span: Span) {
        self.last_end = self.last_end.max(span.end as usize);
    }

    fn file(&mut self, file: &ast::File) {
        // Every declaration by where it starts.
        let mut order: Vec<(usize, Decl)> = Vec::new();
        order.extend(
            file.namespaces
                .iter()
                .map(|n| (start(n.span), Decl::Namespace(n))),
        );
        order.extend(
            file.imports
                .iter()
                .map(|i| (start(i.span), Decl::Import(i))),
        );
        order.extend(
            file.policies
                .iter()
                .map(|p| (start(p.span), Decl::Policy(p))),
        );
        order.extend(
            file.defaults
                .iter()
                .map(|d| (start(d.span), Decl::Defaults(d))),
        );
        order.extend(file.allows.iter().map(|a| (start(a.span), Decl::Allow(a))));
        order.extend(
            file.items
                .iter()
                .map(|i| (start(item_span(i)), Decl::Item(i))),
        );
        order.sort_by_key(|(start, _)| *start);
        for (start, decl) in order {
            self.line(start);
            match decl {
                Decl::Namespace(name) => {
                    self.push(&format!("namespace {}", name.node));
                    self.end(name.span);
                }
                Decl::Import(import) => {
                    let path = match &import.path {
                        ast::ImportPath::File(path) => quoted(&path.node),
                        ast::ImportPath::Std(name) => format!("std/{}", name.node),
                    };
                    self.push(&format!("import {path}"));
                    if let Some(alias) = &import.alias {
                        self.push(&format!(" as {}", alias.node));
                    }
                    self.end(import.span);
                }
                Decl::Allow(allow) => {
                    let lints: Vec<&str> = allow.lints.iter().map(|l| l.node.as_str()).collect();
                    self.push(&format!("@allow({})", lints.join(", ")));
                    self.end(allow.span);
                }
                Decl::Policy(policy) => self.policy(policy),
                Decl::Defaults(defaults) => {
                    self.push("defaults");
                    self.parts_block(&defaults.body, defaults.span);
                }
                Decl::Item(item) => self.item(item),
            }
        }
    }

    fn policy(&mut self, policy: &ast::Policy) {
        self.push(&format!("policy {}", policy.name.node));
        if !policy.params.is_empty() {
            let params: Vec<String> = policy
                .params
                .iter()
                .map(|p| match &p.default {
                    Some(default) => {
                        format!("{}: {} = {}", p.name.node, p.ty.node, literal(default))
                    }
                    None => format!("{}: {}", p.name.node, p.ty.node),
                })
                .collect();
            self.push(&format!("({})", params.join(", ")));
        }
        self.parts_block(&policy.body, policy.span);
    }

    /// A block of policy parts (a policy's or `defaults`' body).
    fn parts_block(&mut self, parts: &[ast::PolicyPart], span: Span) {
        let items: Vec<Line> = parts
            .iter()
            .map(|part| match part {
                ast::PolicyPart::Use(u) => (start(u.span), use_clause(u), None),
                ast::PolicyPart::Policy(item) => policy_item(item),
                ast::PolicyPart::Clause(clause) => (start(clause.span), self.clause(clause), None),
                ast::PolicyPart::Canary(setting) => {
                    (start(setting.span), canary_setting(&setting.node), None)
                }
            })
            .collect();
        self.block(items, span);
    }

    /// ` { ... }` after what is already on the line: on the same line if the source had it
    /// there, it fits and holds no comment; otherwise one item per line.
    fn block(&mut self, items: Vec<Line>, span: Span) {
        if items.is_empty() && !self.has_comment(span) {
            self.push(" { }");
            self.end(span);
            return;
        }
        let flat = inline_lines(&items);
        let inline = format!(" {{ {} }}", flat.join("  "));
        if self.one_line(span) && !self.has_comment(span) && self.column() + inline.len() <= WIDTH {
            self.push(&inline);
            self.end(span);
            return;
        }
        self.push(" {");
        self.last_end = self.last_end.max(self.open_brace(span));
        self.indent += 1;
        for (start, text, nested) in items {
            self.line(start);
            self.push(&text);
            if let Some(nested) = nested {
                self.nested(nested);
            }
        }
        let close = (span.end as usize).saturating_sub(1);
        self.flush_comments(close);
        self.indent -= 1;
        self.out.push('\n');
        self.out.push_str(&"  ".repeat(self.indent));
        self.out.push('}');
        self.last_end = span.end as usize;
    }

    /// A `pool`/`eject`/subset/`extra` block inside a block.
    fn nested(&mut self, nested: Nested) {
        self.block(nested.lines, nested.span);
    }

    /// Where the `{` of a block that ends at `span.end` is: the first `{` of the span.
    fn open_brace(&self, span: Span) -> usize {
        self.text[span.start as usize..span.end as usize]
            .find('{')
            .map_or(span.start as usize, |n| span.start as usize + n + 1)
    }

    fn item(&mut self, item: &ast::Item) {
        match item {
            ast::Item::Service(service) => {
                self.push(&format!("service {}", service.name.node));
                let items = service.items.iter().map(service_item).collect();
                self.block(items, service.span);
            }
            ast::Item::Ingress(ingress) => {
                self.push(&format!("ingress {}", ingress.name.node));
                let items = ingress.items.iter().map(ingress_item).collect();
                self.block(items, ingress.span);
            }
            ast::Item::Canary(canary) => {
                self.push(&format!("canary {}", canary.service.node));
                let items = canary
                    .settings
                    .iter()
                    .map(|s| (start(s.span), canary_setting(&s.node), None))
                    .collect();
                self.block(items, canary.span);
            }
            ast::Item::Route(route) => self.route(route),
        }
    }

    fn route(&mut self, route: &ast::Route) {
        let head = format!("route {}", route.service.node);
        let when = (!route.matches.is_empty()).then(|| {
            let alts: Vec<String> = route.matches.iter().map(match_alt).collect();
            (start(route.matches[0].span), alts)
        });
        let destinations = (!route.destinations.is_empty()).then(|| {
            let list: Vec<String> = route.destinations.iter().map(destination).collect();
            (
                start(route.destinations[0].span),
                format!("-> {}", list.join(", ")),
            )
        });
        let clauses: Vec<(usize, String)> = route
            .clauses
            .iter()
            .map(|c| (start(c.span), self.clause(c)))
            .collect();
        let mut parts = vec![head.clone()];
        if let Some((_, alts)) = &when {
            parts.push(format!("when {}", alts.join(" or ")));
        }
        if let Some((_, destinations)) = &destinations {
            parts.push(destinations.clone());
        }
        parts.extend(clauses.iter().map(|(_, c)| c.clone()));
        let flat = parts.join(" ");
        if self.one_line(route.span)
            && !self.has_comment(route.span)
            && self.column() + flat.len() <= WIDTH
        {
            self.push(&flat);
            self.end(route.span);
            return;
        }
        self.push(&head);
        self.indent += 1;
        // Without a condition, the destinations stay on the route's first line.
        let mut destinations = destinations;
        if when.is_none() {
            if let Some((_, list)) = destinations.take() {
                self.push(" ");
                self.push(&list);
            }
        }
        if let Some((start, alts)) = when {
            self.line(start);
            let joined = format!("when {}", alts.join(" or "));
            if self.column() + joined.len() <= WIDTH {
                self.push(&joined);
            } else {
                for (index, alt) in alts.iter().enumerate() {
                    if index == 0 {
                        self.push(&format!("when {alt}"));
                    } else {
                        self.out.push('\n');
                        self.out.push_str(&"  ".repeat(self.indent + 1));
                        self.push(&format!("or {alt}"));
                    }
                }
            }
        }
        if let Some((start, destinations)) = destinations {
            self.line(start);
            self.push(&destinations);
        }
        for (start, clause) in clauses {
            self.line(start);
            self.push(&clause);
        }
        self.indent -= 1;
        self.end(route.span);
    }

    fn clause(&self, clause: &Spanned<Clause>) -> String {
        match &clause.node {
            Clause::Retry(retry) => {
                let mut out = format!("retry {}", literal(&retry.attempts));
                for per_try in &retry.per_try {
                    out.push_str(&format!(" per try {}", literal(per_try)));
                }
                if !retry.on.is_empty() {
                    let on: Vec<&str> = retry.on.iter().map(|c| c.node.as_str()).collect();
                    out.push_str(&format!(" on {}", on.join(", ")));
                }
                for remote in &retry.remote_localities {
                    out.push_str(&format!(" remote localities {}", literal(remote)));
                }
                for _ in &retry.idempotent_only {
                    out.push_str(" idempotent only");
                }
                out
            }
            Clause::Timeout(value) => format!("timeout {}", literal(value)),
            Clause::BackendTimeout(value) => format!("backend timeout {}", literal(value)),
            Clause::FaultDelay { delay, percent } => {
                format!("fault delay {} for {}", literal(delay), literal(percent))
            }
            Clause::FaultAbort { status, percent } => {
                let status = match status {
                    ast::AbortStatus::Http(code) => literal(code),
                    ast::AbortStatus::Grpc(name) => format!("grpc {}", name.node),
                };
                format!("fault abort {status} for {}", literal(percent))
            }
            Clause::Mirror { target, percent } => {
                format!("mirror {} {}", dest_ref(target), literal(percent))
            }
            Clause::Rewrite { what, value } => {
                let what = match what.node {
                    ast::RewriteWhat::Prefix => "prefix",
                    ast::RewriteWhat::Path => "path",
                    ast::RewriteWhat::Authority => "authority",
                };
                format!("rewrite {what} {}", quoted(&value.node))
            }
            Clause::Redirect(parts) => {
                let mut out = String::from("redirect");
                for part in parts {
                    let text = match &part.node {
                        ast::RedirectPart::Scheme(v) => format!("scheme {}", literal(v)),
                        ast::RedirectPart::Host(h) => format!("host {}", host(&h.node)),
                        ast::RedirectPart::Port(v) => format!("port {}", literal(v)),
                        ast::RedirectPart::Path(p) => format!("path {}", quoted(&p.node)),
                        ast::RedirectPart::Prefix(p) => format!("prefix {}", quoted(&p.node)),
                        ast::RedirectPart::Status(v) => format!("status {}", literal(v)),
                    };
                    out.push(' ');
                    out.push_str(&text);
                }
                out
            }
            Clause::Headers { dir, op } => {
                let dir = match dir.node {
                    ast::HeaderDir::Request => "request",
                    ast::HeaderDir::Response => "response",
                };
                let op = match op {
                    ast::HeaderOp::Set(name, value) => {
                        format!("set {} = {}", header(&name.node), quoted(&value.node))
                    }
                    ast::HeaderOp::Add(name, value) => {
                        format!("add {} = {}", header(&name.node), quoted(&value.node))
                    }
                    ast::HeaderOp::Remove(names) => {
                        let names: Vec<String> = names.iter().map(|n| header(&n.node)).collect();
                        format!("remove {}", names.join(", "))
                    }
                };
                format!("{dir} {op}")
            }
            Clause::Use(u) => use_clause(u),
        }
    }
}

/// A top-level declaration, for ordering.
enum Decl<'a> {
    Namespace(&'a ast::Text),
    Import(&'a ast::Import),
    Policy(&'a ast::Policy),
    Defaults(&'a ast::Defaults),
    Allow(&'a ast::Allow),
    Item(&'a ast::Item),
}

/// A line of a block: where it starts in the source, its text, and the block it opens.
type Line = (usize, String, Option<Nested>);

/// A block inside a block item (`pool { ... }`, a subset's policy, an `extra` block and its
/// groups): its lines.
struct Nested {
    lines: Vec<Line>,
    span: Span,
}

impl Nested {
    /// A `pool` or `eject` block, each setting written by `setting`.
    fn of<K>(block: &ast::Block<K>, setting: fn(&ast::Setting<K>) -> String) -> Nested {
        Nested {
            lines: block
                .settings
                .iter()
                .map(|s| (start(s.span), setting(s), None))
                .collect(),
            span: block.span,
        }
    }

    /// Lines that open no block.
    fn flat(lines: impl IntoIterator<Item = (usize, String)>, span: Span) -> Nested {
        Nested {
            lines: lines
                .into_iter()
                .map(|(at, text)| (at, text, None))
                .collect(),
            span,
        }
    }

    /// `HEAD { a  b }`: the block on one line.
    fn inline(&self, head: &str) -> String {
        format!("{head} {{ {} }}", inline_lines(&self.lines).join("  "))
    }
}

/// Each line with the block it opens on the same line.
fn inline_lines(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .map(|(_, text, nested)| nested.as_ref().map_or(text.clone(), |n| n.inline(text)))
        .collect()
}

fn start(span: Span) -> usize {
    span.start as usize
}

fn item_span(item: &ast::Item) -> Span {
    match item {
        ast::Item::Service(s) => s.span,
        ast::Item::Ingress(i) => i.span,
        ast::Item::Canary(c) => c.span,
        ast::Item::Route(r) => r.span,
    }
}

/// A literal as written (a string quoted again).
fn literal(literal: &ast::Literal) -> String {
    match literal.kind {
        ast::LiteralKind::String => quoted(&literal.text),
        _ => literal.text.clone(),
    }
}

/// A string literal whose content is `text` (what `lower::unescape` reads back as `text`).
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            // A backslash is read as itself unless an escape follows it, in the text written:
            // so it is doubled before what is written as an escape or starts with one.
            '\\' => match chars.peek() {
                Some('n' | 't' | '"' | '\\' | '\n' | '\t') | None => out.push_str("\\\\"),
                Some(_) => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `text` reads back as a bare word made of `allowed` characters.
fn bare(text: &str, allowed: impl Fn(char) -> bool) -> bool {
    !text.is_empty() && text.chars().all(allowed)
}

fn ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A header, cookie or query-parameter name (`header_name`): bare when it can be.
fn header(name: &str) -> String {
    if bare(name, |c| ident(c) || c == '.') {
        name.to_string()
    } else {
        quoted(name)
    }
}

/// A host name (`string | hostname`): bare when it can be.
fn host(name: &str) -> String {
    let labels_ok = name.split('.').all(|label| bare(label, ident));
    if labels_ok {
        name.to_string()
    } else {
        quoted(name)
    }
}

/// A name that may also be written as a string (`routes named`, labels).
fn name_or_string(name: &str) -> String {
    let word = name.starts_with(|c: char| c.is_ascii_alphabetic()) && bare(name, ident);
    if word {
        name.to_string()
    } else {
        quoted(name)
    }
}

fn use_clause(u: &ast::Use) -> String {
    let mut out = String::from("use ");
    if let Some(module) = &u.module {
        out.push_str(&module.node);
        out.push('.');
    }
    out.push_str(&u.name.node);
    {
        let args: Vec<String> = u
            .args
            .iter()
            .map(|a| match &a.name {
                Some(name) => format!("{} = {}", name.node, literal(&a.value)),
                None => literal(&a.value),
            })
            .collect();
        out.push_str(&format!("({})", args.join(", ")));
    }
    out
}

fn string_match(m: &ast::StringMatch) -> String {
    let op = match m.op {
        MatchOp::Exact => "=",
        MatchOp::Prefix => "prefix",
        MatchOp::Regex => "regex",
    };
    format!("{op} {}", quoted(&m.value.node))
}

fn condition(condition: &Condition) -> String {
    match condition {
        Condition::Header { name, matcher } => {
            format!("header {} {}", header(&name.node), string_match(matcher))
        }
        Condition::Query { name, matcher } => {
            format!("query {} {}", header(&name.node), string_match(matcher))
        }
        Condition::Uri(matcher) => format!("uri {}", string_match(matcher)),
        Condition::Method(matcher) => {
            let word = matcher
                .value
                .node
                .starts_with(|c: char| c.is_ascii_alphabetic())
                && bare(&matcher.value.node, ident);
            if matcher.op == MatchOp::Exact && word {
                format!("method {}", matcher.value.node)
            } else {
                format!("method {}", string_match(matcher))
            }
        }
    }
}

fn match_alt(alt: &ast::MatchAlt) -> String {
    let conditions: Vec<String> = alt.conditions.iter().map(|c| condition(&c.node)).collect();
    conditions.join(" and ")
}

fn dest_ref(target: &ast::DestRef) -> String {
    let mut out = String::new();
    if let Some(namespace) = &target.namespace {
        out.push_str(&namespace.node);
        out.push('/');
    }
    out.push_str(&target.first.node);
    if let Some(second) = &target.second {
        out.push('.');
        out.push_str(&second.node);
    }
    out
}

fn destination(destination: &ast::Destination) -> String {
    match &destination.weight {
        Some(weight) => format!("{} {}", dest_ref(&destination.target), literal(weight)),
        None => dest_ref(&destination.target),
    }
}

fn canary_setting(setting: &ast::CanarySetting) -> String {
    use ast::CanarySetting::*;
    match setting {
        From(subset) => format!("from {}", subset.node),
        To(subset) => format!("to {}", subset.node),
        Steps(steps) => {
            let steps: Vec<String> = steps.iter().map(literal).collect();
            format!("steps {}", steps.join(", "))
        }
        ErrorRate(rate) => format!("check error rate below {}", literal(rate)),
        Latency(latency) => format!("check p99 latency below {}", literal(latency)),
        Interval(every) => format!("every {}", literal(every)),
        FailAfter(count) => format!("fail after {}", literal(count)),
        Beta(beta) => format!("beta {}", condition(beta)),
        MirrorFirst(percent) => format!("mirror {} first", literal(percent)),
        Prometheus(address) => format!("prometheus {}", quoted(&address.node)),
        Use(u) => use_clause(u),
    }
}

fn pool_setting(setting: &ast::Setting<ast::PoolKey>) -> String {
    use ast::PoolKey::*;
    let key = match setting.key {
        MaxConnections => "max connections",
        ConnectTimeout => "connect timeout",
        MaxPendingRequests => "max pending requests",
        MaxRequests => "max requests",
        MaxRequestsPerConnection => "max requests per connection",
        MaxRetries => "max retries",
        IdleTimeout => "idle timeout",
        H2Upgrade => "h2 upgrade",
    };
    format!("{key} {}", literal(&setting.value))
}

fn eject_setting(setting: &ast::Setting<ast::EjectKey>) -> String {
    use ast::EjectKey::*;
    let value = literal(&setting.value);
    match setting.key {
        Consecutive5xx => format!("after {value} consecutive 5xx"),
        ConsecutiveGatewayErrors => format!("after {value} consecutive gateway errors"),
        ConsecutiveErrors => format!("after {value} consecutive errors"),
        Interval => format!("check every {value}"),
        BaseEjectionTime => format!("for {value}"),
        MaxEjectionPercent => format!("at most {value}"),
        MinHealthPercent => format!("keep {value} healthy"),
    }
}

fn balance(balance: &ast::Balance) -> String {
    use ast::BalanceKind::*;
    let kind = match &balance.kind {
        RoundRobin => "round robin".to_string(),
        LeastRequest => "least request".to_string(),
        LeastConn => "least conn".to_string(),
        Random => "random".to_string(),
        Passthrough => "passthrough".to_string(),
        HashHeader(name) => format!("hash header {}", header(&name.node)),
        HashCookie { name, ttl, path } => {
            let mut out = format!("hash cookie {}", header(&name.node));
            for ttl in ttl {
                out.push_str(&format!(" ttl {}", literal(ttl)));
            }
            for path in path {
                out.push_str(&format!(" path {}", quoted(&path.node)));
            }
            out
        }
        HashSourceIp => "hash source ip".to_string(),
        HashQuery(name) => format!("hash query {}", header(&name.node)),
    };
    format!("balance {kind}")
}

/// A `pool`, `eject` or `balance` as a block item.
fn policy_item(item: &ast::PolicyItem) -> Line {
    match item {
        ast::PolicyItem::Pool(block) => (
            start(block.span),
            "pool".to_string(),
            Some(Nested::of(block, pool_setting)),
        ),
        ast::PolicyItem::Eject(block) => (
            start(block.span),
            "eject".to_string(),
            Some(Nested::of(block, eject_setting)),
        ),
        ast::PolicyItem::Balance(b) => (start(b.span), balance(b), None),
    }
}

fn service_item(item: &ast::ServiceItem) -> Line {
    use ast::ServiceItem::*;
    match item {
        Host(h) => (start(h.span), format!("host {}", host(&h.node)), None),
        Port(p) => (start(p.span), format!("port {}", literal(p)), None),
        Named { what, name } => (start(what.span), named(what.node, &name.node), None),
        Subset(subset) => {
            let labels: Vec<String> = subset
                .labels
                .iter()
                .map(|l| format!("{} = {}", l.key.node, label_value(&l.value.node)))
                .collect();
            let head = format!("subset {} ({})", subset.name.node, labels.join(", "));
            if subset.policy.is_empty() {
                return (start(subset.span), head, None);
            }
            // The subset's policy items, each a line of its own (nested blocks inline).
            let lines = subset.policy.iter().map(|item| {
                let (start, text, nested) = policy_item(item);
                (start, nested.map_or(text.clone(), |n| n.inline(&text)))
            });
            (
                start(subset.span),
                head,
                Some(Nested::flat(lines, subset.span)),
            )
        }
        Deploy(deploy) => {
            let lines = deploy
                .settings
                .iter()
                .map(|s| (start(s.span), deploy_setting(&s.node)));
            (
                start(deploy.span),
                format!("deploy {}", deploy.version.node),
                Some(Nested::flat(lines, deploy.span)),
            )
        }
        Policy(item) => policy_item(item),
        Use(u) => (start(u.span), use_clause(u), None),
        Extra(extra) => extra_block(extra),
    }
}

/// An `extra` block of a service or an ingress.
fn extra_block(extra: &ast::Extra) -> Line {
    let lines = extra.entries.iter().map(extra_entry).collect();
    (
        start(extra.span),
        format!("extra {}", extra.kind.node),
        Some(Nested {
            lines,
            span: extra.span,
        }),
    )
}

/// A line of an `extra` block: a setting, or a group with its settings.
fn extra_entry(entry: &ast::ExtraEntry) -> Line {
    match entry {
        ast::ExtraEntry::Set(set) => (start(set.span), extra_set(set), None),
        ast::ExtraEntry::Group { path, sets, span } => {
            let lines = sets.iter().map(|set| (start(set.span), extra_set(set)));
            (
                start(*span),
                extra_path(path),
                Some(Nested::flat(lines, *span)),
            )
        }
    }
}

fn extra_set(set: &ast::ExtraSet) -> String {
    let value = match &set.value {
        ast::ExtraValue::Literal(l) => literal(l),
        ast::ExtraValue::List(items, _) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        ast::ExtraValue::EmptyObject(_) => "{}".to_string(),
    };
    format!("{} = {value}", extra_path(&set.path))
}

/// `spec.http[0].corsPolicy`, `metadata.annotations["example.com/owner"]`.
pub(crate) fn extra_path(path: &ast::ExtraPath) -> String {
    let mut out = String::new();
    for segment in &path.segments {
        match &segment.node {
            ast::PathSegment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            ast::PathSegment::Quoted(key) => out.push_str(&format!("[{}]", quoted(key))),
            ast::PathSegment::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

fn label_value(value: &str) -> String {
    if bare(value, |c| ident(c) || c == '.') {
        value.to_string()
    } else {
        quoted(value)
    }
}

fn named(what: ast::NamedWhat, name: &str) -> String {
    let what = match what {
        ast::NamedWhat::Routes => "routes",
        ast::NamedWhat::Policy => "policy",
    };
    format!("{what} named {}", name_or_string(name))
}

fn ingress_item(item: &ast::IngressItem) -> Line {
    match item {
        ast::IngressItem::Gateway {
            name,
            namespace,
            section,
            span,
        } => {
            let mut out = format!("gateway {}", name.node);
            if let Some(namespace) = namespace {
                out.push_str(&format!(" in {}", namespace.node));
            }
            if let Some(section) = section {
                out.push_str(&format!(" section {}", section.node));
            }
            (start(*span), out, None)
        }
        ast::IngressItem::Hostname(h) => {
            (start(h.span), format!("hostname {}", host(&h.node)), None)
        }
        ast::IngressItem::Named { what, name } => {
            (start(what.span), named(what.node, &name.node), None)
        }
        ast::IngressItem::Extra(extra) => extra_block(extra),
    }
}

fn deploy_setting(setting: &ast::DeploySetting) -> String {
    use ast::DeploySetting::*;
    let amounts = |amounts: &[(Spanned<ast::Resource>, ast::Text)]| {
        let list: Vec<String> = amounts
            .iter()
            .map(|(kind, value)| {
                let kind = match kind.node {
                    ast::Resource::Cpu => "cpu",
                    ast::Resource::Memory => "memory",
                };
                format!("{kind} {}", quoted(&value.node))
            })
            .collect();
        list.join(" ")
    };
    match setting {
        Image(image) => format!("image {}", quoted(&image.node)),
        Replicas(n) => format!("replicas {}", literal(n)),
        Container(name) => format!("container {}", name.node),
        Port(p) => format!("port {}", literal(p)),
        Ready {
            path,
            port,
            after,
            every,
        } => {
            let mut out = format!("ready http {}", quoted(&path.node));
            for p in port {
                out.push_str(&format!(" port {}", literal(p)));
            }
            for a in after {
                out.push_str(&format!(" after {}", literal(a)));
            }
            for e in every {
                out.push_str(&format!(" every {}", literal(e)));
            }
            out
        }
        Requests(list) => format!("requests {}", amounts(list)),
        Limits(list) => format!("limits {}", amounts(list)),
        Env(name, value) => format!("env {} = {}", header(&name.node), quoted(&value.node)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(text: &str) -> String {
        format(0, text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn the_books_example_is_canonical() {
        let text = "namespace team1\n\n@allow(missing-circuit-breaker)\nservice research-agent { port 8080 }  // the research agent\n\nroute research-agent -> research-agent\n  timeout 30s  // LLM inference can be slow\n  retry 2 on 5xx\n";
        assert_eq!(formatted(text), text);
    }

    #[test]
    fn layout_is_normalised_and_comments_kept() {
        let text = "// head\n\n\n\nnamespace team1 // ns\nservice a {   port 8080\n  // inside\n}\nroute a   when  method GET or uri prefix \"/x\" -> a   timeout 5s // t\nroute a use p\n";
        assert_eq!(
            formatted(text),
            "// head\n\nnamespace team1  // ns\nservice a {\n  port 8080\n  // inside\n}\nroute a when method GET or uri prefix \"/x\" -> a timeout 5s  // t\nroute a use p()\n"
        );
        assert_eq!(formatted(""), "");
        assert_eq!(formatted("// only a comment"), "// only a comment\n");
    }

    #[test]
    fn awkward_comments_and_breaks_are_stable() {
        let cases = [
            // Two trailing comments that end up on one line: the second gets its own line.
            "namespace a\nroute a\n  -> v1 90%,  // stable\n     v2 10%   // canary\n",
            // A clause written over two lines is no reason for a blank line.
            "namespace a\nroute a -> b\n  retry 3\n    on 5xx\n  timeout 5s\n",
            // Alternatives too long for one line.
            &format!(
                "namespace a\nroute a when header x-{} = \"1\" or header x-{} = \"2\" -> b\n",
                "a".repeat(40),
                "b".repeat(40)
            ),
            // A comment in an empty block stays in it.
            "namespace a\nservice a {\n  // todo\n}\n",
            // The alignment marker in the text itself.
            "namespace a\nroute a request set x = \"a\u{1}b\"  // c\n",
        ];
        for text in cases {
            let once = formatted(text);
            assert_eq!(formatted(&once), once, "not idempotent:\n{once}");
            assert!(!once.contains("\n\n  "), "a blank line inside:\n{once}");
            let comments = |t: &str| t.matches("//").count();
            assert_eq!(comments(&once), comments(text), "{once}");
            let tree = crate::testing::tree_without_spans;
            assert_eq!(tree(&once), tree(text), "{once}");
        }
        assert!(formatted(cases[3]).contains("service a {\n  // todo\n}"));
        assert!(formatted(cases[4]).contains("\"a\u{1}b\"  // c"));
    }

    #[test]
    fn strings_keep_their_content() {
        for content in [
            "a\"b",
            "back\\slash",
            "\\d+",
            "tab\tand\nnewline",
            "end\\",
            "\\\n",
            "\\\t",
            "\\\"",
        ] {
            let text = quoted(content);
            assert_eq!(crate::syntax::lower::unescape(&text), content, "{text}");
        }
    }
}
