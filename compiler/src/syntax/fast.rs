//! The fast parser: a hand-written recursive-descent parser that builds the AST straight from the
//! text, with no tree in between. It is an optimisation of `pest` + `lower.rs`, which stay the
//! normative grammar and the only producer of syntax errors.
//!
//! **Contract:** [`parse`] returns `Some(ast)` only if pest + lower would return `Ok` of an
//! identical AST (every span included); for anything else (a syntax error, or a case it does not
//! handle) it returns `None`, and `syntax::parse` runs pest, which gives the AST or the error.
//! So this parser need only be *sound*; being complete (accepting every valid file) is what makes
//! it fast. `tests/parser.rs` checks both on every `.mesh` file of the repository and on
//! thousands of mutations of them.
//!
//! It is written as the grammar reads: a method per rule (small rules such as a pool setting are
//! written inline in their parent's), with the rule quoted above it, and
//! PEG's meaning. An ordered choice tries its alternatives in order (a `match` on the keyword the
//! alternatives start with, where that decides; `attempt` where two share a first keyword), `?`
//! and `*` try their part and undo it on failure (`attempt`, `many`, `comma_rest`), and a
//! repetition never backtracks into what it matched. Spans run from a node's first token to its
//! last one (`Cursor::span_from`), which is what `Lowerer::span` makes of pest's pairs.
//!
//! It allocates nothing but the AST, and each of the AST's `Vec`s once, at its final size
//! ([`List`]): for large inputs, allocating and touching the AST's memory is most of the cost.
//!
//! No method recurses (the grammar has no recursive rule), so the stack depth does not depend on
//! the input; nothing indexes or unwraps user data (see `lex.rs`), so no input panics.

use super::lex::Cursor;
use super::lower;
use crate::ast::{self, Clause, PolicyPart};
use crate::source::{FileId, Span, Spanned};

/// Parses a whole file, or returns `None` if pest must (see the module documentation).
pub(super) fn parse(file: FileId, text: &str) -> Option<ast::File> {
    parse_from(Cursor::new(file, text), whole(file, text)?)
}

/// Like [`parse`], on two threads: the second parses from `split` (which should be where a
/// top-level declaration starts) to the end, while the first parses from the start and checks
/// that a declaration does start at `split`, with no `@allow` waiting for it. Then the two
/// halves are one file's items, joined in order; otherwise the first thread parses the rest of
/// the file itself and the second's work is dropped. Either way the result is [`parse`]'s.
pub(super) fn parse_split(file: FileId, text: &str, split: usize) -> Option<ast::File> {
    let span = whole(file, text)?;
    std::thread::scope(|scope| {
        let second = scope.spawn(|| parse_from(Cursor::at(file, text, split), span));
        let mut out = lower::empty_file(span);
        let mut c = Cursor::new(file, text);
        let mut items = Items::default();
        let stopped = items.parse(&mut c, &mut out, Some(split))?;
        if !stopped {
            items.finish(&c, text)?;
            return Some(out);
        }
        let rest = second
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        // Every field, so that a new one cannot be left out.
        let ast::File {
            namespaces,
            items,
            allows,
            imports,
            policies,
            defaults,
            span: _,
        } = rest;
        out.namespaces.extend(namespaces);
        out.items.extend(items);
        out.allows.extend(allows);
        out.imports.extend(imports);
        out.policies.extend(policies);
        out.defaults.extend(defaults);
        Some(out)
    })
}

/// The declarations from the cursor to the end of the text, as a file spanning `span`.
fn parse_from(mut c: Cursor, span: Span) -> Option<ast::File> {
    let mut out = lower::empty_file(span);
    let mut items = Items::default();
    items.parse(&mut c, &mut out, None)?;
    items.finish(&c, c.text)?;
    Some(out)
}

/// Where [`parse_split`] may split a large file: the first line after the middle that starts a
/// `service` or `route` declaration after a blank line (LF or CRLF line ends). `None` when
/// there is none.
pub(super) fn split_point(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = text.len() / 2;
    while at < bytes.len() {
        let line = bytes[at..].iter().position(|&b| b == b'\n')? + at + 1;
        let blank = bytes.get(line..)?;
        let next = match blank {
            [b'\n', ..] => line + 1,
            [b'\r', b'\n', ..] => line + 2,
            _ => {
                at = line;
                continue;
            }
        };
        let rest = &text[next..];
        if rest.starts_with("service ") || rest.starts_with("route ") {
            return Some(next);
        }
        at = line;
    }
    None
}

/// The span of a whole file; `None` for files of 4 GiB or more, whose offsets do not fit.
fn whole(file: FileId, text: &str) -> Option<Span> {
    Some(Span {
        file,
        start: 0,
        end: u32::try_from(text.len()).ok()?,
    })
}

/// The state of the top-level loop.
#[derive(Default)]
struct Items {
    /// `@allow` attributes waiting for the declaration they apply to: `allows[pending..]`.
    pending: usize,
    /// Whether the last item may end with an absent optional part (see [`Items::finish`]).
    open_end: bool,
}

impl Items {
    /// Parses top-level declarations into `out` up to the end of the text, or up to `stop` if a
    /// declaration starts there with no `@allow` waiting for it: then returns `true`.
    fn parse(
        &mut self,
        c: &mut Cursor,
        out: &mut ast::File,
        mut stop: Option<usize>,
    ) -> Option<bool> {
        // file = { SOI ~ item* ~ EOI }: the items are told apart by their first keyword, so an
        // item that fails to parse is a syntax error.
        while !c.at_end() {
            if let Some(at) = stop {
                let here = c.start() as usize;
                if here == at && self.pending == out.allows.len() {
                    return Some(true);
                }
                if here >= at {
                    stop = None;
                }
            }
            if c.peek_is(b'@') {
                let allow = c.allow_attr()?;
                out.allows.push(allow);
                self.open_end = false;
                continue;
            }
            let word = c.peek_word();
            self.open_end = matches!(word, "import" | "route");
            let pending = &mut self.pending;
            match word {
                "import" => {
                    let import = c.import_decl()?;
                    lower::attach_allows(&mut out.allows, pending, None);
                    out.imports.push(import);
                }
                "namespace" => {
                    c.kw("namespace")?;
                    let name = c.name()?;
                    lower::attach_allows(&mut out.allows, pending, None);
                    out.namespaces.push(name);
                }
                "policy" => {
                    let policy = c.policy_decl()?;
                    lower::attach_allows(&mut out.allows, pending, None);
                    out.policies.push(policy);
                }
                "defaults" => {
                    let defaults = c.defaults_decl()?;
                    lower::attach_allows(&mut out.allows, pending, Some(defaults.span));
                    out.defaults.push(defaults);
                }
                "service" => {
                    let service = c.service_decl()?;
                    lower::attach_allows(&mut out.allows, pending, Some(service.span));
                    out.items.push(ast::Item::Service(service));
                }
                "ingress" => {
                    let ingress = c.ingress_decl()?;
                    lower::attach_allows(&mut out.allows, pending, Some(ingress.span));
                    out.items.push(ast::Item::Ingress(ingress));
                }
                "canary" => {
                    let canary = c.canary_decl()?;
                    lower::attach_allows(&mut out.allows, pending, Some(canary.span));
                    out.items.push(ast::Item::Canary(canary));
                }
                "route" => {
                    let route = c.route_decl()?;
                    lower::attach_allows(&mut out.allows, pending, Some(route.span));
                    out.items.push(ast::Item::Route(route));
                }
                _ => return None,
            }
        }
        Some(false)
    }

    /// `None` where pest's spans differ at the end of the file. pest's pair of a node that
    /// ends with an absent optional part (`route a -> v1` before `route_clause*`) also holds
    /// the whitespace and comments after it. `Lowerer::span` trims them when they end with
    /// whitespace, which they do unless they run to the end of a file that ends with a comment
    /// and no newline; then the spans of the last item and of some of its parts include that
    /// comment. Only routes and imports end with optional parts at their own level (every other
    /// item ends with `}`, `)` or a name, and whatever ends inside it is followed by that
    /// token), so for them pest decides.
    fn finish(&self, c: &Cursor, text: &str) -> Option<()> {
        if self.open_end && c.last < text.len() && !text.ends_with(char::is_whitespace) {
            return None;
        }
        Some(())
    }
}

/// A list being parsed. Its first elements wait on the stack, so that its `Vec` is allocated once
/// at its final size: most lists hold one or two elements, for which `Vec::push` would reserve
/// four, and the AST's memory is much of the parse's cost.
struct List<T> {
    head: [Option<T>; 4],
    len: usize,
    tail: Vec<T>,
}

impl<T> List<T> {
    fn new() -> List<T> {
        List {
            head: [None, None, None, None],
            len: 0,
            tail: Vec::new(),
        }
    }

    fn push(&mut self, item: T) {
        match self.head.get_mut(self.len) {
            Some(slot) => *slot = Some(item),
            None => self.tail.push(item),
        }
        self.len += 1;
    }

    /// The elements (by `&mut self`, so that the head is not moved as a whole).
    fn finish(&mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        for slot in &mut self.head {
            match slot.take() {
                Some(item) => out.push(item),
                None => break,
            }
        }
        out.append(&mut self.tail);
        out
    }
}

impl Cursor<'_> {
    /// Runs `rule`, undoing what it consumed if it fails: `rule?` and one alternative of a
    /// choice.
    fn attempt<T>(&mut self, rule: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let mark = self.mark();
        let result = rule(self);
        if result.is_none() {
            self.reset(mark);
        }
        result
    }

    /// `rule*`, appended to `out`.
    fn repeat<T>(&mut self, out: &mut List<T>, mut rule: impl FnMut(&mut Self) -> Option<T>) {
        while let Some(item) = self.attempt(&mut rule) {
            out.push(item);
        }
    }

    /// `rule*`.
    fn many<T>(&mut self, rule: impl FnMut(&mut Self) -> Option<T>) -> Vec<T> {
        let mut out = List::new();
        self.repeat(&mut out, rule);
        out.finish()
    }

    /// `first ~ rest*`, where `first` is parsed.
    fn many_after<T>(&mut self, first: T, rest: impl FnMut(&mut Self) -> Option<T>) -> Vec<T> {
        let mut out = List::new();
        out.push(first);
        self.repeat(&mut out, rest);
        out.finish()
    }

    /// `(comma ~ rule)*`, appended to `out`.
    fn comma_rest<T>(&mut self, out: &mut List<T>, mut rule: impl FnMut(&mut Self) -> Option<T>) {
        self.repeat(out, |c| {
            c.punct(b',')?;
            rule(c)
        });
    }

    /// `rule ~ (comma ~ rule)*`.
    fn comma_list<T>(&mut self, mut rule: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut out = List::new();
        out.push(rule(self)?);
        self.comma_rest(&mut out, rule);
        Some(out.finish())
    }

    /// `comma?`.
    fn trailing_comma(&mut self) {
        self.attempt(|c| c.punct(b','));
    }

    /// `rule ~ (comma ~ rule)* ~ comma?`, in parentheses (the `?` around it when `optional`).
    fn paren_list<T>(
        &mut self,
        optional: bool,
        mut rule: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        self.punct(b'(')?;
        let mut out = List::new();
        match self.attempt(&mut rule) {
            Some(first) => {
                out.push(first);
                self.comma_rest(&mut out, rule);
                self.trailing_comma();
            }
            None if optional => {}
            None => return None,
        }
        self.punct(b')')?;
        Some(out.finish())
    }

    /// `keywords ~ literal`: a setting's keywords and its value.
    fn setting(&mut self, keywords: &[&str]) -> Option<ast::Literal> {
        self.kws(keywords)?;
        self.literal()
    }

    /// `{ rule* }`.
    fn braced<T>(&mut self, rule: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.punct(b'{')?;
        let items = self.many(rule);
        self.punct(b'}')?;
        Some(items)
    }

    // -----------------------------------------------------------------------------------------
    // Modules and reusable policy

    /// `import_decl = { kw_import ~ (string | std_module) ~ (kw_as ~ name)? }`.
    fn import_decl(&mut self) -> Option<ast::Import> {
        let start = self.kw("import")?.start;
        let path = match self.string() {
            Some(file) => ast::ImportPath::File(file),
            None => ast::ImportPath::Std(self.std_module()?),
        };
        let alias = self.attempt(|c| {
            c.kw("as")?;
            c.name()
        });
        Some(ast::Import {
            path,
            alias,
            span: self.span_from(start),
        })
    }

    /// `policy_decl = { kw_policy ~ name ~ param_list? ~ lbrace ~ policy_part* ~ rbrace }`.
    fn policy_decl(&mut self) -> Option<ast::Policy> {
        let start = self.kw("policy")?.start;
        let name = self.name()?;
        let params = self
            .attempt(|c| c.paren_list(true, Self::param))
            .unwrap_or_default();
        let body = self.braced(Self::policy_part)?;
        Some(ast::Policy {
            name,
            params,
            body,
            doc: lower::doc_before(self.text, start as usize),
            span: self.span_from(start),
        })
    }

    /// `param = { name ~ colon ~ name ~ (eq ~ literal)? }`.
    fn param(&mut self) -> Option<ast::Param> {
        let name = self.name()?;
        self.punct(b':')?;
        let ty = self.name()?;
        let default = self.attempt(|c| {
            c.punct(b'=')?;
            c.literal()
        });
        Some(ast::Param {
            span: self.span_from(name.span.start),
            name,
            ty,
            default,
        })
    }

    /// `policy_part = _{ use_clause | pool | eject | balance | route_clause | canary_setting }`.
    fn policy_part(&mut self) -> Option<PolicyPart> {
        match self.peek_word() {
            "use" => Some(PolicyPart::Use(self.use_clause()?)),
            "pool" | "eject" | "balance" => Some(PolicyPart::Policy(self.policy_item()?)),
            // `mirror v2 10%` (a route clause) or `mirror 10% first` (a canary setting).
            "mirror" => match self.attempt(Self::route_clause) {
                Some(clause) => Some(PolicyPart::Clause(clause)),
                None => Some(PolicyPart::Canary(self.canary_setting()?)),
            },
            "retry" | "timeout" | "backend" | "fault" | "rewrite" | "redirect" | "request"
            | "response" => Some(PolicyPart::Clause(self.route_clause()?)),
            _ => Some(PolicyPart::Canary(self.canary_setting()?)),
        }
    }

    /// `defaults_decl = { kw_defaults ~ lbrace ~ policy_part* ~ rbrace }`.
    fn defaults_decl(&mut self) -> Option<ast::Defaults> {
        let keyword = self.kw("defaults")?;
        let body = self.braced(Self::policy_part)?;
        Some(ast::Defaults {
            body,
            keyword,
            span: self.span_from(keyword.start),
        })
    }

    /// `use_clause = { kw_use ~ policy_ref ~ arg_list? }`.
    fn use_clause(&mut self) -> Option<ast::Use> {
        let start = self.kw("use")?.start;
        let (module, name) = self.policy_ref()?;
        let args = self
            .attempt(|c| c.paren_list(true, Self::arg))
            .unwrap_or_default();
        Some(ast::Use {
            module,
            name,
            args,
            span: self.span_from(start),
        })
    }

    /// `arg = { (name ~ eq)? ~ literal }`.
    fn arg(&mut self) -> Option<ast::Arg> {
        let start = self.start();
        let name = self.attempt(|c| {
            let name = c.name()?;
            c.punct(b'=')?;
            Some(name)
        });
        let value = self.literal()?;
        Some(ast::Arg {
            name,
            value,
            span: self.span_from(start),
        })
    }

    /// `canary_decl = { kw_canary ~ name ~ lbrace ~ canary_setting* ~ rbrace }`.
    fn canary_decl(&mut self) -> Option<ast::Canary> {
        let start = self.kw("canary")?.start;
        let service = self.name()?;
        let settings = self.braced(Self::canary_setting)?;
        Some(ast::Canary {
            service,
            settings,
            span: self.span_from(start),
        })
    }

    /// `canary_setting = _{ use_clause | canary_from | canary_to | canary_steps | canary_check |
    /// canary_interval | canary_fail | canary_beta | canary_mirror | canary_prometheus }`.
    fn canary_setting(&mut self) -> Option<Spanned<ast::CanarySetting>> {
        use ast::CanarySetting as S;
        let start = self.start();
        let node = match self.peek_word() {
            "use" => S::Use(self.use_clause()?),
            "from" => {
                self.kw("from")?;
                S::From(self.name()?)
            }
            "to" => {
                self.kw("to")?;
                S::To(self.name()?)
            }
            "steps" => {
                self.kw("steps")?;
                S::Steps(self.comma_list(Self::literal)?)
            }
            "check" => {
                self.kw("check")?;
                match self.peek_word() {
                    "error" => S::ErrorRate(self.setting(&["error", "rate", "below"])?),
                    _ => S::Latency(self.setting(&["p99", "latency", "below"])?),
                }
            }
            "every" => S::Interval(self.setting(&["every"])?),
            "fail" => S::FailAfter(self.setting(&["fail", "after"])?),
            "beta" => {
                self.kw("beta")?;
                self.kw("header")?;
                let name = self.header_name()?;
                let matcher = self.string_match()?;
                S::Beta(ast::Condition::Header { name, matcher })
            }
            "mirror" => {
                let percent = self.setting(&["mirror"])?;
                self.kw("first")?;
                S::MirrorFirst(percent)
            }
            "prometheus" => {
                self.kw("prometheus")?;
                S::Prometheus(self.string()?)
            }
            _ => return None,
        };
        Some(Spanned {
            node,
            span: self.span_from(start),
        })
    }

    /// `allow_attr = { at ~ kw_allow ~ lparen ~ lint_name ~ (comma ~ lint_name)* ~ comma? ~
    /// rparen }`.
    fn allow_attr(&mut self) -> Option<ast::Allow> {
        let start = self.punct(b'@')?.start;
        self.kw("allow")?;
        let lints = self.paren_list(false, Self::lint_name)?;
        Some(ast::Allow {
            lints,
            span: self.span_from(start),
            target: None,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Services

    /// `service_decl = { kw_service ~ name ~ lbrace ~ service_item* ~ rbrace }`.
    fn service_decl(&mut self) -> Option<ast::Service> {
        let start = self.kw("service")?.start;
        let name = self.name()?;
        let items = self.braced(Self::service_item)?;
        Some(ast::Service {
            name,
            items,
            span: self.span_from(start),
        })
    }

    /// `service_item = _{ use_clause | host_decl | port_decl | named_decl | subset_decl |
    /// deploy_decl | extra_decl | pool | eject | balance }`.
    fn service_item(&mut self) -> Option<ast::ServiceItem> {
        use ast::ServiceItem as I;
        Some(match self.peek_word() {
            "use" => I::Use(self.use_clause()?),
            "host" => {
                self.kw("host")?;
                I::Host(self.string_or_hostname()?)
            }
            "port" => I::Port(self.setting(&["port"])?),
            "routes" | "policy" => {
                let (what, name) = self.named_decl()?;
                I::Named { what, name }
            }
            "subset" => I::Subset(self.subset_decl()?),
            "deploy" => I::Deploy(self.deploy_decl()?),
            "extra" => I::Extra(self.extra_decl()?),
            _ => I::Policy(self.policy_item()?),
        })
    }

    /// `extra_decl = { kw_extra ~ name ~ lbrace ~ extra_entry* ~ rbrace }`.
    fn extra_decl(&mut self) -> Option<ast::Extra> {
        let start = self.kw("extra")?.start;
        let kind = self.name()?;
        let entries = self.braced(|c| {
            // `extra_entry = _{ extra_group | extra_set }`: both start with a path.
            match c.attempt(Self::extra_group) {
                Some(group) => Some(group),
                None => c.extra_set().map(ast::ExtraEntry::Set),
            }
        })?;
        Some(ast::Extra {
            kind,
            entries,
            span: self.span_from(start),
        })
    }

    /// `extra_group = { extra_path ~ lbrace ~ extra_set* ~ rbrace }`.
    fn extra_group(&mut self) -> Option<ast::ExtraEntry> {
        let start = self.start();
        let path = self.extra_path()?;
        let sets = self.braced(Self::extra_set)?;
        Some(ast::ExtraEntry::Group {
            path,
            sets,
            span: self.span_from(start),
        })
    }

    /// `extra_set = { extra_path ~ eq ~ (extra_list | extra_object | literal) }`, with
    /// `extra_list = { lbracket ~ (literal ~ (comma ~ literal)* ~ comma?)? ~ rbracket }` and
    /// `extra_object = { lbrace ~ rbrace }`.
    fn extra_set(&mut self) -> Option<ast::ExtraSet> {
        let start = self.start();
        let path = self.extra_path()?;
        self.punct(b'=')?;
        let value = if let Some(open) = self.punct(b'[') {
            let mut items = List::new();
            if let Some(first) = self.attempt(Self::literal) {
                items.push(first);
                self.comma_rest(&mut items, Self::literal);
                self.trailing_comma();
            }
            let close = self.punct(b']')?;
            ast::ExtraValue::List(items.finish(), open.to(close))
        } else if let Some(open) = self.punct(b'{') {
            let close = self.punct(b'}')?;
            ast::ExtraValue::EmptyObject(open.to(close))
        } else {
            ast::ExtraValue::Literal(self.literal()?)
        };
        Some(ast::ExtraSet {
            path,
            value,
            span: self.span_from(start),
        })
    }

    /// `deploy_decl = { kw_deploy ~ name ~ lbrace ~ deploy_setting* ~ rbrace }`.
    fn deploy_decl(&mut self) -> Option<ast::Deploy> {
        let start = self.kw("deploy")?.start;
        let version = self.name()?;
        let settings = self.braced(Self::deploy_setting)?;
        Some(ast::Deploy {
            version,
            settings,
            span: self.span_from(start),
        })
    }

    /// `deploy_setting = _{ deploy_image | deploy_replicas | deploy_container | deploy_port |
    /// deploy_ready | deploy_requests | deploy_limits | deploy_env }`.
    fn deploy_setting(&mut self) -> Option<Spanned<ast::DeploySetting>> {
        use ast::DeploySetting as S;
        let start = self.start();
        let node = match self.peek_word() {
            "image" => {
                self.kw("image")?;
                S::Image(self.string()?)
            }
            "replicas" => S::Replicas(self.setting(&["replicas"])?),
            "container" => {
                self.kw("container")?;
                S::Container(self.name()?)
            }
            "port" => S::Port(self.setting(&["port"])?),
            "ready" => {
                self.kws(&["ready", "http"])?;
                let path = self.string()?;
                let (mut port, mut after, mut every) = (List::new(), List::new(), List::new());
                // (ready_port | ready_after | ready_every)*
                loop {
                    let list = match self.peek_word() {
                        "port" => &mut port,
                        "after" => &mut after,
                        "every" => &mut every,
                        _ => break,
                    };
                    let keyword = self.peek_word();
                    match self.attempt(|c| c.setting(&[keyword])) {
                        Some(value) => list.push(value),
                        None => break,
                    }
                }
                S::Ready {
                    path,
                    port: port.finish(),
                    after: after.finish(),
                    every: every.finish(),
                }
            }
            keyword @ ("requests" | "limits") => {
                self.kw(keyword)?;
                // resource_amount+
                let first = self.resource_amount()?;
                let amounts = self.many_after(first, Self::resource_amount);
                if keyword == "requests" {
                    S::Requests(amounts)
                } else {
                    S::Limits(amounts)
                }
            }
            "env" => {
                self.kw("env")?;
                let name = self.header_name()?;
                self.punct(b'=')?;
                S::Env(name, self.string()?)
            }
            _ => return None,
        };
        Some(Spanned {
            node,
            span: self.span_from(start),
        })
    }

    /// `resource_amount = { resource_kind ~ string }`, `resource_kind = { kw_cpu | kw_memory }`.
    fn resource_amount(&mut self) -> Option<(Spanned<ast::Resource>, ast::Text)> {
        let node = match self.peek_word() {
            "cpu" => ast::Resource::Cpu,
            "memory" => ast::Resource::Memory,
            _ => return None,
        };
        let keyword = self.peek_word();
        let span = self.kw(keyword)?;
        Some((Spanned { node, span }, self.string()?))
    }

    /// `named_decl = { named_what ~ kw_named ~ (string | name) }`.
    fn named_decl(&mut self) -> Option<(Spanned<ast::NamedWhat>, ast::Text)> {
        let node = match self.peek_word() {
            "routes" => ast::NamedWhat::Routes,
            "policy" => ast::NamedWhat::Policy,
            _ => return None,
        };
        let keyword = self.peek_word();
        let span = self.kw(keyword)?;
        self.kw("named")?;
        Some((Spanned { node, span }, self.string_or_name()?))
    }

    /// `subset_decl = { kw_subset ~ name ~ label_set ~ subset_body? }`.
    fn subset_decl(&mut self) -> Option<ast::Subset> {
        let start = self.kw("subset")?.start;
        let name = self.name()?;
        // label_set = { lparen ~ label ~ (comma ~ label)* ~ comma? ~ rparen }
        let labels = self.paren_list(false, |c| {
            let key = c.label_key()?;
            c.punct(b'=')?;
            let value = c.header_name()?;
            Some(ast::Label { key, value })
        })?;
        // subset_body = { lbrace ~ (pool | eject | balance)* ~ rbrace }
        let policy = self
            .attempt(|c| c.braced(Self::policy_item))
            .unwrap_or_default();
        Some(ast::Subset {
            name,
            labels,
            policy,
            span: self.span_from(start),
        })
    }

    /// `pool | eject | balance`.
    fn policy_item(&mut self) -> Option<ast::PolicyItem> {
        match self.peek_word() {
            "pool" => Some(ast::PolicyItem::Pool(self.pool()?)),
            "eject" => Some(ast::PolicyItem::Eject(self.eject()?)),
            "balance" => Some(ast::PolicyItem::Balance(self.balance()?)),
            _ => None,
        }
    }

    /// A settings block: `kw ~ lbrace ~ setting* ~ rbrace`.
    fn block<K>(
        &mut self,
        keyword: &str,
        setting: impl FnMut(&mut Self) -> Option<ast::Setting<K>>,
    ) -> Option<ast::Block<K>> {
        let keyword = self.kw(keyword)?;
        let settings = self.braced(setting)?;
        Some(ast::Block {
            settings,
            keyword,
            span: self.span_from(keyword.start),
        })
    }

    /// `pool = { kw_pool ~ lbrace ~ pool_setting* ~ rbrace }`.
    fn pool(&mut self) -> Option<ast::Block<ast::PoolKey>> {
        use ast::PoolKey as K;
        // pool_setting = _{ max_requests_per_connection | max_pending_requests | max_requests |
        // max_connections | max_retries | connect_timeout | idle_timeout | h2_upgrade }, each
        // its keywords and a literal.
        self.block("pool", |c| {
            let start = c.start();
            let key = match c.peek_word() {
                "max" => {
                    c.kw("max")?;
                    match c.peek_word() {
                        "requests" => {
                            c.kw("requests")?;
                            // `max requests per connection N` is tried before `max requests N`.
                            if let Some(value) = c.attempt(|c| c.setting(&["per", "connection"])) {
                                return Some(ast::Setting {
                                    key: K::MaxRequestsPerConnection,
                                    value,
                                    span: c.span_from(start),
                                });
                            }
                            K::MaxRequests
                        }
                        "pending" => {
                            c.kws(&["pending", "requests"])?;
                            K::MaxPendingRequests
                        }
                        "connections" => {
                            c.kw("connections")?;
                            K::MaxConnections
                        }
                        _ => {
                            c.kw("retries")?;
                            K::MaxRetries
                        }
                    }
                }
                "connect" => {
                    c.kws(&["connect", "timeout"])?;
                    K::ConnectTimeout
                }
                "idle" => {
                    c.kws(&["idle", "timeout"])?;
                    K::IdleTimeout
                }
                _ => {
                    c.kws(&["h2", "upgrade"])?;
                    K::H2Upgrade
                }
            };
            let value = c.literal()?;
            Some(ast::Setting {
                key,
                value,
                span: c.span_from(start),
            })
        })
    }

    /// `eject = { kw_eject ~ lbrace ~ eject_setting* ~ rbrace }`.
    fn eject(&mut self) -> Option<ast::Block<ast::EjectKey>> {
        use ast::EjectKey as K;
        self.block("eject", |c| {
            let start = c.start();
            let (key, value) = match c.peek_word() {
                // eject_after = { kw_after ~ literal ~ kw_consecutive ~ error_kind }
                "after" => {
                    let value = c.setting(&["after"])?;
                    c.kw("consecutive")?;
                    // error_kind = { kw_5xx | gateway_errors | kw_errors }
                    let key = match c.peek_word() {
                        "5xx" => K::Consecutive5xx,
                        "gateway" => K::ConsecutiveGatewayErrors,
                        _ => K::ConsecutiveErrors,
                    };
                    match key {
                        K::Consecutive5xx => c.kw("5xx")?,
                        K::ConsecutiveGatewayErrors => c.kws(&["gateway", "errors"])?,
                        _ => c.kw("errors")?,
                    };
                    (key, value)
                }
                "check" => (K::Interval, c.setting(&["check", "every"])?),
                "for" => (K::BaseEjectionTime, c.setting(&["for"])?),
                "at" => (K::MaxEjectionPercent, c.setting(&["at", "most"])?),
                "keep" => {
                    let value = c.setting(&["keep"])?;
                    c.kw("healthy")?;
                    (K::MinHealthPercent, value)
                }
                _ => return None,
            };
            Some(ast::Setting {
                key,
                value,
                span: c.span_from(start),
            })
        })
    }

    /// `balance = { kw_balance ~ balance_kind }`.
    fn balance(&mut self) -> Option<ast::Balance> {
        use ast::BalanceKind as B;
        let start = self.kw("balance")?.start;
        let kind = match self.peek_word() {
            "round" => {
                self.kws(&["round", "robin"])?;
                B::RoundRobin
            }
            "least" => {
                self.kw("least")?;
                match self.peek_word() {
                    "request" => {
                        self.kw("request")?;
                        B::LeastRequest
                    }
                    _ => {
                        self.kw("conn")?;
                        B::LeastConn
                    }
                }
            }
            "random" => {
                self.kw("random")?;
                B::Random
            }
            "passthrough" => {
                self.kw("passthrough")?;
                B::Passthrough
            }
            "hash" => {
                self.kw("hash")?;
                match self.peek_word() {
                    "header" => {
                        self.kw("header")?;
                        B::HashHeader(self.header_name()?)
                    }
                    "cookie" => {
                        self.kw("cookie")?;
                        let name = self.header_name()?;
                        let (mut ttl, mut path) = (List::new(), List::new());
                        // (cookie_ttl | cookie_path)*
                        loop {
                            match self.peek_word() {
                                "ttl" => match self.attempt(|c| c.setting(&["ttl"])) {
                                    Some(value) => ttl.push(value),
                                    None => break,
                                },
                                "path" => match self.attempt(|c| {
                                    c.kw("path")?;
                                    c.string()
                                }) {
                                    Some(value) => path.push(value),
                                    None => break,
                                },
                                _ => break,
                            }
                        }
                        B::HashCookie {
                            name,
                            ttl: ttl.finish(),
                            path: path.finish(),
                        }
                    }
                    "source" => {
                        self.kws(&["source", "ip"])?;
                        B::HashSourceIp
                    }
                    _ => {
                        self.kw("query")?;
                        B::HashQuery(self.header_name()?)
                    }
                }
            }
            _ => return None,
        };
        Some(ast::Balance {
            kind,
            span: self.span_from(start),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Ingress

    /// `ingress_decl = { kw_ingress ~ name ~ lbrace ~ (gateway_decl | hostname_decl |
    /// named_decl)* ~ rbrace }`.
    fn ingress_decl(&mut self) -> Option<ast::Ingress> {
        let start = self.kw("ingress")?.start;
        let name = self.name()?;
        let items = self.braced(|c| {
            Some(match c.peek_word() {
                // gateway_decl = { kw_gateway ~ name ~ gateway_namespace? ~ gateway_section? }
                "gateway" => {
                    let start = c.kw("gateway")?.start;
                    let name = c.name()?;
                    let namespace = c.attempt(|c| {
                        c.kw("in")?;
                        c.name()
                    });
                    let section = c.attempt(|c| {
                        c.kw("section")?;
                        c.name()
                    });
                    ast::IngressItem::Gateway {
                        name,
                        namespace,
                        section,
                        span: c.span_from(start),
                    }
                }
                "hostname" => {
                    c.kw("hostname")?;
                    ast::IngressItem::Hostname(c.string_or_hostname()?)
                }
                "extra" => ast::IngressItem::Extra(c.extra_decl()?),
                _ => {
                    let (what, name) = c.named_decl()?;
                    ast::IngressItem::Named { what, name }
                }
            })
        })?;
        Some(ast::Ingress {
            name,
            items,
            span: self.span_from(start),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Routes

    /// `route_decl = { kw_route ~ name ~ route_match? ~ destinations? ~ route_clause* }`.
    fn route_decl(&mut self) -> Option<ast::Route> {
        let start = self.kw("route")?.start;
        let service = self.name()?;
        let matches = self.attempt(Self::route_match).unwrap_or_default();
        // destinations = { arrow ~ destination ~ (comma ~ destination)* }
        let destinations = self
            .attempt(|c| {
                c.arrow()?;
                c.comma_list(Self::destination)
            })
            .unwrap_or_default();
        let clauses = self.many(Self::route_clause);
        Some(ast::Route {
            service,
            matches,
            destinations,
            clauses,
            span: self.span_from(start),
        })
    }

    /// `route_match = { kw_when ~ match_alt ~ (kw_or ~ match_alt)* }`, `match_alt = { condition ~
    /// (kw_and ~ condition)* }`.
    fn route_match(&mut self) -> Option<Vec<ast::MatchAlt>> {
        self.kw("when")?;
        let first = self.match_alt()?;
        Some(self.many_after(first, |c| {
            c.kw("or")?;
            c.match_alt()
        }))
    }

    fn match_alt(&mut self) -> Option<ast::MatchAlt> {
        let start = self.start();
        let first = self.condition()?;
        let conditions = self.many_after(first, |c| {
            c.kw("and")?;
            c.condition()
        });
        Some(ast::MatchAlt {
            conditions,
            span: self.span_from(start),
        })
    }

    /// `condition = _{ header_cond | query_cond | uri_cond | method_cond }`.
    fn condition(&mut self) -> Option<Spanned<ast::Condition>> {
        use ast::Condition as C;
        let start = self.start();
        let node = match self.peek_word() {
            "header" => {
                self.kw("header")?;
                let name = self.header_name()?;
                C::Header {
                    name,
                    matcher: self.string_match()?,
                }
            }
            "query" => {
                self.kw("query")?;
                let name = self.header_name()?;
                C::Query {
                    name,
                    matcher: self.string_match()?,
                }
            }
            "uri" => {
                self.kw("uri")?;
                C::Uri(self.string_match()?)
            }
            "method" => {
                // method_cond = { kw_method ~ (string_match | word) }
                self.kw("method")?;
                match self.attempt(Self::string_match) {
                    Some(matcher) => C::Method(matcher),
                    None => C::Method(ast::StringMatch {
                        op: ast::MatchOp::Exact,
                        value: self.name()?,
                    }),
                }
            }
            _ => return None,
        };
        Some(Spanned {
            node,
            span: self.span_from(start),
        })
    }

    /// `string_match = { match_op ~ string }`, `match_op = { eq | kw_prefix | kw_regex }`.
    fn string_match(&mut self) -> Option<ast::StringMatch> {
        let op = if self.punct(b'=').is_some() {
            ast::MatchOp::Exact
        } else if self.kw("prefix").is_some() {
            ast::MatchOp::Prefix
        } else {
            self.kw("regex")?;
            ast::MatchOp::Regex
        };
        Some(ast::StringMatch {
            op,
            value: self.string()?,
        })
    }

    /// `destination = { dest_ref ~ number? }`.
    fn destination(&mut self) -> Option<ast::Destination> {
        let target = self.dest_ref()?;
        let weight = self.number();
        Some(ast::Destination {
            span: self.span_from(target.span.start),
            target,
            weight,
        })
    }

    /// `route_clause = _{ use_clause | retry_clause | timeout_clause | backend_timeout_clause |
    /// fault_clause | mirror_clause | rewrite_clause | redirect_clause | header_clause }`.
    fn route_clause(&mut self) -> Option<Spanned<Clause>> {
        let start = self.start();
        let node = match self.peek_word() {
            "use" => Clause::Use(self.use_clause()?),
            "retry" => Clause::Retry(self.retry_clause()?),
            "timeout" => Clause::Timeout(self.setting(&["timeout"])?),
            "backend" => Clause::BackendTimeout(self.setting(&["backend", "timeout"])?),
            "fault" => {
                self.kw("fault")?;
                match self.peek_word() {
                    // fault_delay = { kw_delay ~ literal ~ kw_for ~ literal }
                    "delay" => {
                        let delay = self.setting(&["delay"])?;
                        let percent = self.setting(&["for"])?;
                        Clause::FaultDelay { delay, percent }
                    }
                    // fault_abort = { kw_abort ~ (grpc_status | literal) ~ kw_for ~ literal }
                    _ => {
                        self.kw("abort")?;
                        let status = match self.attempt(|c| {
                            c.kw("grpc")?;
                            c.name()
                        }) {
                            Some(word) => ast::AbortStatus::Grpc(word),
                            None => ast::AbortStatus::Http(self.literal()?),
                        };
                        let percent = self.setting(&["for"])?;
                        Clause::FaultAbort { status, percent }
                    }
                }
            }
            // mirror_clause = { kw_mirror ~ dest_ref ~ number }
            "mirror" => {
                self.kw("mirror")?;
                let target = self.dest_ref()?;
                Clause::Mirror {
                    target,
                    percent: self.number()?,
                }
            }
            // rewrite_clause = { kw_rewrite ~ rewrite_what ~ string }
            "rewrite" => {
                self.kw("rewrite")?;
                let node = match self.peek_word() {
                    "prefix" => ast::RewriteWhat::Prefix,
                    "path" => ast::RewriteWhat::Path,
                    "authority" => ast::RewriteWhat::Authority,
                    _ => return None,
                };
                let keyword = self.peek_word();
                let span = self.kw(keyword)?;
                Clause::Rewrite {
                    what: Spanned { node, span },
                    value: self.string()?,
                }
            }
            "redirect" => {
                self.kw("redirect")?;
                let first = self.redirect_part()?;
                Clause::Redirect(self.many_after(first, Self::redirect_part))
            }
            // header_clause = { header_dir ~ (header_set | header_add | header_remove) }
            keyword @ ("request" | "response") => {
                let node = if keyword == "request" {
                    ast::HeaderDir::Request
                } else {
                    ast::HeaderDir::Response
                };
                let dir = Spanned {
                    node,
                    span: self.kw(keyword)?,
                };
                let op = match self.peek_word() {
                    op @ ("set" | "add") => {
                        self.kw(op)?;
                        let name = self.header_name()?;
                        self.punct(b'=')?;
                        let value = self.string()?;
                        if op == "set" {
                            ast::HeaderOp::Set(name, value)
                        } else {
                            ast::HeaderOp::Add(name, value)
                        }
                    }
                    _ => {
                        self.kw("remove")?;
                        ast::HeaderOp::Remove(self.comma_list(Self::header_name)?)
                    }
                };
                Clause::Headers { dir, op }
            }
            _ => return None,
        };
        Some(Spanned {
            node,
            span: self.span_from(start),
        })
    }

    /// `retry_clause = { kw_retry ~ retry_count ~ (per_try | retry_on | remote_localities |
    /// idempotent_only)* }`.
    fn retry_clause(&mut self) -> Option<ast::Retry> {
        self.kw("retry")?;
        // retry_count = _{ number | !(kw_per | kw_on | kw_remote | kw_idempotent) ~ word }
        let attempts = match self.number() {
            Some(number) => number,
            None => match self.peek_word() {
                "per" | "on" | "remote" | "idempotent" => return None,
                _ => self.word()?,
            },
        };
        let (mut per_try, mut on, mut remote_localities, mut idempotent_only) =
            (List::new(), List::new(), List::new(), List::new());
        loop {
            let mark = self.mark();
            let done = match self.peek_word() {
                // per_try = { kw_per ~ kw_try ~ literal }
                "per" => self
                    .setting(&["per", "try"])
                    .map(|value| per_try.push(value)),
                // retry_on = { kw_on ~ retry_condition ~ (comma ~ retry_condition)* }
                // (Nothing can fail after the first condition.)
                "on" => self.kw("on").and_then(|_| {
                    on.push(self.retry_condition()?);
                    self.comma_rest(&mut on, Self::retry_condition);
                    Some(())
                }),
                // remote_localities = { kw_remote ~ kw_localities ~ literal }
                "remote" => self
                    .setting(&["remote", "localities"])
                    .map(|value| remote_localities.push(value)),
                // idempotent_only = { kw_idempotent ~ kw_only }
                "idempotent" => self
                    .kws(&["idempotent", "only"])
                    .map(|span| idempotent_only.push(span)),
                _ => None,
            };
            if done.is_none() {
                self.reset(mark);
                break;
            }
        }
        Some(ast::Retry {
            attempts,
            per_try: per_try.finish(),
            on: on.finish(),
            remote_localities: remote_localities.finish(),
            idempotent_only: idempotent_only.finish(),
        })
    }

    /// `redirect_scheme | redirect_host | redirect_port | redirect_path | redirect_prefix |
    /// redirect_status`.
    fn redirect_part(&mut self) -> Option<Spanned<ast::RedirectPart>> {
        use ast::RedirectPart as R;
        let start = self.start();
        let node = match self.peek_word() {
            "scheme" => R::Scheme(self.setting(&["scheme"])?),
            "host" => {
                self.kw("host")?;
                R::Host(self.string_or_hostname()?)
            }
            "port" => R::Port(self.setting(&["port"])?),
            "path" => {
                self.kw("path")?;
                R::Path(self.string()?)
            }
            "prefix" => {
                self.kw("prefix")?;
                R::Prefix(self.string()?)
            }
            "status" => R::Status(self.setting(&["status"])?),
            _ => return None,
        };
        Some(Spanned {
            node,
            span: self.span_from(start),
        })
    }
}
