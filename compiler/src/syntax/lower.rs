//! pest pairs → [`ast`] nodes, by hand: one method per grammar rule, spans from the pairs.
//!
//! Everything the grammar guarantees is an `expect("grammar: ...")`; nothing the user can write
//! panics here, because value checks are the checker's job.
//!
//! The meanings that do not depend on pest ([`unescape`], [`doc_before`], [`attach_allows`],
//! [`empty_file`]) are free functions that the fast parser (`fast.rs`) calls too, so each has
//! one implementation.

use pest::iterators::Pair;

use super::grammar::Rule;
use crate::ast;
use crate::source::{FileId, Span, Spanned};

type P<'i> = Pair<'i, Rule>;

pub(super) struct Lowerer<'t> {
    pub(super) file: FileId,
    /// The whole source text, for doc comments (the grammar skips comments).
    pub(super) text: &'t str,
}

impl Lowerer<'_> {
    /// The span of a pair, without trailing whitespace or comments: pest keeps the whitespace
    /// it skipped before an optional part that turned out to be absent (`v2` in `-> v1 90%, v2`
    /// followed by a newline), which would stretch labels onto the next line.
    fn span(&self, pair: &P<'_>) -> Span {
        let span = pair.as_span();
        let mut end = span.end() as u32;
        if pair.as_str().ends_with(char::is_whitespace) {
            if let Some(last) = pair.clone().into_inner().last() {
                end = self.span(&last).end;
            }
        }
        Span {
            file: self.file,
            start: span.start() as u32,
            end,
        }
    }

    fn text(&self, pair: &P<'_>) -> ast::Text {
        Spanned {
            node: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    /// The inner pairs that are not keywords or punctuation.
    fn meaningful<'i>(pair: P<'i>) -> impl Iterator<Item = P<'i>> {
        pair.into_inner().filter(|p| !is_token(p.as_rule()))
    }

    fn first<'i>(pair: P<'i>) -> P<'i> {
        Self::meaningful(pair)
            .next()
            .expect("grammar: rule has a meaningful child")
    }

    pub(super) fn file(&self, pair: P<'_>) -> ast::File {
        let mut file = empty_file(self.span(&pair));
        // `@allow` attributes waiting for the declaration they apply to.
        let mut pending = 0;
        for item in Self::meaningful(pair) {
            let rule = item.as_rule();
            if matches!(
                rule,
                Rule::service_decl
                    | Rule::route_decl
                    | Rule::ingress_decl
                    | Rule::canary_decl
                    | Rule::defaults_decl
            ) {
                attach_allows(&mut file.allows, &mut pending, Some(self.span(&item)));
            } else if matches!(
                rule,
                Rule::namespace_decl | Rule::import_decl | Rule::policy_decl
            ) {
                attach_allows(&mut file.allows, &mut pending, None);
            }
            match rule {
                Rule::allow_attr => {
                    let span = self.span(&item);
                    let lints = Self::meaningful(item)
                        .map(|lint| self.text(&lint))
                        .collect();
                    file.allows.push(ast::Allow {
                        lints,
                        span,
                        target: None,
                    });
                }
                Rule::namespace_decl => file.namespaces.push(self.text(&Self::first(item))),
                Rule::service_decl => file.items.push(ast::Item::Service(self.service(item))),
                Rule::route_decl => file.items.push(ast::Item::Route(self.route(item))),
                Rule::ingress_decl => file.items.push(ast::Item::Ingress(self.ingress(item))),
                Rule::canary_decl => file.items.push(ast::Item::Canary(self.canary(item))),
                Rule::import_decl => file.imports.push(self.import(item)),
                Rule::policy_decl => file.policies.push(self.policy(item)),
                Rule::defaults_decl => {
                    let span = self.span(&item);
                    let mut all = item.into_inner();
                    let keyword = self.span(&all.next().expect("grammar: `defaults` keyword"));
                    let body = all
                        .filter(|p| !is_token(p.as_rule()))
                        .map(|part| self.policy_part(part))
                        .collect();
                    file.defaults.push(ast::Defaults {
                        body,
                        keyword,
                        span,
                    });
                }
                rule => unreachable!("grammar: unexpected item {rule:?}"),
            }
        }
        file
    }

    fn service(&self, pair: P<'_>) -> ast::Service {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let name = self.text(&inner.next().expect("grammar: service has a name"));
        let items = inner
            .map(|item| match item.as_rule() {
                Rule::host_decl => {
                    let host = Self::first(item);
                    ast::ServiceItem::Host(self.name_or_string(host))
                }
                Rule::port_decl => ast::ServiceItem::Port(self.literal(Self::first(item))),
                Rule::named_decl => {
                    let (what, name) = self.named(item);
                    ast::ServiceItem::Named { what, name }
                }
                Rule::subset_decl => ast::ServiceItem::Subset(self.subset(item)),
                Rule::deploy_decl => ast::ServiceItem::Deploy(self.deploy(item)),
                Rule::use_clause => ast::ServiceItem::Use(self.use_clause(item)),
                Rule::extra_decl => ast::ServiceItem::Extra(self.extra(item)),
                _ => ast::ServiceItem::Policy(self.policy_item(item)),
            })
            .collect();
        ast::Service { name, items, span }
    }

    fn canary_setting(&self, setting: P<'_>) -> Spanned<ast::CanarySetting> {
        let span = self.span(&setting);
        let rule = setting.as_rule();
        let node = match rule {
            Rule::use_clause => ast::CanarySetting::Use(self.use_clause(setting)),
            Rule::canary_from => ast::CanarySetting::From(self.text(&Self::first(setting))),
            Rule::canary_to => ast::CanarySetting::To(self.text(&Self::first(setting))),
            Rule::canary_steps => ast::CanarySetting::Steps(
                Self::meaningful(setting).map(|l| self.literal(l)).collect(),
            ),
            Rule::canary_check => {
                let check = Self::first(setting);
                let is_error_rate = check.as_rule() == Rule::check_error_rate;
                let value = self.literal(Self::first(check));
                if is_error_rate {
                    ast::CanarySetting::ErrorRate(value)
                } else {
                    ast::CanarySetting::Latency(value)
                }
            }
            Rule::canary_interval => {
                ast::CanarySetting::Interval(self.literal(Self::first(setting)))
            }
            Rule::canary_fail => ast::CanarySetting::FailAfter(self.literal(Self::first(setting))),
            Rule::canary_beta => {
                let condition = Self::first(setting);
                let mut parts = Self::meaningful(condition);
                let name = self.name_or_string(parts.next().expect("grammar: header name"));
                let matcher = self.string_match(parts.next().expect("grammar: matcher"));
                ast::CanarySetting::Beta(ast::Condition::Header { name, matcher })
            }
            Rule::canary_prometheus => {
                ast::CanarySetting::Prometheus(self.name_or_string(Self::first(setting)))
            }
            _ => ast::CanarySetting::MirrorFirst(self.literal(Self::first(setting))),
        };
        Spanned { node, span }
    }

    /// `routes named NAME` / `policy named NAME`.
    fn named(&self, pair: P<'_>) -> (Spanned<ast::NamedWhat>, ast::Text) {
        let mut inner = Self::meaningful(pair);
        let what_pair = inner.next().expect("grammar: named has a kind");
        let what_node = match Self::keyword_of(&what_pair) {
            Rule::kw_routes => ast::NamedWhat::Routes,
            _ => ast::NamedWhat::Policy,
        };
        let what = Spanned {
            node: what_node,
            span: self.span(&what_pair),
        };
        let name = self.name_or_string(inner.next().expect("grammar: named has a name"));
        (what, name)
    }

    fn canary(&self, pair: P<'_>) -> ast::Canary {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let service = self.text(&inner.next().expect("grammar: canary names a service"));
        let settings = inner.map(|setting| self.canary_setting(setting)).collect();
        ast::Canary {
            service,
            settings,
            span,
        }
    }

    fn ingress(&self, pair: P<'_>) -> ast::Ingress {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let name = self.text(&inner.next().expect("grammar: ingress has a name"));
        let items = inner
            .map(|item| match item.as_rule() {
                Rule::gateway_decl => {
                    let span = self.span(&item);
                    let mut parts = Self::meaningful(item);
                    let name = self.text(&parts.next().expect("grammar: gateway has a name"));
                    let (mut namespace, mut section) = (None, None);
                    for part in parts {
                        let value = self.text(&Self::first(part.clone()));
                        match part.as_rule() {
                            Rule::gateway_namespace => namespace = Some(value),
                            _ => section = Some(value),
                        }
                    }
                    ast::IngressItem::Gateway {
                        name,
                        namespace,
                        section,
                        span,
                    }
                }
                Rule::hostname_decl => {
                    ast::IngressItem::Hostname(self.name_or_string(Self::first(item)))
                }
                Rule::extra_decl => ast::IngressItem::Extra(self.extra(item)),
                _ => {
                    let (what, name) = self.named(item);
                    ast::IngressItem::Named { what, name }
                }
            })
            .collect();
        ast::Ingress { name, items, span }
    }

    /// The rule of the first keyword inside a pair.
    fn keyword_of(pair: &P<'_>) -> Rule {
        pair.clone()
            .into_inner()
            .next()
            .map(|p| p.as_rule())
            .unwrap_or(Rule::EOI)
    }

    /// A `string` (unescaped) or any bare token, as text.
    fn name_or_string(&self, pair: P<'_>) -> ast::Text {
        match pair.as_rule() {
            Rule::string => Spanned {
                node: unescape(pair.as_str()),
                span: self.span(&pair),
            },
            Rule::header_name | Rule::label_value => self.name_or_string(Self::first(pair)),
            _ => self.text(&pair),
        }
    }

    fn extra(&self, pair: P<'_>) -> ast::Extra {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let kind = self.text(&inner.next().expect("grammar: extra has a kind"));
        let entries = inner
            .map(|entry| match entry.as_rule() {
                Rule::extra_set => ast::ExtraEntry::Set(self.extra_set(entry)),
                _ => {
                    let span = self.span(&entry);
                    let mut inner = Self::meaningful(entry);
                    let path = self.extra_path(inner.next().expect("grammar: group has a path"));
                    let sets = inner.map(|set| self.extra_set(set)).collect();
                    ast::ExtraEntry::Group { path, sets, span }
                }
            })
            .collect();
        ast::Extra {
            kind,
            entries,
            span,
        }
    }

    fn extra_set(&self, pair: P<'_>) -> ast::ExtraSet {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let path = self.extra_path(inner.next().expect("grammar: setting has a path"));
        let value = inner.next().expect("grammar: setting has a value");
        let value = match value.as_rule() {
            Rule::extra_list => {
                let list_span = self.span(&value);
                let items = Self::meaningful(value).map(|l| self.literal(l)).collect();
                ast::ExtraValue::List(items, list_span)
            }
            Rule::extra_object => ast::ExtraValue::EmptyObject(self.span(&value)),
            _ => ast::ExtraValue::Literal(self.literal(value)),
        };
        ast::ExtraSet { path, value, span }
    }

    /// The segments of an `extra_path`; a bracketed one spans its brackets.
    fn extra_path(&self, pair: P<'_>) -> ast::ExtraPath {
        let span = self.span(&pair);
        let mut segments = Vec::new();
        let mut open = None;
        let mut inside = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::extra_key => segments.push(Spanned {
                    node: ast::PathSegment::Key(part.as_str().to_string()),
                    span: self.span(&part),
                }),
                Rule::lbracket => open = Some(self.span(&part)),
                Rule::extra_index => {
                    inside = Some(ast::PathSegment::Index(part.as_str().to_string()));
                }
                Rule::string => inside = Some(ast::PathSegment::Quoted(unescape(part.as_str()))),
                Rule::rbracket => {
                    let open = open.take().expect("grammar: `]` after `[`");
                    segments.push(Spanned {
                        node: inside
                            .take()
                            .expect("grammar: something between `[` and `]`"),
                        span: open.to(self.span(&part)),
                    });
                }
                _ => {}
            }
        }
        ast::ExtraPath { segments, span }
    }

    fn deploy(&self, pair: P<'_>) -> ast::Deploy {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let version = self.text(&inner.next().expect("grammar: deploy has a version"));
        let settings = inner
            .map(|setting| {
                let span = self.span(&setting);
                let rule = setting.as_rule();
                let node = match rule {
                    Rule::deploy_image => {
                        ast::DeploySetting::Image(self.name_or_string(Self::first(setting)))
                    }
                    Rule::deploy_replicas => {
                        ast::DeploySetting::Replicas(self.literal(Self::first(setting)))
                    }
                    Rule::deploy_container => {
                        ast::DeploySetting::Container(self.text(&Self::first(setting)))
                    }
                    Rule::deploy_port => {
                        ast::DeploySetting::Port(self.literal(Self::first(setting)))
                    }
                    Rule::deploy_ready => {
                        let mut parts = Self::meaningful(setting);
                        let path = self.name_or_string(parts.next().expect("grammar: probe path"));
                        let (mut port, mut after, mut every) = (Vec::new(), Vec::new(), Vec::new());
                        for part in parts {
                            let value = self.literal(Self::first(part.clone()));
                            match part.as_rule() {
                                Rule::ready_port => port.push(value),
                                Rule::ready_after => after.push(value),
                                _ => every.push(value),
                            }
                        }
                        ast::DeploySetting::Ready {
                            path,
                            port,
                            after,
                            every,
                        }
                    }
                    Rule::deploy_requests | Rule::deploy_limits => {
                        let amounts = Self::meaningful(setting)
                            .map(|amount| {
                                let mut parts = Self::meaningful(amount);
                                let kind_pair = parts.next().expect("grammar: resource kind");
                                let kind = match Self::first_any(kind_pair.clone()).as_rule() {
                                    Rule::kw_cpu => ast::Resource::Cpu,
                                    _ => ast::Resource::Memory,
                                };
                                let kind = Spanned {
                                    node: kind,
                                    span: self.span(&kind_pair),
                                };
                                let value =
                                    self.name_or_string(parts.next().expect("grammar: amount"));
                                (kind, value)
                            })
                            .collect();
                        if rule == Rule::deploy_requests {
                            ast::DeploySetting::Requests(amounts)
                        } else {
                            ast::DeploySetting::Limits(amounts)
                        }
                    }
                    _ => {
                        let mut parts = Self::meaningful(setting);
                        let name = self.name_or_string(parts.next().expect("grammar: env name"));
                        let value = self.name_or_string(parts.next().expect("grammar: env value"));
                        ast::DeploySetting::Env(name, value)
                    }
                };
                Spanned { node, span }
            })
            .collect();
        ast::Deploy {
            version,
            settings,
            span,
        }
    }

    fn subset(&self, pair: P<'_>) -> ast::Subset {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let name = self.text(&inner.next().expect("grammar: subset has a name"));
        let label_set = inner.next().expect("grammar: subset has labels");
        let labels = Self::meaningful(label_set)
            .map(|label| {
                let mut parts = Self::meaningful(label);
                let key = self.text(&parts.next().expect("grammar: label has a key"));
                let value = self.name_or_string(parts.next().expect("grammar: label has a value"));
                ast::Label { key, value }
            })
            .collect();
        let policy = inner
            .next()
            .map(|body| {
                Self::meaningful(body)
                    .map(|item| self.policy_item(item))
                    .collect()
            })
            .unwrap_or_default();
        ast::Subset {
            name,
            labels,
            policy,
            span,
        }
    }

    fn policy_item(&self, pair: P<'_>) -> ast::PolicyItem {
        match pair.as_rule() {
            Rule::pool => ast::PolicyItem::Pool(self.block(pair, |rule| match rule {
                Rule::max_connections => ast::PoolKey::MaxConnections,
                Rule::max_pending_requests => ast::PoolKey::MaxPendingRequests,
                Rule::max_requests_per_connection => ast::PoolKey::MaxRequestsPerConnection,
                Rule::max_requests => ast::PoolKey::MaxRequests,
                Rule::max_retries => ast::PoolKey::MaxRetries,
                Rule::connect_timeout => ast::PoolKey::ConnectTimeout,
                Rule::idle_timeout => ast::PoolKey::IdleTimeout,
                Rule::h2_upgrade => ast::PoolKey::H2Upgrade,
                rule => unreachable!("grammar: unexpected pool setting {rule:?}"),
            })),
            Rule::eject => ast::PolicyItem::Eject(self.eject(pair)),
            Rule::balance => ast::PolicyItem::Balance(self.balance(pair)),
            rule => unreachable!("grammar: unexpected policy item {rule:?}"),
        }
    }

    /// A settings block whose every setting holds exactly one literal.
    fn block<K>(&self, pair: P<'_>, key_of: impl Fn(Rule) -> K) -> ast::Block<K> {
        let span = self.span(&pair);
        let mut all = pair.into_inner();
        let keyword = self.span(&all.next().expect("grammar: block starts with its keyword"));
        let settings = all
            .filter(|p| !matches!(p.as_rule(), Rule::lbrace | Rule::rbrace))
            .map(|setting| {
                let key = key_of(setting.as_rule());
                let span = self.span(&setting);
                let value = Self::meaningful(setting)
                    .find(|p| p.as_rule() == Rule::literal)
                    .expect("grammar: setting has a value");
                ast::Setting {
                    key,
                    value: self.literal(value),
                    span,
                }
            })
            .collect();
        ast::Block {
            settings,
            keyword,
            span,
        }
    }

    fn eject(&self, pair: P<'_>) -> ast::Block<ast::EjectKey> {
        let mut block = self.block(pair.clone(), |rule| match rule {
            Rule::eject_after => ast::EjectKey::Consecutive5xx,
            Rule::eject_interval => ast::EjectKey::Interval,
            Rule::eject_for => ast::EjectKey::BaseEjectionTime,
            Rule::eject_at_most => ast::EjectKey::MaxEjectionPercent,
            Rule::eject_keep => ast::EjectKey::MinHealthPercent,
            rule => unreachable!("grammar: unexpected eject setting {rule:?}"),
        });
        // `after N consecutive KIND`: the key depends on the error kind.
        let afters = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::eject_after);
        let after_settings = block
            .settings
            .iter_mut()
            .filter(|s| s.key == ast::EjectKey::Consecutive5xx);
        for (setting, after) in after_settings.zip(afters) {
            let kind = Self::meaningful(after)
                .find(|p| p.as_rule() == Rule::error_kind)
                .expect("grammar: `after` has an error kind");
            setting.key = match Self::first_any(kind).as_rule() {
                Rule::kw_5xx => ast::EjectKey::Consecutive5xx,
                Rule::gateway_errors => ast::EjectKey::ConsecutiveGatewayErrors,
                _ => ast::EjectKey::ConsecutiveErrors,
            };
        }
        block
    }

    /// The first child of any rule, keywords included.
    fn first_any<'i>(pair: P<'i>) -> P<'i> {
        pair.into_inner().next().expect("grammar: rule has a child")
    }

    fn balance(&self, pair: P<'_>) -> ast::Balance {
        let span = self.span(&pair);
        let kind_pair = Self::first(pair);
        let kind = match kind_pair.as_rule() {
            Rule::lb_round_robin => ast::BalanceKind::RoundRobin,
            Rule::lb_least_request => ast::BalanceKind::LeastRequest,
            Rule::lb_least_conn => ast::BalanceKind::LeastConn,
            Rule::lb_random => ast::BalanceKind::Random,
            Rule::lb_passthrough => ast::BalanceKind::Passthrough,
            Rule::lb_hash => {
                let key = Self::first(kind_pair);
                match key.as_rule() {
                    Rule::hash_header => {
                        ast::BalanceKind::HashHeader(self.name_or_string(Self::first(key)))
                    }
                    Rule::hash_query => {
                        ast::BalanceKind::HashQuery(self.name_or_string(Self::first(key)))
                    }
                    Rule::hash_source_ip => ast::BalanceKind::HashSourceIp,
                    Rule::hash_cookie => {
                        let mut inner = Self::meaningful(key);
                        let name = self.name_or_string(inner.next().expect("grammar: cookie name"));
                        let (mut ttl, mut path) = (Vec::new(), Vec::new());
                        for option in inner {
                            let value = Self::first(option.clone());
                            match option.as_rule() {
                                Rule::cookie_ttl => ttl.push(self.literal(value)),
                                _ => path.push(self.name_or_string(value)),
                            }
                        }
                        ast::BalanceKind::HashCookie { name, ttl, path }
                    }
                    rule => unreachable!("grammar: unexpected hash key {rule:?}"),
                }
            }
            rule => unreachable!("grammar: unexpected balance kind {rule:?}"),
        };
        ast::Balance { kind, span }
    }

    fn import(&self, pair: P<'_>) -> ast::Import {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let what = inner.next().expect("grammar: import names a module");
        let path = match what.as_rule() {
            Rule::std_module => ast::ImportPath::Std(self.text(&Self::first(what))),
            _ => ast::ImportPath::File(self.name_or_string(what)),
        };
        let alias = inner.next().map(|alias| self.text(&alias));
        ast::Import { path, alias, span }
    }

    fn policy(&self, pair: P<'_>) -> ast::Policy {
        let span = self.span(&pair);
        let doc = doc_before(self.text, span.start as usize);
        let mut inner = Self::meaningful(pair).peekable();
        let name = self.text(&inner.next().expect("grammar: policy has a name"));
        let mut params = Vec::new();
        if let Some(list) = inner.next_if(|p| p.as_rule() == Rule::param_list) {
            for param in Self::meaningful(list) {
                let span = self.span(&param);
                let mut parts = Self::meaningful(param);
                let name = self.text(&parts.next().expect("grammar: parameter name"));
                let ty = self.text(&parts.next().expect("grammar: parameter type"));
                let default = parts.next().map(|value| self.literal(value));
                params.push(ast::Param {
                    name,
                    ty,
                    default,
                    span,
                });
            }
        }
        let body = inner.map(|part| self.policy_part(part)).collect();
        ast::Policy {
            name,
            params,
            body,
            doc,
            span,
        }
    }

    fn policy_part(&self, pair: P<'_>) -> ast::PolicyPart {
        match pair.as_rule() {
            Rule::use_clause => ast::PolicyPart::Use(self.use_clause(pair)),
            Rule::pool | Rule::eject | Rule::balance => {
                ast::PolicyPart::Policy(self.policy_item(pair))
            }
            Rule::canary_from
            | Rule::canary_to
            | Rule::canary_steps
            | Rule::canary_check
            | Rule::canary_interval
            | Rule::canary_fail
            | Rule::canary_beta
            | Rule::canary_mirror
            | Rule::canary_prometheus => ast::PolicyPart::Canary(self.canary_setting(pair)),
            _ => {
                let span = self.span(&pair);
                ast::PolicyPart::Clause(Spanned {
                    node: self.clause(pair),
                    span,
                })
            }
        }
    }

    fn use_clause(&self, pair: P<'_>) -> ast::Use {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let mut names: Vec<ast::Text> = Self::meaningful(inner.next().expect("grammar: policy"))
            .map(|name| self.text(&name))
            .collect();
        let name = names.pop().expect("grammar: a policy reference has a name");
        let module = names.pop();
        let args = inner
            .next()
            .map(|list| {
                Self::meaningful(list)
                    .map(|arg| {
                        let span = self.span(&arg);
                        let mut parts: Vec<P<'_>> = Self::meaningful(arg).collect();
                        let value = self.literal(parts.pop().expect("grammar: argument value"));
                        let name = parts.pop().map(|name| self.text(&name));
                        ast::Arg { name, value, span }
                    })
                    .collect()
            })
            .unwrap_or_default();
        ast::Use {
            module,
            name,
            args,
            span,
        }
    }

    fn route(&self, pair: P<'_>) -> ast::Route {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let service = self.text(&inner.next().expect("grammar: route names a service"));
        let mut route = ast::Route {
            service,
            matches: Vec::new(),
            destinations: Vec::new(),
            clauses: Vec::new(),
            span,
        };
        for part in inner {
            match part.as_rule() {
                Rule::route_match => {
                    route.matches = Self::meaningful(part)
                        .map(|alt| self.match_alt(alt))
                        .collect()
                }
                Rule::destinations => {
                    route.destinations = Self::meaningful(part)
                        .map(|dest| self.destination(dest))
                        .collect()
                }
                _ => {
                    let span = self.span(&part);
                    route.clauses.push(Spanned {
                        node: self.clause(part),
                        span,
                    });
                }
            }
        }
        route
    }

    fn match_alt(&self, pair: P<'_>) -> ast::MatchAlt {
        let span = self.span(&pair);
        let conditions = Self::meaningful(pair)
            .map(|cond| {
                let span = self.span(&cond);
                let rule = cond.as_rule();
                let mut inner = Self::meaningful(cond);
                let node = match rule {
                    Rule::header_cond | Rule::query_cond => {
                        let name = self.name_or_string(inner.next().expect("grammar: name"));
                        let matcher = self.string_match(inner.next().expect("grammar: matcher"));
                        if rule == Rule::header_cond {
                            ast::Condition::Header { name, matcher }
                        } else {
                            ast::Condition::Query { name, matcher }
                        }
                    }
                    Rule::uri_cond => {
                        ast::Condition::Uri(self.string_match(inner.next().expect("grammar: uri")))
                    }
                    _ => {
                        let value = inner.next().expect("grammar: method value");
                        if value.as_rule() == Rule::word {
                            ast::Condition::Method(ast::StringMatch {
                                op: ast::MatchOp::Exact,
                                value: self.text(&value),
                            })
                        } else {
                            ast::Condition::Method(self.string_match(value))
                        }
                    }
                };
                Spanned { node, span }
            })
            .collect();
        ast::MatchAlt { conditions, span }
    }

    fn string_match(&self, pair: P<'_>) -> ast::StringMatch {
        let mut inner = pair.into_inner();
        let op_pair = inner.next().expect("grammar: match operator");
        let op = match Self::first_any(op_pair).as_rule() {
            Rule::eq => ast::MatchOp::Exact,
            Rule::kw_prefix => ast::MatchOp::Prefix,
            _ => ast::MatchOp::Regex,
        };
        let value = self.name_or_string(inner.next().expect("grammar: match value"));
        ast::StringMatch { op, value }
    }

    fn destination(&self, pair: P<'_>) -> ast::Destination {
        let span = self.span(&pair);
        let mut inner = Self::meaningful(pair);
        let target = self.dest_ref(inner.next().expect("grammar: destination target"));
        let weight = inner.next().map(|w| self.literal(w));
        ast::Destination {
            target,
            weight,
            span,
        }
    }

    fn dest_ref(&self, pair: P<'_>) -> ast::DestRef {
        let span = self.span(&pair);
        // `[namespace /] name [. subset]`: the slash and the dot tell the parts apart.
        let (mut namespace, mut first, mut second) = (None, None, None);
        let mut after_slash = false;
        let mut after_dot = false;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::slash => after_slash = true,
                Rule::dot => after_dot = true,
                _ if after_dot => second = Some(self.text(&part)),
                _ if !after_slash && first.is_none() => first = Some(self.text(&part)),
                _ => {
                    namespace = first.take();
                    first = Some(self.text(&part));
                }
            }
        }
        ast::DestRef {
            namespace,
            first: first.expect("grammar: destination name"),
            second,
            span,
        }
    }

    fn clause(&self, pair: P<'_>) -> ast::Clause {
        let rule = pair.as_rule();
        if rule == Rule::use_clause {
            return ast::Clause::Use(self.use_clause(pair));
        }
        let mut inner = Self::meaningful(pair);
        let mut next = || inner.next().expect("grammar: clause part");
        match rule {
            Rule::retry_clause => {
                let attempts = self.literal(next());
                let mut retry = ast::Retry {
                    attempts,
                    per_try: Vec::new(),
                    on: Vec::new(),
                    remote_localities: Vec::new(),
                    idempotent_only: Vec::new(),
                };
                for option in inner {
                    match option.as_rule() {
                        Rule::per_try => retry.per_try.push(self.literal(Self::first(option))),
                        Rule::retry_on => retry
                            .on
                            .extend(Self::meaningful(option).map(|c| self.text(&c))),
                        Rule::idempotent_only => retry.idempotent_only.push(self.span(&option)),
                        _ => retry
                            .remote_localities
                            .push(self.literal(Self::first(option))),
                    }
                }
                ast::Clause::Retry(retry)
            }
            Rule::timeout_clause => ast::Clause::Timeout(self.literal(next())),
            Rule::backend_timeout_clause => ast::Clause::BackendTimeout(self.literal(next())),
            Rule::redirect_clause => {
                let parts = inner
                    .by_ref()
                    .map(|part| {
                        let span = self.span(&part);
                        let rule = part.as_rule();
                        let value = Self::first(part);
                        let node = match rule {
                            Rule::redirect_scheme => ast::RedirectPart::Scheme(self.literal(value)),
                            Rule::redirect_host => {
                                ast::RedirectPart::Host(self.name_or_string(value))
                            }
                            Rule::redirect_port => ast::RedirectPart::Port(self.literal(value)),
                            Rule::redirect_path => {
                                ast::RedirectPart::Path(self.name_or_string(value))
                            }
                            Rule::redirect_prefix => {
                                ast::RedirectPart::Prefix(self.name_or_string(value))
                            }
                            _ => ast::RedirectPart::Status(self.literal(value)),
                        };
                        Spanned { node, span }
                    })
                    .collect();
                ast::Clause::Redirect(parts)
            }
            Rule::fault_clause => {
                let fault = next();
                let rule = fault.as_rule();
                let mut parts = Self::meaningful(fault);
                let first = parts.next().expect("grammar: fault value");
                let percent = self.literal(parts.next().expect("grammar: fault percentage"));
                if rule == Rule::fault_delay {
                    ast::Clause::FaultDelay {
                        delay: self.literal(first),
                        percent,
                    }
                } else if first.as_rule() == Rule::grpc_status {
                    let status = ast::AbortStatus::Grpc(self.text(&Self::first(first)));
                    ast::Clause::FaultAbort { status, percent }
                } else {
                    ast::Clause::FaultAbort {
                        status: ast::AbortStatus::Http(self.literal(first)),
                        percent,
                    }
                }
            }
            Rule::mirror_clause => {
                let target = self.dest_ref(next());
                ast::Clause::Mirror {
                    target,
                    percent: self.literal(next()),
                }
            }
            Rule::rewrite_clause => {
                let what_pair = next();
                let what_node = match Self::first_any(what_pair.clone()).as_rule() {
                    Rule::kw_prefix => ast::RewriteWhat::Prefix,
                    Rule::kw_path => ast::RewriteWhat::Path,
                    _ => ast::RewriteWhat::Authority,
                };
                let what = Spanned {
                    node: what_node,
                    span: self.span(&what_pair),
                };
                ast::Clause::Rewrite {
                    what,
                    value: self.name_or_string(next()),
                }
            }
            Rule::header_clause => {
                let dir_pair = next();
                let dir_node = match Self::first_any(dir_pair.clone()).as_rule() {
                    Rule::kw_request => ast::HeaderDir::Request,
                    _ => ast::HeaderDir::Response,
                };
                let dir = Spanned {
                    node: dir_node,
                    span: self.span(&dir_pair),
                };
                let op_pair = next();
                let op_rule = op_pair.as_rule();
                let mut parts = Self::meaningful(op_pair).map(|p| self.name_or_string(p));
                let op = match op_rule {
                    Rule::header_remove => ast::HeaderOp::Remove(parts.collect()),
                    _ => {
                        let name = parts.next().expect("grammar: header name");
                        let value = parts.next().expect("grammar: header value");
                        if op_rule == Rule::header_set {
                            ast::HeaderOp::Set(name, value)
                        } else {
                            ast::HeaderOp::Add(name, value)
                        }
                    }
                };
                ast::Clause::Headers { dir, op }
            }
            rule => unreachable!("grammar: unexpected clause {rule:?}"),
        }
    }

    /// A `literal`, or one of the numeric rules directly.
    fn literal(&self, pair: P<'_>) -> ast::Literal {
        let pair = if pair.as_rule() == Rule::literal {
            Self::first_any(pair)
        } else {
            pair
        };
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::int => ast::LiteralKind::Int,
            Rule::float => ast::LiteralKind::Float,
            Rule::percent => ast::LiteralKind::Percent,
            Rule::duration => ast::LiteralKind::Duration,
            Rule::string => ast::LiteralKind::String,
            Rule::word => ast::LiteralKind::Word,
            rule => unreachable!("grammar: unexpected literal {rule:?}"),
        };
        let text = if kind == ast::LiteralKind::String {
            unescape(pair.as_str())
        } else {
            pair.as_str().to_string()
        };
        ast::Literal { kind, text, span }
    }
}

/// Whether a rule is a keyword or punctuation: a token that carries no meaning once parsed.
fn is_token(rule: Rule) -> bool {
    // Keyword rules are recognised by name once, then looked up by index.
    static KEYWORDS: std::sync::OnceLock<Vec<bool>> = std::sync::OnceLock::new();
    let keywords = KEYWORDS.get_or_init(|| {
        let all = Rule::all_rules();
        let mut table = vec![false; all.iter().map(|r| *r as usize + 1).max().unwrap_or(0)];
        for rule in all {
            table[*rule as usize] = format!("{rule:?}").starts_with("kw_");
        }
        table
    });
    keywords.get(rule as usize).copied().unwrap_or(false)
        || matches!(
            rule,
            Rule::lbrace
                | Rule::rbrace
                | Rule::lparen
                | Rule::rparen
                | Rule::lbracket
                | Rule::rbracket
                | Rule::comma
                | Rule::eq
                | Rule::dot
                | Rule::slash
                | Rule::at
                | Rule::arrow
                | Rule::colon
                | Rule::EOI
        )
}

/// The `///` lines right above the line where `offset` is, without their slashes: a policy's
/// documentation (the grammar skips comments, so it is read from the text).
pub(super) fn doc_before(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or("");
    let mut lines: Vec<&str> = Vec::new();
    // The text before `offset` on its own line is empty (a policy starts a line).
    for line in before
        .lines()
        .rev()
        .skip(usize::from(!before.ends_with('\n')))
    {
        match line.trim_start().strip_prefix("///") {
            Some(doc) => lines.push(doc.strip_prefix(' ').unwrap_or(doc).trim_end()),
            None => break,
        }
    }
    lines.reverse();
    lines.join("\n")
}

/// A file with nothing in it yet, spanning `span` (the whole text).
pub(super) fn empty_file(span: Span) -> ast::File {
    ast::File {
        namespaces: Vec::new(),
        items: Vec::new(),
        allows: Vec::new(),
        imports: Vec::new(),
        policies: Vec::new(),
        defaults: Vec::new(),
        span,
    }
}

/// Called at each top-level declaration other than `@allow`: the attributes written since the
/// last declaration (`allows[pending..]`) apply to the one that follows them, `target` (a
/// service, route, ingress, canary or `defaults`); before a `namespace`, `import` or `policy`
/// (`target` is `None`) they apply to nothing.
pub(super) fn attach_allows(allows: &mut [ast::Allow], pending: &mut usize, target: Option<Span>) {
    if let Some(target) = target {
        for allow in allows.iter_mut().skip(*pending) {
            allow.target = Some(target);
        }
    }
    *pending = allows.len();
}

/// The content of a `string` token (`raw` is its text, quotes included) with escapes resolved.
pub(super) fn unescape(raw: &str) -> String {
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(quoted @ ('"' | '\\')) => out.push(quoted),
            // Any other backslash stays, so that regular expressions read as written (`\d`).
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}
