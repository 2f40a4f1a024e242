//! Modules and reusable policy, between parsing and checking.
//!
//! 1. `resolve` runs as each file is parsed: every `import` becomes a file of the
//!    [`SourceMap`] — a `std/NAME` module from the embedded standard library ([`crate::stdlib`]),
//!    another file through the caller's [`Loader`] (the library itself does no I/O) — or an
//!    error at the import (E0110). Paths are relative to the importing file and may not leave
//!    the project root: the library checks that on the text of the path, before asking the loader.
//! 2. `expand` replaces every `use` and every `defaults` block by the parts of the policies
//!    they name, with the arguments put in place of the parameters, so the checker sees plain
//!    services and routes. What a declaration writes itself always wins over what a policy
//!    brings; see `Kind` for what "the same setting" means.
//!
//! Every span a policy brings is moved to the `use` that applied it (except an argument, which
//! keeps its own span): a diagnostic about applied policy points at the line of the user's
//! program that applied it, not into the library.

use crate::hash::{HashMap, HashSet};

use crate::ast::{self, Clause, PolicyItem};
use crate::check::kind_name;
use crate::diagnostics::{did_you_mean, Code, Diagnostic};
use crate::source::{FileId, SourceMap, Span, Spanned};

/// Reads the files that `import` names. The CLI reads them from disk; tests may read from a map.
pub trait Loader {
    /// Reads the file at `path`: relative to the project root, `/`-separated, without `.` or
    /// `..` parts. Returns the file's name for diagnostics and its text, or why it cannot be read.
    fn load(&mut self, path: &str) -> Result<(String, String), String>;
}

/// A [`Loader`] that reads nothing: only the standard library and files already added to the
/// [`SourceMap`] can be imported.
pub struct NoFiles;

impl Loader for NoFiles {
    fn load(&mut self, _path: &str) -> Result<(String, String), String> {
        Err("no such file in this compilation".to_string())
    }
}

/// Where each import of each file led: (importing file, import index) → imported file.
#[derive(Debug, Default)]
pub(crate) struct Links {
    targets: HashMap<(FileId, usize), FileId>,
}

/// The [`SourceMap`] path of a standard-library module. `<` cannot start a relative path's
/// part that reaches the loader, so no file of a project can take this path.
fn std_path(name: &str) -> String {
    format!("<std>/{name}")
}

/// The path from the project root of `relative`, written in the file at path `from`; `Err` says
/// why the import is refused.
pub fn join(from: &str, relative: &str) -> Result<String, String> {
    if relative.starts_with('/') || relative.contains('\\') || relative.contains(':') {
        return Err(
            "an import is a path relative to the importing file, with `/` between names"
                .to_string(),
        );
    }
    if !relative.ends_with(".mesh") {
        return Err("an imported file's name ends in `.mesh`".to_string());
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("the path leaves the project root".to_string());
                }
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// The name an import is used by: its alias, or the file's or module's name.
fn alias(import: &ast::Import) -> (&str, Span) {
    match (&import.alias, &import.path) {
        (Some(alias), _) => (&alias.node, alias.span),
        (None, ast::ImportPath::Std(name)) => (&name.node, import.span),
        (None, ast::ImportPath::File(path)) => {
            let file = path.node.rsplit('/').next().unwrap_or(&path.node);
            (file.strip_suffix(".mesh").unwrap_or(file), import.span)
        }
    }
}

fn import_error(span: Span, message: String, label: &str, help: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::E0110, message, span, label, help)
}

/// Resolves the imports of one parsed file, adding the files they name to `sources`.
pub(crate) fn resolve(
    file: &ast::File,
    sources: &mut SourceMap,
    loader: &mut dyn Loader,
    links: &mut Links,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let from = file.span.file;
    for (index, import) in file.imports.iter().enumerate() {
        let target = match &import.path {
            ast::ImportPath::Std(name) => {
                let Some(text) = crate::stdlib::module(&name.node) else {
                    let names = crate::stdlib::MODULES.iter().map(|(n, _)| *n);
                    let list: Vec<String> = names.clone().map(|n| format!("`std/{n}`")).collect();
                    let help = match did_you_mean(&name.node, names) {
                        Some(near) => format!("did you mean `std/{near}`?"),
                        None => format!("the standard library has {}", list.join(", ")),
                    };
                    diagnostics.push(import_error(
                        name.span,
                        format!("there is no module `std/{}`", name.node),
                        "not in the standard library",
                        help,
                    ));
                    continue;
                };
                let path = std_path(&name.node);
                match sources.find(&path) {
                    Some(id) => id,
                    None => sources.add_module(format!("std/{}.mesh", name.node), path, text),
                }
            }
            ast::ImportPath::File(relative) => {
                let path = match join(sources.path(from), &relative.node) {
                    Ok(path) => path,
                    Err(reason) => {
                        diagnostics.push(import_error(
                            relative.span,
                            format!("cannot import `{}`: {reason}", relative.node),
                            "outside what can be imported",
                            "import `.mesh` files inside the project (the directory holding `mesh.toml`), by a path such as `./policies/common.mesh`",
                        ));
                        continue;
                    }
                };
                match sources.find(&path) {
                    Some(id) => id,
                    None => match loader.load(&path) {
                        Ok((name, text)) => sources.add_module(name, path, text),
                        Err(reason) => {
                            diagnostics.push(import_error(
                                relative.span,
                                format!("cannot import `{}`: {reason}", relative.node),
                                "cannot be read",
                                format!(
                                    "the path is relative to this file; it names `{path}` in the project"
                                ),
                            ));
                            continue;
                        }
                    },
                }
            }
        };
        links.targets.insert((from, index), target);
    }
}

/// What "the same setting" is when a policy brings one that a declaration may already have:
/// the declaration's own wins, and policies applied closer to it win over those further out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kind {
    Retry,
    Timeout,
    BackendTimeout,
    FaultDelay,
    FaultAbort,
    /// A header operation: its direction, operation and header names.
    Header(ast::HeaderDir, &'static str, Vec<String>),
    Pool,
    Eject,
    Balance,
    /// A canary setting, by its keywords.
    Canary(&'static str),
    /// Anything a policy cannot bring (mirrors, rewrites, redirects).
    Other,
}

fn clause_kind(clause: &Clause) -> Kind {
    match clause {
        Clause::Retry(_) => Kind::Retry,
        Clause::Timeout(_) => Kind::Timeout,
        Clause::BackendTimeout(_) => Kind::BackendTimeout,
        Clause::FaultDelay { .. } => Kind::FaultDelay,
        Clause::FaultAbort { .. } => Kind::FaultAbort,
        Clause::Headers { dir, op } => {
            let (op, names) = match op {
                ast::HeaderOp::Set(name, _) => ("set", vec![name.node.to_ascii_lowercase()]),
                ast::HeaderOp::Add(name, _) => ("add", vec![name.node.to_ascii_lowercase()]),
                ast::HeaderOp::Remove(names) => (
                    "remove",
                    names.iter().map(|n| n.node.to_ascii_lowercase()).collect(),
                ),
            };
            Kind::Header(dir.node, op, names)
        }
        Clause::Mirror { .. } | Clause::Rewrite { .. } | Clause::Redirect(_) | Clause::Use(_) => {
            Kind::Other
        }
    }
}

fn canary_kind(setting: &ast::CanarySetting) -> Kind {
    use ast::CanarySetting as S;
    Kind::Canary(match setting {
        S::Steps(_) => "steps",
        S::ErrorRate(_) => "check error rate",
        S::Latency(_) => "check p99 latency",
        S::Interval(_) => "every",
        S::FailAfter(_) => "fail after",
        S::Beta(_) => "beta",
        S::MirrorFirst(_) => "mirror first",
        S::Prometheus(_) => "prometheus",
        S::From(_) | S::To(_) | S::Use(_) => return Kind::Other,
    })
}

/// The keyword a misplaced part starts with, for E0311.
fn part_keyword(part: &Part) -> &'static str {
    match part {
        Part::Item(PolicyItem::Pool(_)) => "pool",
        Part::Item(PolicyItem::Eject(_)) => "eject",
        Part::Item(PolicyItem::Balance(_)) => "balance",
        Part::Clause(clause) => match &clause.node {
            Clause::Retry(_) => "retry",
            Clause::Timeout(_) => "timeout",
            Clause::BackendTimeout(_) => "backend timeout",
            Clause::FaultDelay { .. } | Clause::FaultAbort { .. } => "fault",
            Clause::Headers { dir, .. } => match dir.node {
                ast::HeaderDir::Request => "request",
                ast::HeaderDir::Response => "response",
            },
            _ => "a route clause",
        },
        Part::Canary(setting) => match canary_kind(&setting.node) {
            Kind::Canary(keywords) => keywords,
            _ => "a canary setting",
        },
    }
}

fn part_kind(part: &Part) -> Kind {
    match part {
        Part::Item(item) => item_kind(item),
        Part::Clause(clause) => clause_kind(&clause.node),
        Part::Canary(setting) => canary_kind(&setting.node),
    }
}

fn item_kind(item: &PolicyItem) -> Kind {
    match item {
        PolicyItem::Pool(_) => Kind::Pool,
        PolicyItem::Eject(_) => Kind::Eject,
        PolicyItem::Balance(_) => Kind::Balance,
    }
}

/// What a policy brings, once applied.
#[derive(Debug, Clone)]
enum Part {
    Item(PolicyItem),
    Clause(Spanned<Clause>),
    Canary(Spanned<ast::CanarySetting>),
}

impl Part {
    /// A part of a body as written; `None` for a `use`.
    fn of(part: &ast::PolicyPart) -> Option<Part> {
        Some(match part {
            ast::PolicyPart::Use(_) => return None,
            ast::PolicyPart::Policy(item) => Part::Item(item.clone()),
            ast::PolicyPart::Clause(clause) => Part::Clause(clause.clone()),
            ast::PolicyPart::Canary(setting) => Part::Canary(setting.clone()),
        })
    }

    /// Where the part starts: its keyword for a block, else the whole part.
    fn span(&self) -> Span {
        match self {
            Part::Item(PolicyItem::Pool(block)) => block.keyword,
            Part::Item(PolicyItem::Eject(block)) => block.keyword,
            Part::Item(PolicyItem::Balance(balance)) => balance.span,
            Part::Clause(clause) => clause.span,
            Part::Canary(setting) => setting.span,
        }
    }
}

/// The types a parameter can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParamType {
    Duration,
    Percent,
    Count,
    Number,
    String,
    Word,
}

const PARAM_TYPES: &[(&str, ParamType)] = &[
    ("duration", ParamType::Duration),
    ("percent", ParamType::Percent),
    ("count", ParamType::Count),
    ("number", ParamType::Number),
    ("string", ParamType::String),
    ("word", ParamType::Word),
];

impl ParamType {
    fn parse(name: &str) -> Option<ParamType> {
        PARAM_TYPES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, ty)| *ty)
    }

    fn accepts(self, kind: ast::LiteralKind) -> bool {
        use ast::LiteralKind as K;
        matches!(
            (self, kind),
            (ParamType::Duration, K::Duration)
                | (ParamType::Percent, K::Percent)
                | (ParamType::Count, K::Int)
                | (ParamType::Number, K::Int | K::Float)
                | (ParamType::String, K::String)
                | (ParamType::Word, K::Word)
        )
    }

    fn describe(self) -> &'static str {
        match self {
            ParamType::Duration => "a duration such as `15s`",
            ParamType::Percent => "a percentage such as `10%`",
            ParamType::Count => "a whole number such as `3`",
            ParamType::Number => "a number such as `2.5`",
            ParamType::String => "text in double quotes",
            ParamType::Word => "a word such as `on`",
        }
    }
}

/// Argument values by parameter name.
type Bindings = HashMap<String, ast::Literal>;

/// How the parts of an applied policy are rewritten: parameters replaced, spans moved.
struct Subst<'b> {
    bindings: &'b Bindings,
    site: Span,
}

impl Subst<'_> {
    fn literal(&self, literal: &mut ast::Literal) {
        if literal.kind == ast::LiteralKind::Word {
            if let Some(value) = self.bindings.get(&literal.text) {
                *literal = value.clone();
                return;
            }
        }
        literal.span = self.site;
    }

    fn literals<'l>(&self, literals: impl IntoIterator<Item = &'l mut ast::Literal>) {
        literals.into_iter().for_each(|l| self.literal(l));
    }

    /// A name that may be a parameter when written bare (a header or cookie name).
    fn name(&self, text: &mut ast::Text) {
        let bare = (text.span.end - text.span.start) as usize == text.node.len();
        if let Some(value) = self.bindings.get(&text.node).filter(|_| bare) {
            text.node = value.text.clone();
            text.span = value.span;
        } else {
            text.span = self.site;
        }
    }

    fn text(&self, text: &mut ast::Text) {
        text.span = self.site;
    }

    fn clause(&self, clause: &mut Clause) {
        match clause {
            Clause::Retry(retry) => {
                self.literal(&mut retry.attempts);
                self.literals(&mut retry.per_try);
                self.literals(&mut retry.remote_localities);
                retry.on.iter_mut().for_each(|t| self.text(t));
                retry
                    .idempotent_only
                    .iter_mut()
                    .for_each(|s| *s = self.site);
            }
            Clause::Timeout(value) | Clause::BackendTimeout(value) => self.literal(value),
            Clause::FaultDelay { delay, percent } => self.literals([delay, percent]),
            Clause::FaultAbort { status, percent } => {
                match status {
                    ast::AbortStatus::Http(code) => self.literal(code),
                    ast::AbortStatus::Grpc(name) => self.text(name),
                }
                self.literal(percent);
            }
            Clause::Headers { dir, op } => {
                dir.span = self.site;
                match op {
                    ast::HeaderOp::Set(name, value) | ast::HeaderOp::Add(name, value) => {
                        self.text(name);
                        self.text(value);
                    }
                    ast::HeaderOp::Remove(names) => names.iter_mut().for_each(|t| self.text(t)),
                }
            }
            // Never in an applied policy (E0311 at the declaration).
            Clause::Mirror { .. }
            | Clause::Rewrite { .. }
            | Clause::Redirect(_)
            | Clause::Use(_) => {}
        }
    }

    fn item(&self, item: &mut PolicyItem) {
        match item {
            PolicyItem::Pool(block) => self.block(block),
            PolicyItem::Eject(block) => self.block(block),
            PolicyItem::Balance(balance) => {
                balance.span = self.site;
                match &mut balance.kind {
                    ast::BalanceKind::HashHeader(name) | ast::BalanceKind::HashQuery(name) => {
                        self.name(name)
                    }
                    ast::BalanceKind::HashCookie { name, ttl, path } => {
                        self.name(name);
                        self.literals(ttl);
                        path.iter_mut().for_each(|t| self.text(t));
                    }
                    _ => {}
                }
            }
        }
    }

    fn canary(&self, setting: &mut ast::CanarySetting) {
        use ast::CanarySetting as S;
        match setting {
            S::Steps(steps) => self.literals(steps),
            S::ErrorRate(value)
            | S::Latency(value)
            | S::Interval(value)
            | S::FailAfter(value)
            | S::MirrorFirst(value) => self.literal(value),
            S::Beta(condition) => {
                if let ast::Condition::Header { name, matcher } = condition {
                    self.text(name);
                    self.text(&mut matcher.value);
                }
            }
            S::Prometheus(url) => self.text(url),
            // Never in an applied policy (E0311 at the declaration).
            S::From(_) | S::To(_) | S::Use(_) => {}
        }
    }

    fn block<K>(&self, block: &mut ast::Block<K>) {
        block.keyword = self.site;
        block.span = self.site;
        for setting in &mut block.settings {
            setting.span = self.site;
            self.literal(&mut setting.value);
        }
    }
}

/// How many policies may apply one another in a chain (a `use` inside a policy applied by a
/// `use` ...). Expansion recurses once per level, so the limit also bounds its stack; real
/// chains are a few levels deep (a team policy built on the standard library).
pub const MAX_NESTING: usize = 16;

/// The names a file can use: its imports' aliases and its own policies.
#[derive(Default)]
struct Scope {
    /// Alias → (import index, imported file).
    aliases: HashMap<String, (usize, FileId)>,
    /// Policy name → index into the file's policies.
    policies: HashMap<String, usize>,
    /// Aliases of imports that could not be resolved (already reported).
    broken: HashSet<String>,
}

struct Expander<'a> {
    files: HashMap<FileId, &'a ast::File>,
    scopes: HashMap<FileId, Scope>,
    /// The policies being applied, innermost last.
    stack: Vec<(FileId, usize)>,
    diagnostics: Vec<Diagnostic>,
}

/// Replaces every `use` and `defaults` of `files` by what the policies bring, reporting what is
/// wrong with imports, policies and arguments.
///
/// The files' items are taken out and mended in place (policies are read from the files while
/// their items change), so the AST is never copied.
pub(crate) fn expand(
    files: Vec<ast::File>,
    links: &Links,
    sources: &SourceMap,
    default_namespace: Option<&str>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<ast::File> {
    // Most large programs use no policy: then there is nothing to do.
    if files.iter().all(nothing_to_expand) {
        return files;
    }
    expand_all(files, links, sources, default_namespace, diagnostics)
}

/// Whether a file leaves [`expand`] nothing to do: it imports nothing and declares and uses no
/// policy or `defaults`.
fn nothing_to_expand(file: &ast::File) -> bool {
    file.imports.is_empty()
        && file.policies.is_empty()
        && file.defaults.is_empty()
        && !file.items.iter().any(uses_a_policy)
}

/// [`expand`] without its shortcut.
fn expand_all(
    mut files: Vec<ast::File>,
    links: &Links,
    sources: &SourceMap,
    default_namespace: Option<&str>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<ast::File> {
    // Counted from the `use`s as written, before expansion removes them.
    let unused = unused_imports(&files, links);
    let mut items: Vec<Vec<ast::Item>> = files
        .iter_mut()
        .map(|file| std::mem::take(&mut file.items))
        .collect();
    let mut expander = Expander {
        files: files.iter().map(|f| (f.span.file, f)).collect(),
        scopes: HashMap::default(),
        stack: Vec::new(),
        diagnostics: Vec::new(),
    };
    for file in &files {
        let scope = expander.declare(file, links);
        expander.scopes.insert(file.span.file, scope);
    }
    expander.cycles(&files, links, sources);

    // Namespace of each file, and what each namespace's `defaults` bring.
    let namespace = |file: &ast::File| {
        file.namespaces
            .first()
            .map(|n| n.node.clone())
            .or_else(|| default_namespace.map(str::to_string))
    };
    let mut defaults: HashMap<String, (Span, Vec<Part>)> = HashMap::default();
    for file in &files {
        let Some(ns) = namespace(file) else { continue };
        for block in &file.defaults {
            if let Some((first, _)) = defaults.get(&ns) {
                expander.diagnostics.push(
                    Diagnostic::new(
                        Code::E0103,
                        format!("namespace `{ns}` has two `defaults` blocks"),
                        block.keyword,
                        "second `defaults`",
                        "keep one `defaults` block per namespace",
                    )
                    .with_secondary(*first, "first `defaults` here"),
                );
                continue;
            }
            let parts = expander.parts(file.span.file, &block.body);
            defaults.insert(ns.clone(), (block.keyword, parts));
        }
    }
    let no_defaults = Vec::new();
    let defaults_of = |ns: &Option<String>| {
        ns.as_ref()
            .and_then(|ns| defaults.get(ns))
            .map_or(&no_defaults, |(_, parts)| parts)
    };

    // Services: their policy items, and the route clauses their policies give their routes.
    let mut service_routes: HashMap<(Option<String>, String), Vec<Spanned<Clause>>> =
        HashMap::default();
    for (file, file_items) in files.iter().zip(&mut items) {
        let ns = namespace(file);
        let id = file.span.file;
        for item in file_items {
            match item {
                ast::Item::Service(service) => {
                    let clauses = expander.service(id, service, defaults_of(&ns));
                    service_routes.insert((ns.clone(), service.name.node.clone()), clauses);
                }
                ast::Item::Canary(canary) => expander.canary(id, canary, defaults_of(&ns)),
                _ => {}
            }
        }
    }
    for (file, file_items) in files.iter().zip(&mut items) {
        let ns = namespace(file);
        let id = file.span.file;
        for item in file_items {
            if let ast::Item::Route(route) = item {
                let key = (ns.clone(), route.service.node.clone());
                let inherited = service_routes
                    .get(&key)
                    .map(|clauses| (clauses.as_slice(), defaults_of(&ns).as_slice()));
                expander.route(id, route, inherited);
            }
        }
    }
    let mut found = expander.diagnostics;
    found.extend(unused);
    // A mistake inside a policy is found each time the policy is applied: report it once.
    let mut seen = HashSet::default();
    found.retain(|d| seen.insert((d.code, d.primary.span, d.message.clone())));
    diagnostics.append(&mut found);
    for (file, file_items) in files.iter_mut().zip(items) {
        file.items = file_items;
    }
    files
}

impl<'a> Expander<'a> {
    /// Applies `uses` (written in `file`) to a declaration that already sets the `written`
    /// kinds: what it sets itself wins; two `use`s that bring the same setting are an error
    /// (E0304) at the second. Each part comes with the index of the `use` that brought it.
    fn merge(
        &mut self,
        file: FileId,
        uses: &[&ast::Use],
        written: &HashSet<Kind>,
        outer: &Bindings,
        site: Option<Span>,
    ) -> Vec<(usize, Part)> {
        let mut brought_by: HashMap<Kind, usize> = HashMap::default();
        let mut out = Vec::new();
        for (index, using) in uses.iter().enumerate() {
            let mut reported = HashSet::default();
            for part in self.apply(file, using, outer, site.unwrap_or(using.span)) {
                let kind = part_kind(&part);
                if written.contains(&kind) {
                    continue;
                }
                match brought_by.get(&kind) {
                    Some(&first) if first != index => {
                        if reported.insert(kind) {
                            let what = part_keyword(&part);
                            let first = uses[first];
                            self.diagnostics.push(
                                Diagnostic::new(
                                    Code::E0304,
                                    format!(
                                        "`{what}` is set by both `{}` and `{}`",
                                        using_name(first),
                                        using_name(using)
                                    ),
                                    using.span,
                                    format!("also sets `{what}`"),
                                    format!("set `{what}` here yourself (that overrides both policies), or apply only one of them"),
                                )
                                .with_secondary(first.span, format!("sets `{what}` first")),
                            );
                        }
                    }
                    _ => {
                        brought_by.insert(kind, index);
                        out.push((index, part));
                    }
                }
            }
        }
        out
    }

    /// Applies a service's `use`s and its namespace's defaults; returns the route clauses its
    /// policies give its routes.
    fn service(
        &mut self,
        file: FileId,
        service: &mut ast::Service,
        defaults: &[Part],
    ) -> Vec<Spanned<Clause>> {
        let (uses, mut items) = take_uses(&mut service.items, |item| match item {
            ast::ServiceItem::Use(using) => Split::Use(using),
            other => Split::Keep(other),
        });
        let uses: Vec<&ast::Use> = uses.iter().collect();
        let mut present: HashSet<Kind> = items
            .iter()
            .filter_map(|i| match i {
                ast::ServiceItem::Policy(p) => Some(item_kind(p)),
                _ => None,
            })
            .collect();
        let mut clauses = Vec::new();
        let mut misplaced = HashSet::default();
        for (index, part) in self.merge(file, &uses, &present, &Bindings::default(), None) {
            match part {
                Part::Item(p) => items.push(ast::ServiceItem::Policy(p)),
                Part::Clause(c) => clauses.push(c),
                part @ Part::Canary(_) => {
                    if misplaced.insert(index) {
                        self.misplaced(uses[index], &part, "a service", &service.name.node);
                    }
                }
            }
        }
        present.extend(items.iter().filter_map(|i| match i {
            ast::ServiceItem::Policy(p) => Some(item_kind(p)),
            _ => None,
        }));
        for part in defaults {
            if let Part::Item(p) = part {
                if !present.contains(&item_kind(p)) {
                    items.push(ast::ServiceItem::Policy(p.clone()));
                }
            }
        }
        service.items = items;
        clauses
    }

    /// Applies a canary's `use`s and its namespace's defaults.
    fn canary(&mut self, file: FileId, canary: &mut ast::Canary, defaults: &[Part]) {
        let (uses, mut settings) = take_uses(&mut canary.settings, |setting| match setting.node {
            ast::CanarySetting::Use(using) => Split::Use(using),
            node => Split::Keep(Spanned { node, ..setting }),
        });
        let uses: Vec<&ast::Use> = uses.iter().collect();
        let kinds = |settings: &[Spanned<ast::CanarySetting>]| -> HashSet<Kind> {
            settings.iter().map(|s| canary_kind(&s.node)).collect()
        };
        let written = kinds(&settings);
        let mut misplaced = HashSet::default();
        for (index, part) in self.merge(file, &uses, &written, &Bindings::default(), None) {
            match part {
                Part::Canary(s) => settings.push(s),
                part => {
                    if misplaced.insert(index) {
                        self.misplaced(uses[index], &part, "a canary", &canary.service.node);
                    }
                }
            }
        }
        let present = kinds(&settings);
        for part in defaults {
            if let Part::Canary(s) = part {
                if !present.contains(&canary_kind(&s.node)) {
                    settings.push(s.clone());
                }
            }
        }
        canary.settings = settings;
    }

    /// Applies a route's `use`s, then (for a route of a declared service, unless it redirects)
    /// the route clauses of its service's policies and of its namespace's defaults.
    fn route(
        &mut self,
        file: FileId,
        route: &mut ast::Route,
        inherited: Option<(&[Spanned<Clause>], &[Part])>,
    ) {
        let (uses, mut clauses) = take_uses(&mut route.clauses, |clause| match clause.node {
            Clause::Use(using) => Split::Use(using),
            node => Split::Keep(Spanned { node, ..clause }),
        });
        let uses: Vec<&ast::Use> = uses.iter().collect();
        let kinds = |clauses: &[Spanned<Clause>]| -> HashSet<Kind> {
            clauses.iter().map(|c| clause_kind(&c.node)).collect()
        };
        let written = kinds(&clauses);
        let mut misplaced = HashSet::default();
        for (index, part) in self.merge(file, &uses, &written, &Bindings::default(), None) {
            match part {
                Part::Clause(c) => clauses.push(c),
                part => {
                    if misplaced.insert(index) {
                        self.misplaced(uses[index], &part, "a route", &route.service.node);
                    }
                }
            }
        }
        let redirects = clauses
            .iter()
            .any(|c| matches!(c.node, Clause::Redirect(_)));
        if let (false, Some((service, defaults))) = (redirects, inherited) {
            let present = kinds(&clauses);
            clauses.extend(
                service
                    .iter()
                    .filter(|c| !present.contains(&clause_kind(&c.node)))
                    .cloned(),
            );
            let present = kinds(&clauses);
            for part in defaults {
                if let Part::Clause(c) = part {
                    if !present.contains(&clause_kind(&c.node)) {
                        clauses.push(c.clone());
                    }
                }
            }
        }
        route.clauses = clauses;
    }

    /// A file's scope, reporting names declared twice and policies' declaration mistakes.
    fn declare(&mut self, file: &'a ast::File, links: &Links) -> Scope {
        let mut scope = Scope::default();
        let mut alias_spans: HashMap<String, Span> = HashMap::default();
        for (index, import) in file.imports.iter().enumerate() {
            let Some(&target) = links.targets.get(&(file.span.file, index)) else {
                scope.broken.insert(alias(import).0.to_string());
                continue;
            };
            let (alias, span) = alias(import);
            if let Some(&first) = alias_spans.get(alias) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0103,
                        format!("two imports are named `{alias}`"),
                        span,
                        "second import with this name",
                        "give one of them another name with `as NAME`",
                    )
                    .with_secondary(first, "first import with this name"),
                );
                continue;
            }
            alias_spans.insert(alias.to_string(), span);
            scope.aliases.insert(alias.to_string(), (index, target));
        }
        for (index, policy) in file.policies.iter().enumerate() {
            if let Some(&first) = scope.policies.get(&policy.name.node) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0103,
                        format!("policy `{}` is defined twice", policy.name.node),
                        policy.name.span,
                        "second definition",
                        "give each policy of a file a distinct name",
                    )
                    .with_secondary(file.policies[first].name.span, "first definition"),
                );
                continue;
            }
            scope.policies.insert(policy.name.node.clone(), index);
            self.check_params(policy);
            self.check_body(&policy.body, "a policy");
        }
        for block in &file.defaults {
            self.check_body(&block.body, "`defaults`");
        }
        scope
    }

    fn check_params(&mut self, policy: &ast::Policy) {
        let mut seen: HashMap<&str, Span> = HashMap::default();
        for param in &policy.params {
            if let Some(&first) = seen.get(param.name.node.as_str()) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0310,
                        format!("parameter `{}` is declared twice", param.name.node),
                        param.name.span,
                        "second parameter with this name",
                        "give each parameter a distinct name",
                    )
                    .with_secondary(first, "first declared here"),
                );
            }
            seen.insert(&param.name.node, param.name.span);
            let Some(ty) = ParamType::parse(&param.ty.node) else {
                let names = PARAM_TYPES.iter().map(|(n, _)| *n);
                let list: Vec<String> = names.clone().map(|n| format!("`{n}`")).collect();
                let help = match did_you_mean(&param.ty.node, names) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("a parameter's type is one of {}", list.join(", ")),
                };
                self.diagnostics.push(Diagnostic::new(
                    Code::E0310,
                    format!("unknown parameter type `{}`", param.ty.node),
                    param.ty.span,
                    "not a type",
                    help,
                ));
                continue;
            };
            if let Some(default) = param.default.as_ref().filter(|d| !ty.accepts(d.kind)) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0310,
                        format!(
                            "the default of `{}` is {}, not {}",
                            param.name.node,
                            kind_name(default.kind),
                            ty.describe()
                        ),
                        default.span,
                        format!("expected {}", ty.describe()),
                        "make the default a value of the parameter's type, or change the type",
                    )
                    .with_secondary(param.ty.span, "the parameter's type"),
                );
            }
        }
    }

    /// E0311 for the clauses a policy or `defaults` cannot hold.
    fn check_body(&mut self, body: &[ast::PolicyPart], what: &str) {
        let mut first: HashMap<Kind, Span> = HashMap::default();
        for part in body {
            let Some(part) = Part::of(part) else {
                continue;
            };
            let (kind, span, keyword) = (part_kind(&part), part.span(), part_keyword(&part));
            if kind == Kind::Other {
                continue;
            }
            match first.get(&kind) {
                Some(&earlier) => self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0304,
                        format!("`{keyword}` is given twice in {what}"),
                        span,
                        "given again here",
                        "keep one of the two",
                    )
                    .with_secondary(earlier, "first given here"),
                ),
                None => {
                    first.insert(kind, span);
                }
            }
        }
        for part in body {
            let (name, span, owner) = match part {
                ast::PolicyPart::Clause(clause) => match clause.node {
                    Clause::Mirror { .. } => ("mirror", clause.span, "route"),
                    Clause::Rewrite { .. } => ("rewrite", clause.span, "route"),
                    Clause::Redirect(_) => ("redirect", clause.span, "route"),
                    _ => continue,
                },
                ast::PolicyPart::Canary(setting) => match setting.node {
                    ast::CanarySetting::From(_) => ("from", setting.span, "canary"),
                    ast::CanarySetting::To(_) => ("to", setting.span, "canary"),
                    _ => continue,
                },
                _ => continue,
            };
            self.diagnostics.push(Diagnostic::new(
                Code::E0311,
                format!("`{name}` cannot be part of {what}"),
                span,
                format!("belongs to one {owner}"),
                format!(
                    "`{name}` names paths, destinations or subsets of one {owner}: write it on that {owner}"
                ),
            ));
        }
    }

    /// E0110 for every import that closes a cycle.
    fn cycles(&mut self, files: &[ast::File], links: &Links, sources: &SourceMap) {
        let mut edges: HashMap<FileId, Vec<(usize, FileId)>> = HashMap::default();
        let mut keys: Vec<_> = links.targets.iter().collect();
        keys.sort();
        for (&(from, index), &to) in keys {
            edges.entry(from).or_default().push((index, to));
        }
        let mut done = HashSet::default();
        for file in files {
            self.visit(file.span.file, &edges, &mut done, sources);
        }
    }

    /// Depth first from `start`, without recursion: an import chain may be thousands of files
    /// long. `path` holds the files being visited, each with the index of its next import.
    fn visit(
        &mut self,
        start: FileId,
        edges: &HashMap<FileId, Vec<(usize, FileId)>>,
        done: &mut HashSet<FileId>,
        sources: &SourceMap,
    ) {
        if done.contains(&start) {
            return;
        }
        let imports_of = |node: FileId| edges.get(&node).map_or(&[][..], Vec::as_slice);
        let mut path: Vec<(FileId, usize)> = vec![(start, 0)];
        let mut on_path: HashMap<FileId, usize> = HashMap::from_iter([(start, 0)]);
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            let Some(&(index, to)) = imports_of(node).get(*next) else {
                path.pop();
                on_path.remove(&node);
                done.insert(node);
                continue;
            };
            *next += 1;
            if let Some(&first) = on_path.get(&to) {
                let mut names: Vec<&str> = path[first..]
                    .iter()
                    .map(|&(n, _)| sources.name(n))
                    .collect();
                names.push(sources.name(to));
                // A cycle through thousands of files names its first and last few.
                let cycle = if names.len() > 9 {
                    let (head, tail) = (&names[..4], &names[names.len() - 4..]);
                    format!(
                        "{} → … {} more … → {}",
                        head.join(" → "),
                        names.len() - 8,
                        tail.join(" → ")
                    )
                } else {
                    names.join(" → ")
                };
                let import = &self.files[&node].imports[index];
                self.diagnostics.push(import_error(
                    import.span,
                    format!("import cycle: {cycle}"),
                    "this import closes the cycle",
                    "move what both files need into a third file that imports neither",
                ));
            } else if !done.contains(&to) {
                on_path.insert(to, path.len());
                path.push((to, 0));
            }
        }
    }

    /// What a `defaults` body brings: its own parts as written, and its `use`s applied.
    fn parts(&mut self, file: FileId, body: &[ast::PolicyPart]) -> Vec<Part> {
        let (mut parts, uses) = direct_parts(body);
        let written = parts.iter().map(part_kind).collect();
        let applied = self.merge(file, &uses, &written, &Bindings::default(), None);
        parts.extend(applied.into_iter().map(|(_, part)| part));
        parts
    }

    /// E0311: a `use` whose policy brings a part that `target` (of the service `service`)
    /// cannot take.
    fn misplaced(&mut self, using: &ast::Use, part: &Part, target: &str, service: &str) {
        let help = match part {
            Part::Canary(_) => format!(
                "canary settings belong to a canary: apply the policy inside `canary {service} {{ ... }}`"
            ),
            Part::Item(_) => format!(
                "connection pools, ejection and load balancing belong to a service: apply the policy inside `service {service} {{ ... }}`"
            ),
            Part::Clause(_) => format!(
                "route clauses belong to routes and services: apply the policy to `route {service}` or inside `service {service} {{ ... }}`"
            ),
        };
        self.diagnostics.push(Diagnostic::new(
            Code::E0311,
            format!(
                "policy `{}` sets `{}`, which {target} cannot take",
                using_name(using),
                part_keyword(part)
            ),
            using.span,
            format!("applied to {target}"),
            help,
        ));
    }

    /// The policy a `use` in `file` names: (declaring file, index), or E0111.
    fn find(&mut self, file: FileId, using: &ast::Use) -> Option<(FileId, usize)> {
        let scope = &self.scopes[&file];
        let (target, module) = match &using.module {
            None => (file, None),
            Some(module) => match scope.aliases.get(&module.node) {
                Some(&(_, target)) => (target, Some(module)),
                None if scope.broken.contains(&module.node) => return None,
                None => {
                    let near = did_you_mean(&module.node, scope.aliases.keys().map(String::as_str));
                    let help = match near {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!(
                            "import it first: `import std/{0}` or `import \"./{0}.mesh\"`",
                            module.node
                        ),
                    };
                    self.diagnostics.push(Diagnostic::new(
                        Code::E0111,
                        format!("no module named `{}` is imported here", module.node),
                        module.span,
                        "unknown module",
                        help,
                    ));
                    return None;
                }
            },
        };
        // A file whose parse failed has no scope: its policies are unknown, not missing.
        let policies = &self.scopes.get(&target)?.policies;
        if let Some(&index) = policies.get(&using.name.node) {
            return Some((target, index));
        }
        let near = did_you_mean(&using.name.node, policies.keys().map(String::as_str));
        let mut names: Vec<&str> = policies.keys().map(String::as_str).collect();
        names.sort_unstable();
        let help = match (near, module) {
            (Some(near), _) => format!("did you mean `{near}`?"),
            (None, Some(module)) if !names.is_empty() => {
                format!("`{}` has: {}", module.node, names.join(", "))
            }
            (None, _) => "declare it with `policy NAME { ... }`, or import the module that has it"
                .to_string(),
        };
        self.diagnostics.push(Diagnostic::new(
            Code::E0111,
            match module {
                Some(module) => format!("`{}` has no policy `{}`", module.node, using.name.node),
                None => format!("there is no policy `{}` in this file", using.name.node),
            },
            using.name.span,
            "unknown policy",
            help,
        ));
        None
    }

    /// Applies a `use` written in `file`: the parts of the policy it names, with `outer` (the
    /// arguments of the policy the `use` is written in) in place of parameters, moved to `site`.
    fn apply(&mut self, file: FileId, using: &ast::Use, outer: &Bindings, site: Span) -> Vec<Part> {
        let Some((target, index)) = self.find(file, using) else {
            return Vec::new();
        };
        let policy: &'a ast::Policy = &self.files[&target].policies[index];
        if self.stack.contains(&(target, index)) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0311,
                    format!("policy `{}` applies itself", policy.name.node),
                    using.span,
                    "leads back to a policy being applied",
                    "a policy cannot `use` itself, directly or through others: remove this `use`",
                )
                .with_secondary(policy.name.span, "the policy"),
            );
            return Vec::new();
        }
        if self.stack.len() >= MAX_NESTING {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0312,
                    format!(
                        "policy `{}` is nested more than {MAX_NESTING} policies deep",
                        policy.name.node
                    ),
                    using.span,
                    format!("applied by a chain of {MAX_NESTING} policies"),
                    "let fewer policies build on one another: apply some of them side by side, or write their settings out",
                )
                .with_secondary(policy.name.span, "the policy"),
            );
            return Vec::new();
        }
        let Some(bindings) = self.bind(policy, using, outer, site) else {
            return Vec::new();
        };
        let subst = Subst {
            bindings: &bindings,
            site,
        };
        self.stack.push((target, index));
        let (mut parts, uses) = direct_parts(&policy.body);
        for part in &mut parts {
            match part {
                Part::Item(item) => subst.item(item),
                Part::Clause(clause) => {
                    subst.clause(&mut clause.node);
                    clause.span = site;
                }
                Part::Canary(setting) => {
                    subst.canary(&mut setting.node);
                    setting.span = site;
                }
            }
        }
        let written = parts.iter().map(part_kind).collect();
        let applied = self.merge(target, &uses, &written, &bindings, Some(site));
        parts.extend(applied.into_iter().map(|(_, part)| part));
        self.stack.pop();
        parts
    }

    /// Matches a `use`'s arguments to the policy's parameters (E0310 for every mismatch).
    fn bind(
        &mut self,
        policy: &ast::Policy,
        using: &ast::Use,
        outer: &Bindings,
        site: Span,
    ) -> Option<Bindings> {
        let params = &policy.params;
        let mut values: Vec<Option<ast::Literal>> = vec![None; params.len()];
        let mut ok = true;
        let mut named = false;
        let declared = |d: Diagnostic| d.with_secondary(policy.name.span, "the policy");
        for (position, arg) in using.args.iter().enumerate() {
            let mut value = arg.value.clone();
            if value.kind == ast::LiteralKind::Word {
                if let Some(bound) = outer.get(&value.text) {
                    value = bound.clone();
                }
            }
            let slot = match &arg.name {
                Some(name) => {
                    named = true;
                    match params.iter().position(|p| p.name.node == name.node) {
                        Some(slot) => slot,
                        None => {
                            let near = did_you_mean(
                                &name.node,
                                params.iter().map(|p| p.name.node.as_str()),
                            );
                            let names: Vec<String> = params
                                .iter()
                                .map(|p| format!("`{}`", p.name.node))
                                .collect();
                            let help = match (near, names.is_empty()) {
                                (Some(near), _) => format!("did you mean `{near}`?"),
                                (None, true) => {
                                    format!("`{}` takes no arguments", policy.name.node)
                                }
                                (None, false) => {
                                    format!("`{}` takes {}", policy.name.node, names.join(", "))
                                }
                            };
                            self.diagnostics.push(declared(Diagnostic::new(
                                Code::E0310,
                                format!(
                                    "policy `{}` has no parameter `{}`",
                                    policy.name.node, name.node
                                ),
                                name.span,
                                "unknown parameter",
                                help,
                            )));
                            ok = false;
                            continue;
                        }
                    }
                }
                None if named => {
                    self.diagnostics.push(Diagnostic::new(
                        Code::E0310,
                        "an argument without a name follows a named one",
                        arg.span,
                        "positional argument",
                        "write the positional arguments first, or name this one: `NAME = VALUE`",
                    ));
                    ok = false;
                    continue;
                }
                None if position >= params.len() => {
                    self.diagnostics.push(declared(Diagnostic::new(
                        Code::E0310,
                        format!(
                            "policy `{}` takes {} argument{}, but this is argument {}",
                            policy.name.node,
                            params.len(),
                            if params.len() == 1 { "" } else { "s" },
                            position + 1
                        ),
                        arg.span,
                        "one argument too many",
                        "remove the extra arguments",
                    )));
                    ok = false;
                    continue;
                }
                None => position,
            };
            let param = &params[slot];
            if values[slot].is_some() {
                self.diagnostics.push(Diagnostic::new(
                    Code::E0310,
                    format!("argument `{}` is given twice", param.name.node),
                    arg.span,
                    "given again",
                    "give each argument once",
                ));
                ok = false;
                continue;
            }
            if let Some(ty) = ParamType::parse(&param.ty.node) {
                if !ty.accepts(value.kind) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0310,
                            format!(
                                "`{}` expects {}, found {}",
                                param.name.node,
                                ty.describe(),
                                kind_name(value.kind)
                            ),
                            value.span,
                            format!("expected {}", ty.describe()),
                            format!("pass {} for `{}`", ty.describe(), param.name.node),
                        )
                        .with_secondary(param.span, "parameter declared here"),
                    );
                    ok = false;
                    continue;
                }
            }
            values[slot] = Some(value);
        }
        for (param, value) in params.iter().zip(&mut values) {
            if value.is_some() {
                continue;
            }
            match &param.default {
                Some(default) => {
                    let mut default = default.clone();
                    default.span = site;
                    *value = Some(default);
                }
                None => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0310,
                            format!(
                                "policy `{}` needs an argument for `{}`",
                                policy.name.node, param.name.node
                            ),
                            using.span,
                            format!("no `{}` given", param.name.node),
                            format!(
                                "pass it: `use {}({} = ...)`",
                                using_name(using),
                                param.name.node
                            ),
                        )
                        .with_secondary(param.span, "declared here without a default"),
                    );
                    ok = false;
                }
            }
        }
        ok.then(|| {
            params
                .iter()
                .zip(values)
                .filter_map(|(p, v)| Some((p.name.node.clone(), v?)))
                .collect()
        })
    }
}

/// Takes a declaration's items apart: its `use`s, and everything else in order.
fn take_uses<T>(items: &mut Vec<T>, split: impl Fn(T) -> Split<T>) -> (Vec<ast::Use>, Vec<T>) {
    let mut uses = Vec::new();
    let mut rest = Vec::with_capacity(items.len());
    for item in std::mem::take(items) {
        match split(item) {
            Split::Use(using) => uses.push(using),
            Split::Keep(item) => rest.push(item),
        }
    }
    (uses, rest)
}

/// An item of a declaration, told apart by [`take_uses`].
enum Split<T> {
    Use(ast::Use),
    Keep(T),
}

/// The parts a policy or `defaults` body writes itself (the first of each kind: a second one is
/// reported at the declaration), and its `use`s.
fn direct_parts(body: &[ast::PolicyPart]) -> (Vec<Part>, Vec<&ast::Use>) {
    let mut parts = Vec::new();
    let mut kinds = HashSet::default();
    let mut uses = Vec::new();
    for part in body {
        let Some(part) = Part::of(part) else {
            if let ast::PolicyPart::Use(using) = part {
                uses.push(using);
            }
            continue;
        };
        let kind = part_kind(&part);
        if kind != Kind::Other && kinds.insert(kind) {
            parts.push(part);
        }
    }
    (parts, uses)
}

/// Whether a declaration applies a policy with `use`.
fn uses_a_policy(item: &ast::Item) -> bool {
    match item {
        ast::Item::Service(service) => service
            .items
            .iter()
            .any(|item| matches!(item, ast::ServiceItem::Use(_))),
        ast::Item::Route(route) => route
            .clauses
            .iter()
            .any(|clause| matches!(clause.node, Clause::Use(_))),
        ast::Item::Canary(canary) => canary
            .settings
            .iter()
            .any(|setting| matches!(setting.node, ast::CanarySetting::Use(_))),
        ast::Item::Ingress(_) => false,
    }
}

/// W0111 for every import that no `use` of its file names (applied or not: a module's policies
/// use imports that only their users apply).
fn unused_imports(files: &[ast::File], links: &Links) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for file in files {
        let named = named_modules(file);
        for (index, import) in file.imports.iter().enumerate() {
            let id = file.span.file;
            let (alias, _) = alias(import);
            if links.targets.contains_key(&(id, index)) && !named.contains(alias) {
                found.push(Diagnostic::new(
                    Code::W0111,
                    format!("`{alias}` is imported but never used"),
                    import.span,
                    "unused import",
                    "remove the import, or apply one of its policies with `use`",
                ));
            }
        }
    }
    found
}

/// The modules that the `use`s of a file name.
fn named_modules(file: &ast::File) -> HashSet<&str> {
    let mut uses: Vec<&ast::Use> = Vec::new();
    let bodies = file
        .policies
        .iter()
        .map(|p| &p.body)
        .chain(file.defaults.iter().map(|d| &d.body));
    for body in bodies {
        uses.extend(body.iter().filter_map(|part| match part {
            ast::PolicyPart::Use(using) => Some(using),
            _ => None,
        }));
    }
    for item in &file.items {
        match item {
            ast::Item::Service(service) => {
                uses.extend(service.items.iter().filter_map(|i| match i {
                    ast::ServiceItem::Use(using) => Some(using),
                    _ => None,
                }))
            }
            ast::Item::Route(route) => {
                uses.extend(route.clauses.iter().filter_map(|c| match &c.node {
                    Clause::Use(using) => Some(using),
                    _ => None,
                }))
            }
            ast::Item::Canary(canary) => {
                uses.extend(canary.settings.iter().filter_map(|s| match &s.node {
                    ast::CanarySetting::Use(using) => Some(using),
                    _ => None,
                }))
            }
            ast::Item::Ingress(_) => {}
        }
    }
    uses.iter()
        .filter_map(|u| u.module.as_ref().map(|m| m.node.as_str()))
        .collect()
}

/// `module.name` or `name`, as written.
fn using_name(using: &ast::Use) -> String {
    match &using.module {
        Some(module) => format!("{}.{}", module.node, using.name.node),
        None => using.name.node.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::{expand, expand_all, join, nothing_to_expand, Links};

    #[test]
    fn the_shortcut_gives_what_expansion_gives() {
        // Every example that uses no policy: the full expansion changes nothing and reports
        // nothing, as the shortcut assumes.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed");
        let mut compared = 0;
        for entry in std::fs::read_dir(&root).expect("examples/seed") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|ext| ext != "mesh") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let mut sources = crate::SourceMap::new();
            let id = sources.add(path.display().to_string(), text.as_str());
            let file = crate::syntax::parse(id, &text).expect("parses");
            if !nothing_to_expand(&file) {
                continue;
            }
            let (mut quick, mut full) = (Vec::new(), Vec::new());
            let links = Links::default();
            let expanded = expand(vec![file.clone()], &links, &sources, None, &mut quick);
            let all = expand_all(vec![file], &links, &sources, None, &mut full);
            assert!(expanded == all, "{}", path.display());
            assert!(
                quick.is_empty() && full.is_empty(),
                "{}: {full:?}",
                path.display()
            );
            compared += 1;
        }
        assert!(compared >= 20, "only {compared} examples compared");
    }

    #[test]
    fn join_stays_inside_the_root() {
        assert_eq!(
            join("main.mesh", "./lib/a.mesh").as_deref(),
            Ok("lib/a.mesh")
        );
        assert_eq!(
            join("apps/main.mesh", "../lib/a.mesh").as_deref(),
            Ok("lib/a.mesh")
        );
        assert_eq!(
            join("apps/x/main.mesh", "./../../a.mesh").as_deref(),
            Ok("a.mesh")
        );
        assert!(join("main.mesh", "../a.mesh").is_err());
        assert!(join("apps/main.mesh", "../../a.mesh").is_err());
        assert!(join("main.mesh", "/etc/a.mesh").is_err());
        assert!(join("main.mesh", "C:/a.mesh").is_err());
        assert!(join("main.mesh", "./a.yaml").is_err());
    }
}
