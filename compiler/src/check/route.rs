//! Routes: destinations and weights, matches, retries, timeouts, faults, mirroring, rewrites
//! and header operations.

use std::ops::Deref;

use super::{names, Checker, Declared, Seen};
use crate::ast::{self, Clause};
use crate::diagnostics::{did_you_mean, Code, Diagnostic};
use crate::ir;
use crate::source::{Span, Spanned};
use crate::target::{Concept, Output};

/// Envoy's retry policies that Istio accepts in `retryOn` (HTTP and gRPC), exactly 16.
pub const RETRY_POLICIES: [&str; 16] = [
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// The HTTP status codes Istio accepts in `retryOn` (those Go's `net/http` knows).
fn known_status(code: u16) -> bool {
    matches!(code,
        100..=103 | 200..=208 | 226 | 300..=305 | 307 | 308 | 400..=418 | 421..=426 | 428 | 429
        | 431 | 451 | 500..=508 | 510 | 511)
}

/// The gRPC status names Istio accepts for `fault abort grpc`.
const GRPC_STATUSES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// What RE2 rejects that regex-syntax accepts: a repetition of a repetition (`a**`) and a
/// counted repetition above 1000 (`x{1001}`).
fn re2_only(ast: &regex_syntax::ast::Ast) -> Option<String> {
    use regex_syntax::ast::{Ast, RepetitionKind, RepetitionRange};
    match ast {
        Ast::Repetition(repetition) => {
            if matches!(*repetition.ast, Ast::Repetition(_)) {
                return Some("bad repetition operator (a repetition of a repetition)".into());
            }
            if let RepetitionKind::Range(range) = &repetition.op.kind {
                let count = match range {
                    RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n) => *n,
                    RepetitionRange::Bounded(_, m) => *m,
                };
                if count > 1000 {
                    return Some(format!(
                        "bad repetition count {count}: RE2 allows at most 1000"
                    ));
                }
            }
            re2_only(&repetition.ast)
        }
        Ast::Group(group) => re2_only(&group.ast),
        Ast::Alternation(alternation) => alternation.asts.iter().find_map(re2_only),
        Ast::Concat(concat) => concat.asts.iter().find_map(re2_only),
        _ => None,
    }
}

/// HTTP methods a `method` condition may name.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE",
];

/// Gateway API's limits on one HTTPRoute rule (Linkerd's too); alternatives per rule:
/// `Output::max_matches`.
const MAX_CONDITIONS: usize = 16;
const MAX_BACKENDS: usize = 16;
const MAX_HEADER_OPERATIONS: usize = 16;

/// What a route is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A service (index into `Checker::services`).
    Service(usize),
    /// An ingress (index into `Checker::ingresses`).
    Ingress(usize),
}

/// What checking one route needs to know.
struct RouteCtx {
    /// The service or ingress, if it resolved.
    owner: Option<Owner>,
    /// The route's namespace.
    namespace: String,
    /// What the route compiles to.
    output: Output,
}

/// Where the clauses that interact with each other were written.
#[derive(Default)]
pub(crate) struct ClauseSpans {
    pub(crate) retry: Option<Span>,
    /// The `idempotent only` of the accepted retry clause.
    pub(crate) idempotent_only: Option<Span>,
    /// The `per try` of the accepted retry clause.
    pub(crate) per_try: Option<Span>,
    pub(crate) timeout: Option<Span>,
    pub(crate) backend_timeout: Option<Span>,
    pub(crate) fault: Option<Span>,
    pub(crate) mirror: Option<Span>,
    pub(crate) rewrite: Option<Span>,
    pub(crate) prefix_rewrite: Option<Span>,
    pub(crate) full_path_rewrite: Option<Span>,
    pub(crate) redirect: Option<Span>,
    /// The first `response ...` header operation.
    pub(crate) response_headers: Option<Span>,
    /// The last header operation, of either direction.
    pub(crate) header_ops: Option<Span>,
}

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// Checks one route rule: the rule and its service or ingress, unless that is unknown.
    pub(crate) fn route(
        &mut self,
        route: &ast::Route,
        namespace: Option<&str>,
    ) -> Option<(Owner, ir::RouteRule)> {
        let namespace = namespace?;
        let owner = self.resolve_owner(&route.service, namespace);
        let output = match owner {
            Some(Owner::Ingress(_)) => Output::http_route(self.options.channel),
            _ => self.service_output(),
        };
        let ctx = RouteCtx {
            owner,
            namespace: namespace.to_string(),
            output,
        };
        // An ingress that the target cannot express was reported: its routes are not checked.
        if matches!(owner, Some(Owner::Ingress(_)))
            && self.service_output().supports(Concept::Ingress).is_err()
        {
            return None;
        }
        self.checking_ingress_route = matches!(owner, Some(Owner::Ingress(_)));
        let errors_from = (self.sink.diagnostics.len(), self.repeated_reports);
        // Where routes cannot have conditions, the `when` is reported once, not each condition.
        if let (Some(first), Some(last)) = (route.matches.first(), route.matches.last()) {
            self.supported(Concept::Conditions, output, first.span.to(last.span));
        }
        let mut rule = ir::RouteRule {
            span: route.span,
            matches: route
                .matches
                .iter()
                .map(|alt| self.match_alt(alt, output))
                .collect(),
            ..ir::RouteRule::default()
        };
        if let Some(max) = output.max_matches() {
            if let Some(extra) = route.matches.get(max) {
                self.limit_of(
                    output.limits_name(),
                    extra.span,
                    "alternatives (`or`) in a route",
                    max,
                    "split the route into several routes with fewer alternatives each",
                );
            }
        }
        let mut seen = Seen::default();
        let mut spans = ClauseSpans::default();
        for clause in &route.clauses {
            self.clause(
                &clause.node,
                clause.span,
                &ctx,
                &mut rule,
                &mut seen,
                &mut spans,
            );
        }
        rule.destinations = self.destinations(route, &ctx, spans.redirect.is_some());
        self.rerouting(route, &ctx, &rule);
        if let (Output::LinkerdHttpRoute, Some(redirect), Some(headers)) =
            (ctx.output, spans.redirect, spans.response_headers)
        {
            // Linkerd changes responses only on the way back from a backend.
            self.sink.push(
                Diagnostic::new(
                    Code::E0401,
                    "a Linkerd redirect cannot change response headers",
                    headers,
                    "Linkerd sets response headers on a backend's responses, and a redirect has no backend",
                    "remove the response header operations, or use `--target istio`",
                )
                .with_secondary(redirect, "the route redirects here"),
            );
        }
        self.per_try_within_timeout(&rule, &spans);
        if ctx.output == Output::Resilience4j {
            self.resilience4j_time_limits(&rule, &spans);
        }
        if let (Output::LinkerdServiceProfile, Some(span)) = (ctx.output, spans.retry) {
            // Not on a route with an error: reported here, or at the same place (a `use`) by
            // an earlier route.
            let valid = self.repeated_reports == errors_from.1
                && !self.sink.diagnostics[errors_from.0..]
                    .iter()
                    .any(|d| d.is_error());
            if valid && rule.retry.as_ref().is_some_and(|retry| retry.attempts > 0) {
                self.sink.push(Diagnostic::new(
                    Code::W0112,
                    "a ServiceProfile cannot count retries",
                    span,
                    "Linkerd retries this route, but not a fixed number of times",
                    "accept it with `@allow(uncounted-retries)`, or use Linkerd's HTTPRoutes (drop `--linkerd-flavour service-profile`), which keep the count",
                ).with_note("a ServiceProfile only marks a route retryable; a retry budget for the whole service (by default 20% more requests) bounds the retries"));
            }
        }
        self.actions_agree(route, &ctx, &rule, &spans);
        // A route for an unknown service was reported; its lints would only add noise.
        if owner.is_some() {
            self.route_lints(route, &rule, &spans);
        }
        self.checking_ingress_route = false;
        if let (Some(span), true) = (spans.idempotent_only, rule.retry.is_some()) {
            if !super::lints::retries_some_method(&rule) {
                self.sink.push(Diagnostic::new(
                    Code::E0303,
                    "`idempotent only` leaves nothing to retry",
                    span,
                    "this route matches only methods that are not idempotent",
                    "remove the retry, or match idempotent methods too",
                ));
            }
        }
        // Split by method later, once canaries have set the destinations.
        rule.idempotent_only = spans.idempotent_only.is_some();
        owner.map(|owner| (owner, rule))
    }

    /// `retry ... idempotent only`: splits every such rule by method (see
    /// `lints::split_by_idempotence`), and checks Gateway API's limit on the result.
    pub(crate) fn split_idempotent_routes(&mut self)
    where
        D: std::ops::DerefMut,
    {
        let mut over = Vec::new();
        let service_output = self.service_output();
        let http_route = Output::http_route(self.options.channel);
        let decl = &mut *self.decl;
        let owners = decl
            .services
            .iter_mut()
            .map(|s| (&mut s.routes, service_output))
            .chain(
                decl.ingresses
                    .iter_mut()
                    .map(|i| (&mut i.routes, http_route)),
            );
        for (routes, output) in owners {
            if !routes.iter().any(|rule| rule.idempotent_only) {
                continue;
            }
            let rules = std::mem::take(routes);
            for rule in rules {
                if !rule.idempotent_only {
                    routes.push(rule);
                    continue;
                }
                let split = super::lints::split_by_idempotence(rule);
                if let Some(max) = output.max_matches() {
                    over.extend(
                        split
                            .iter()
                            .filter(|r| r.matches.len() > max)
                            .map(|r| (r.span, output, max)),
                    );
                }
                routes.extend(split);
            }
        }
        for (span, output, max) in over {
            self.limit_of(
                output.limits_name(),
                span,
                "alternatives in a route once `idempotent only` splits it by method",
                max,
                "split the route: each alternative becomes six (one per idempotent method)",
            );
        }
    }

    /// Resolves the service or ingress a route is for.
    fn resolve_owner(&mut self, name: &ast::Text, namespace: &str) -> Option<Owner> {
        if let Some(ingress) = self.decl.ingress_by_name.get(namespace, &name.node) {
            return Some(Owner::Ingress(ingress));
        }
        self.resolve_service(name, namespace).map(Owner::Service)
    }

    fn match_alt(&mut self, alt: &ast::MatchAlt, output: Output) -> ir::Match {
        let mut out = ir::Match::default();
        let mut seen = Seen::default();
        let gateway = output.is_http_route();
        let conditions = output.supports(Concept::Conditions).is_ok();
        for condition in &alt.conditions {
            if gateway {
                self.gateway_condition(&condition.node, condition.span, output);
            } else if conditions {
                self.condition_supported(&condition.node, condition.span, output);
            }
            match &condition.node {
                ast::Condition::Header { name, matcher } => {
                    self.name_rule(&name.node, name.span, "header name", names::header_name);
                    let matcher = self.string_match(matcher, "header");
                    if out.headers.contains_key(&name.node) {
                        self.twice(condition.span, &format!("header {}", name.node), alt.span);
                    } else if let Some(matcher) = matcher {
                        out.headers.insert(name.node.clone(), matcher);
                    }
                }
                ast::Condition::Query { name, matcher } => {
                    self.name_rule(
                        &name.node,
                        name.span,
                        "query parameter name",
                        names::header_name,
                    );
                    let matcher = self.string_match(matcher, "query parameter");
                    if out.query.contains_key(&name.node) {
                        self.twice(condition.span, &format!("query {}", name.node), alt.span);
                    } else if let Some(matcher) = matcher {
                        out.query.insert(name.node.clone(), matcher);
                    }
                }
                ast::Condition::Uri(matcher) => {
                    if seen.first(&mut self.sink, "uri", condition.span) {
                        out.uri = self.string_match(matcher, "uri");
                    }
                }
                ast::Condition::Method(matcher) => {
                    if seen.first(&mut self.sink, "method", condition.span) {
                        out.method = self.method(matcher);
                    }
                }
            }
        }
        if gateway {
            for (count, what) in [
                (out.headers.len(), "header conditions"),
                (out.query.len(), "query conditions"),
            ] {
                if count > MAX_CONDITIONS {
                    self.limit_of(
                        output.limits_name(),
                        alt.span,
                        &format!("{what} in one alternative"),
                        MAX_CONDITIONS,
                        "test fewer things in one alternative, or combine values with `regex`",
                    );
                }
            }
        }
        out
    }

    /// E0401 for a condition that an output other than an HTTPRoute cannot test (a
    /// ServiceProfile tests only methods and paths).
    fn condition_supported(&mut self, condition: &ast::Condition, span: Span, output: Output) {
        match condition {
            ast::Condition::Header { matcher, .. } | ast::Condition::Query { matcher, .. } => {
                if self.supported(Concept::HeaderQueryMatch, output, span)
                    && matcher.op == ast::MatchOp::Prefix
                {
                    let concept = match condition {
                        ast::Condition::Header { .. } => Concept::PrefixMatch,
                        _ => Concept::QueryPrefixMatch,
                    };
                    self.supported(concept, output, span);
                }
                // Consul needs a value in every header and query matcher.
                if output == Output::Consul
                    && matcher.op != ast::MatchOp::Regex
                    && matcher.value.node.is_empty()
                {
                    self.sink.push(Diagnostic::new(
                        Code::E0202,
                        "an empty value cannot be matched by Consul",
                        matcher.value.span,
                        "empty",
                        "Consul needs a value to compare with: remove the condition, or use `regex \"^$\"`",
                    ));
                }
            }
            ast::Condition::Method(matcher) if matcher.op != ast::MatchOp::Exact => {
                self.supported(Concept::MethodPattern, output, span);
            }
            // Consul takes paths that start with `/`, and no empty value.
            ast::Condition::Uri(matcher)
                if output == Output::Consul
                    && matcher.op != ast::MatchOp::Regex
                    && !matcher.value.node.starts_with('/') =>
            {
                self.sink.push(Diagnostic::new(
                    Code::E0207,
                    format!("invalid path {:?}", matcher.value.node),
                    matcher.value.span,
                    "a path must start with `/`",
                    "Consul matches absolute paths: write `/` first",
                ));
            }
            // Linkerd reads an empty `pathRegex` as no condition at all.
            ast::Condition::Uri(matcher)
                if output == Output::LinkerdServiceProfile
                    && matcher.op == ast::MatchOp::Exact
                    && matcher.value.node.is_empty() =>
            {
                self.sink.push(Diagnostic::new(
                    Code::E0202,
                    "an empty path cannot be matched in a ServiceProfile",
                    matcher.value.span,
                    "empty",
                    "paths start with `/`: match `uri prefix \"/\"` for every path",
                ));
            }
            ast::Condition::Method(_) | ast::Condition::Uri(_) => {}
        }
    }

    /// What an HTTPRoute cannot match: prefixes on headers and query parameters, method
    /// patterns, invalid paths, empty values.
    fn gateway_condition(&mut self, condition: &ast::Condition, span: Span, output: Output) {
        // Gateway API's limits: header values 4096 characters, query values 1024.
        let max_value = if matches!(condition, ast::Condition::Query { .. }) {
            1024
        } else {
            4096
        };
        let (matcher, is_uri) = match condition {
            ast::Condition::Header { matcher, .. } => {
                if matcher.op == ast::MatchOp::Prefix {
                    self.supported(Concept::PrefixMatch, output, span);
                }
                (matcher, false)
            }
            ast::Condition::Query { matcher, .. } => {
                if matcher.op == ast::MatchOp::Prefix {
                    self.supported(Concept::QueryPrefixMatch, output, span);
                }
                (matcher, false)
            }
            ast::Condition::Method(matcher) => {
                if matcher.op != ast::MatchOp::Exact {
                    self.supported(Concept::MethodPattern, output, span);
                }
                (matcher, false)
            }
            ast::Condition::Uri(matcher) => (matcher, true),
        };
        let value = &matcher.value;
        if is_uri && matcher.op != ast::MatchOp::Regex {
            if let Err(reason) = names::gateway_path(&value.node) {
                self.sink.push(Diagnostic::new(
                    Code::E0207,
                    format!("invalid path {:?}", value.node),
                    value.span,
                    format!("a path {reason}"),
                    "Gateway API matches only absolute, normalised paths (RFC 3986 characters, `%XX` escapes)",
                ));
            }
        } else if !is_uri && value.node.len() > max_value {
            self.sink.push(Diagnostic::new(
                Code::E0202,
                format!("a value to match is limited to {max_value} characters in an HTTPRoute"),
                value.span,
                format!("{} characters", value.node.len()),
                "shorten it, or match a shorter part with `regex`",
            ));
        } else if !is_uri && matcher.op == ast::MatchOp::Exact && value.node.is_empty() {
            self.sink.push(Diagnostic::new(
                Code::E0202,
                "an empty value cannot be matched in an HTTPRoute",
                value.span,
                "empty",
                "Gateway API values are at least one character: remove the condition, or use `regex \"^$\"`",
            ));
        }
    }

    /// Reports a condition given twice in one alternative.
    fn twice(&mut self, span: Span, what: &str, alt: Span) {
        self.sink.push(
            Diagnostic::new(
                Code::E0304,
                format!("`{what}` is tested twice in one alternative"),
                span,
                "tested again here",
                "conditions joined by `and` must test different things; use `or` for alternatives",
            )
            .with_secondary(alt, "in this alternative"),
        );
    }

    pub(crate) fn string_match(
        &mut self,
        matcher: &ast::StringMatch,
        what: &str,
    ) -> Option<ir::StringMatch> {
        let value = &matcher.value;
        let empty = |sink: &mut super::Sink, message: String, help: &str| {
            sink.push(Diagnostic::new(
                Code::E0202,
                message,
                value.span,
                "empty",
                help,
            ));
            None
        };
        match matcher.op {
            ast::MatchOp::Exact => Some(ir::StringMatch::Exact(value.node.clone())),
            ast::MatchOp::Prefix if value.node.is_empty() && what != "uri" => empty(
                &mut self.sink,
                format!("a {what} prefix cannot be empty"),
                "Istio rejects an empty prefix: remove the condition to match every value",
            ),
            ast::MatchOp::Prefix => Some(ir::StringMatch::Prefix(value.node.clone())),
            ast::MatchOp::Regex if value.node.is_empty() => empty(
                &mut self.sink,
                format!("a {what} regex cannot be empty"),
                "write a regular expression (RE2 syntax), or remove the condition",
            ),
            ast::MatchOp::Regex if value.node.len() > 1024 => {
                self.sink.push(Diagnostic::new(
                    Code::E0202,
                    format!("a {what} regex is limited to 1024 characters"),
                    value.span,
                    format!("{} characters", value.node.len()),
                    "Istio rejects longer regular expressions: simplify it",
                ));
                None
            }
            ast::MatchOp::Regex => {
                // Envoy compiles regular expressions with RE2; regex-syntax accepts the same
                // language (no look-around, no back-references).
                let reason = match regex_syntax::Parser::new().parse(&value.node) {
                    Err(regex_syntax::Error::Parse(e)) => Some(e.kind().to_string()),
                    Err(regex_syntax::Error::Translate(e)) => Some(e.kind().to_string()),
                    Err(error) => Some(error.to_string()),
                    Ok(_) => regex_syntax::ast::parse::Parser::new()
                        .parse(&value.node)
                        .ok()
                        .and_then(|ast| re2_only(&ast)),
                };
                if let Some(reason) = reason {
                    self.sink.push(Diagnostic::new(
                        Code::E0307,
                        format!("invalid regular expression: {reason}"),
                        value.span,
                        "RE2 cannot compile this",
                        "Envoy uses RE2 syntax (https://github.com/google/re2/wiki/Syntax): no look-around and no back-references",
                    ));
                    return None;
                }
                Some(ir::StringMatch::Regex(value.node.clone()))
            }
        }
    }

    fn method(&mut self, matcher: &ast::StringMatch) -> Option<ir::StringMatch> {
        if matcher.op == ast::MatchOp::Exact && !METHODS.contains(&matcher.value.node.as_str()) {
            let value = &matcher.value;
            let upper = value.node.to_ascii_uppercase();
            let help = match did_you_mean(&upper, METHODS) {
                Some(near) => format!("did you mean `{near}`? methods are upper case"),
                None => format!("methods are {}", METHODS.join(", ")),
            };
            self.sink.push(Diagnostic::new(
                Code::E0206,
                format!("unknown HTTP method `{}`", value.node),
                value.span,
                "not an HTTP method",
                help,
            ));
            return None;
        }
        self.string_match(matcher, "method")
    }

    /// Resolves a destination: a subset of the route's own service, a service (of the route's
    /// namespace, or of another with `ns/`), or `service.subset`. Checks what the route's
    /// output needs of it: no subsets in HTTPRoutes, a port for HTTPRoute backends, and a
    /// ReferenceGrant (noted) for a backend in another namespace.
    fn resolve_destination(
        &mut self,
        target: &ast::DestRef,
        ctx: &RouteCtx,
    ) -> Option<(ir::ServiceRef, Option<String>)> {
        // A route for an unknown service or ingress was reported already: its destinations
        // are not looked at, lest one mistake become several.
        ctx.owner?;
        let namespace = target
            .namespace
            .as_ref()
            .map_or(ctx.namespace.clone(), |n| n.node.clone());
        let own = match ctx.owner {
            Some(Owner::Service(service)) if namespace == ctx.namespace => Some(service),
            _ => None,
        };
        // Where service routes cannot use subsets, every subset declaration is already reported (E0401):
        // its uses in service routes are not reported again.
        let gamma = matches!(ctx.owner, Some(Owner::Service(_)))
            && ctx.output.supports(Concept::Subsets).is_err();
        let (service, subset) = if let Some(subset) = &target.second {
            let service = self.resolve_service(&target.first, &namespace)?;
            if gamma || !self.supported(Concept::Subsets, ctx.output, subset.span) {
                return None;
            }
            (service, Some(self.resolve_subset(subset, service, false)?))
        } else {
            let name = &target.first.node;
            let own_subset = own.filter(|&service| {
                self.decl.services[service]
                    .subsets
                    .iter()
                    .any(|s| &s.name == name)
            });
            let other = self.service_index(&namespace, name);
            match (own_subset, other) {
                (Some(service), Some(other)) if other != service => {
                    self.ambiguous(target, service, other);
                    return None;
                }
                (Some(service), _) => {
                    if gamma || !self.supported(Concept::Subsets, ctx.output, target.span) {
                        return None;
                    }
                    (service, Some(name.clone()))
                }
                (None, Some(other)) => (other, None),
                (None, None) => {
                    // Neither: report it as what it most likely is.
                    match own {
                        Some(service) => {
                            self.resolve_subset(&target.first, service, true);
                        }
                        None => {
                            self.resolve_service(&target.first, &namespace);
                        }
                    }
                    return None;
                }
            }
        };
        let service_ref = self.service_ref(service);
        if ctx.output.is_http_route() {
            self.backend(target, &service_ref, service, ctx)?;
        }
        Some((service_ref, subset))
    }

    /// What an HTTPRoute backend needs: a port (E0405), and a ReferenceGrant when it is in
    /// another namespace (N0001, once per route namespace and service).
    fn backend(
        &mut self,
        target: &ast::DestRef,
        backend: &ir::ServiceRef,
        service: usize,
        ctx: &RouteCtx,
    ) -> Option<()> {
        if backend.host != ir::cluster_host(&backend.name, &backend.namespace) {
            self.sink.push(
                super::not_a_service(
                    &backend.name,
                    &backend.host,
                    target.span,
                    "an HTTPRoute sends traffic to Services by name: route to the Service in front of it, or compile this route for Istio (`--target istio`, service routes only)",
                )
                .with_secondary(self.decl.services[service].span, "declared with its own `host`"),
            );
            return None;
        }
        if backend.port.is_none() {
            self.sink.push(
                Diagnostic::new(
                    Code::E0405,
                    format!("service `{}` has no port", backend.name),
                    target.span,
                    "an HTTPRoute backend needs the service's port",
                    format!(
                        "declare it in the service: `port 8080` in `service {}`",
                        backend.name
                    ),
                )
                .with_secondary(self.decl.services[service].span, "service declared here"),
            );
            return None;
        }
        let key = (
            ctx.namespace.clone(),
            backend.namespace.clone(),
            backend.name.clone(),
        );
        if backend.namespace != ctx.namespace && !self.granted.contains_key(&key) {
            let note = self.sink.push_kept(Diagnostic::new(
                Code::N0001,
                format!(
                    "a ReferenceGrant in namespace `{}` lets HTTPRoutes of `{}` reach `{}`",
                    backend.namespace, ctx.namespace, backend.name
                ),
                target.span,
                "a backend in another namespace",
                "nothing to do: meshc emits the ReferenceGrant with the routes; apply them together",
            ));
            self.granted.insert(key, note);
        }
        Some(())
    }

    /// E0104: a bare name that is both a subset of the route's service and another service.
    fn ambiguous(&mut self, target: &ast::DestRef, service: usize, other: usize) {
        let name = &target.first.node;
        let service_name = self.decl.services[service].name.clone();
        let mut diagnostic = Diagnostic::new(
            Code::E0104,
            format!("`{name}` is both a subset of `{service_name}` and a service"),
            target.span,
            "ambiguous destination",
            format!("write `{service_name}.{name}` for the subset, or rename one of them"),
        )
        .with_secondary(self.decl.services[other].span, "the service");
        let subsets = &self.decl.services[service].subsets;
        if let Some(subset) = subsets.iter().find(|s| &s.name == name) {
            diagnostic = diagnostic.with_secondary(subset.span, "the subset");
        }
        self.sink.push(diagnostic);
    }

    /// Looks a subset up on a service; reports E0102 with did-you-mean if it is not there.
    ///
    /// With `bare`, the name could also have been a service, so services are suggested too.
    pub(crate) fn resolve_subset(
        &mut self,
        subset: &ast::Text,
        service: usize,
        bare: bool,
    ) -> Option<String> {
        let svc = &self.decl.services[service];
        if svc.subsets.iter().any(|s| s.name == subset.node) {
            return Some(subset.node.clone());
        }
        let mut candidates: Vec<&str> = svc.subsets.iter().map(|s| s.name.as_str()).collect();
        if bare {
            candidates.extend(
                self.decl
                    .services
                    .iter()
                    .filter(|s| s.namespace == svc.namespace)
                    .map(|s| s.name.as_str()),
            );
        }
        let help = match did_you_mean(&subset.node, candidates.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None if svc.subsets.is_empty() => format!(
                "declare it in `service {}`, e.g. `subset {} (version = {})`",
                svc.name, subset.node, subset.node
            ),
            None => format!(
                "`{}` has {} {}; declare `{}` there to route to it",
                svc.name,
                if svc.subsets.len() == 1 {
                    "subset"
                } else {
                    "subsets"
                },
                svc.subsets
                    .iter()
                    .map(|s| format!("`{}`", s.name))
                    .collect::<Vec<_>>()
                    .join(", "),
                subset.node
            ),
        };
        let diagnostic = Diagnostic::new(
            Code::E0102,
            format!("unknown subset `{}` of service `{}`", subset.node, svc.name),
            subset.span,
            "no such subset or service",
            help,
        )
        .with_secondary(svc.span, "service declared here")
        .with_note("Istio accepts this, then answers every request routed here with 503 (istioctl analyze: IST0101)");
        self.sink.push(diagnostic);
        None
    }

    /// E0401 for a service route that sends its service's requests elsewhere (another service,
    /// or several destinations), where the output cannot route at all.
    fn rerouting(&mut self, route: &ast::Route, ctx: &RouteCtx, rule: &ir::RouteRule) {
        let (Some(Owner::Service(service)), Some(first), Some(last)) = (
            ctx.owner,
            route.destinations.first(),
            route.destinations.last(),
        ) else {
            return;
        };
        if ctx.output.supports(Concept::Rerouting).is_ok() {
            return;
        }
        let own = self.service_ref(service);
        let elsewhere = route.destinations.len() > 1
            || rule
                .destinations
                .iter()
                .any(|d| d.service != own || d.subset.is_some());
        if elsewhere {
            self.supported(Concept::Rerouting, ctx.output, first.span.to(last.span));
        }
    }

    /// The route's destinations. Without `->`, a service route goes to the service itself
    /// (unless it redirects); an ingress route must redirect (checked in `actions_agree`).
    fn destinations(
        &mut self,
        route: &ast::Route,
        ctx: &RouteCtx,
        redirects: bool,
    ) -> Vec<ir::Destination> {
        if route.destinations.is_empty() {
            let Some(Owner::Service(service)) = ctx.owner else {
                return Vec::new();
            };
            if redirects {
                return Vec::new();
            }
            let service_ref = self.service_ref(service);
            if ctx.output.is_http_route() && service_ref.port.is_none() {
                let target = ast::DestRef {
                    namespace: None,
                    first: route.service.clone(),
                    second: None,
                    span: route.service.span,
                };
                self.backend(&target, &service_ref, service, ctx);
            }
            return vec![ir::Destination {
                service: service_ref,
                subset: None,
                weight: None,
            }];
        }
        if ctx.output.is_http_route() && route.destinations.len() > MAX_BACKENDS {
            self.limit_of(
                ctx.output.limits_name(),
                route.destinations[MAX_BACKENDS].span,
                "destinations in a route",
                MAX_BACKENDS,
                "send one route's traffic to at most 16 services",
            );
        }
        let mut out = Vec::with_capacity(route.destinations.len());
        let mut total = 0.0;
        let weighted = route
            .destinations
            .iter()
            .filter(|d| d.weight.is_some())
            .count();
        let mut weights_accepted = 0;
        for dest in &route.destinations {
            let weight = dest
                .weight
                .as_ref()
                .and_then(|w| self.sink.percent(w, "a weight", true));
            if let Some(weight) = weight {
                total += weight;
                weights_accepted += 1;
            }
            if let Some((service, subset)) = self.resolve_destination(&dest.target, ctx) {
                out.push(ir::Destination {
                    service,
                    subset,
                    weight: weight.map(|w| w as u32),
                });
            }
        }
        // The total is only meaningful when every weight was accepted.
        let all_valid = weights_accepted == route.destinations.len();
        let several = route.destinations.len() > 1;
        if several && weighted != route.destinations.len() {
            let missing = route
                .destinations
                .iter()
                .find(|d| d.weight.is_none())
                .map(|d| d.span);
            if let Some(span) = missing {
                self.sink.push(Diagnostic::new(
                    Code::E0302,
                    "with several destinations, each needs a percentage",
                    span,
                    "no percentage",
                    "give every destination its share, e.g. `-> v1 90%, v2 10%`",
                ));
            }
        } else if weighted > 0 && all_valid && total != 100.0 {
            let first = route.destinations[0].span;
            let last = route.destinations[route.destinations.len() - 1].span;
            self.sink.push(Diagnostic::new(
                Code::E0301,
                format!("the destinations' percentages total {total}%, not 100%"),
                first.to(last),
                format!("{total}% in all"),
                "make the percentages add up to exactly 100%",
            ));
        }
        out
    }

    fn clause(
        &mut self,
        clause: &Clause,
        span: Span,
        ctx: &RouteCtx,
        rule: &mut ir::RouteRule,
        seen: &mut Seen,
        spans: &mut ClauseSpans,
    ) {
        let output = ctx.output;
        match clause {
            Clause::Retry(retry) => {
                if seen.first(&mut self.sink, "retry", span)
                    && self.supported(Concept::Retries, output, span)
                {
                    rule.retry = self.retry(retry, output);
                    spans.retry = Some(span);
                    spans.idempotent_only = retry
                        .idempotent_only
                        .first()
                        .copied()
                        .filter(|_| output.supports(Concept::IdempotentOnly).is_ok());
                    spans.per_try = retry.per_try.first().map(|l| l.span);
                }
            }
            Clause::Timeout(timeout) => {
                if seen.first(&mut self.sink, "timeout", span) {
                    rule.timeout = self.timeout(timeout, "the timeout", output);
                    spans.timeout = Some(timeout.span);
                }
            }
            Clause::BackendTimeout(timeout) => {
                if seen.first(&mut self.sink, "backend timeout", span)
                    && self.supported(Concept::BackendTimeout, output, span)
                {
                    rule.backend_timeout = self.timeout(timeout, "the backend timeout", output);
                    spans.backend_timeout = Some(timeout.span);
                }
            }
            Clause::FaultDelay { delay, percent } => {
                if seen.first(&mut self.sink, "fault delay", span)
                    && self.supported(Concept::FaultDelay, output, span)
                {
                    let delay = self.sink.duration(delay, "the delay");
                    let percent = self.sink.fault_percent(percent, "the delayed share");
                    rule.fault.delay = delay.zip(percent);
                    spans.fault = Some(span);
                }
            }
            Clause::FaultAbort { status, percent } => {
                if seen.first(&mut self.sink, "fault abort", span)
                    && self.supported(Concept::FaultAbort, output, span)
                {
                    let status = self.abort_status(status);
                    let percent = self.sink.fault_percent(percent, "the aborted share");
                    rule.fault.abort = status.zip(percent);
                    spans.fault = Some(span);
                }
            }
            Clause::Mirror { target, percent } => {
                if seen.first(&mut self.sink, "mirror", span)
                    && self.supported(Concept::Mirroring, output, span)
                {
                    spans.mirror = Some(span);
                    let percent = self.sink.percent(percent, "the mirrored share", false);
                    let target = self.resolve_destination(target, ctx);
                    if let (Some((service, subset)), Some(percent)) = (target, percent) {
                        rule.mirror = Some(Box::new(ir::Mirror {
                            service,
                            subset,
                            percent,
                        }));
                    }
                }
            }
            Clause::Rewrite { what, value } => {
                let (name, slot_is_path) = match what.node {
                    ast::RewriteWhat::Prefix | ast::RewriteWhat::Path => {
                        ("rewrite of the path", true)
                    }
                    ast::RewriteWhat::Authority => ("rewrite authority", false),
                };
                if !seen.first(&mut self.sink, name, span)
                    || !self.supported(Concept::Rewrites, output, span)
                    || (what.node != ast::RewriteWhat::Prefix
                        && !self.supported(Concept::FullRewrites, output, span))
                {
                    return;
                }
                spans.rewrite = Some(span);
                if !slot_is_path {
                    if self.name_rule(&value.node, value.span, "host name", names::dns_subdomain) {
                        rule.rewrite.authority = Some(value.node.clone());
                    }
                    return;
                }
                if !self.path_value(value, output) {
                    return;
                }
                if what.node == ast::RewriteWhat::Prefix {
                    spans.prefix_rewrite = Some(span);
                    rule.rewrite.path = Some(ir::PathRewrite::Prefix(value.node.clone()));
                } else {
                    spans.full_path_rewrite = Some(span);
                    rule.rewrite.path = Some(ir::PathRewrite::Full(value.node.clone()));
                }
            }
            Clause::Redirect(parts) => {
                if seen.first(&mut self.sink, "redirect", span) {
                    // Even where rejected, the rule has no destinations of its own.
                    spans.redirect = Some(span);
                    if self.supported(Concept::Redirects, output, span) {
                        rule.redirect = Some(Box::new(self.redirect(parts, spans, output)));
                    }
                }
            }
            // Expanded before checking (crate::modules).
            Clause::Use(_) => {}
            Clause::Headers { dir, op } => {
                let first = spans.header_ops.replace(span).is_none();
                if output.supports(Concept::HeaderOps).is_err() {
                    // Reported once per route.
                    if first {
                        self.supported(Concept::HeaderOps, output, span);
                    }
                    return;
                }
                if dir.node == ast::HeaderDir::Response {
                    spans.response_headers.get_or_insert(span);
                }
                let ops = match dir.node {
                    ast::HeaderDir::Request => &mut rule.request_headers,
                    ast::HeaderDir::Response => &mut rule.response_headers,
                };
                self.header_op(dir.node, op, ops.get_or_insert_default(), output);
            }
        }
    }

    /// A path or prefix that a rewrite or redirect puts in place: not empty (Istio reads an
    /// empty one as "no rewrite", Gateway API as "remove the prefix": they would disagree),
    /// and at most 1024 characters in an HTTPRoute.
    fn path_value(&mut self, value: &ast::Text, output: Output) -> bool {
        if value.node.is_empty() {
            self.sink.push(Diagnostic::new(
                Code::E0202,
                "an empty path cannot be put in place",
                value.span,
                "empty",
                "to remove the matched prefix, replace it with `\"/\"`",
            ));
            return false;
        }
        if output.is_http_route() && value.node.len() > 1024 {
            self.sink.push(Diagnostic::new(
                Code::E0202,
                "a path is limited to 1024 characters in an HTTPRoute",
                value.span,
                format!("{} characters", value.node.len()),
                "shorten it",
            ));
            return false;
        }
        true
    }

    /// A duration for a timeout; HTTPRoutes also need it in Gateway API's syntax.
    fn timeout(
        &mut self,
        literal: &ast::Literal,
        what: &str,
        output: Output,
    ) -> Option<ir::Duration> {
        let duration = self.sink.duration(literal, what)?;
        if output.is_http_route() && duration.gep2257().is_none() {
            self.sink.push(Diagnostic::new(
                Code::E0204,
                format!("{what} is too long for Gateway API"),
                literal.span,
                "over 99999 hours",
                "Gateway API durations are at most 99999h: write a shorter one",
            ));
            return None;
        }
        Some(duration)
    }

    /// `redirect scheme ... host ... port ... path|prefix ... status ...`.
    fn redirect(
        &mut self,
        parts: &[Spanned<ast::RedirectPart>],
        spans: &mut ClauseSpans,
        output: Output,
    ) -> ir::Redirect {
        let mut out = ir::Redirect::default();
        let mut seen = Seen::default();
        for part in parts {
            let what = match part.node {
                ast::RedirectPart::Scheme(_) => "scheme",
                ast::RedirectPart::Host(_) => "host",
                ast::RedirectPart::Port(_) => "port",
                ast::RedirectPart::Path(_) | ast::RedirectPart::Prefix(_) => "path or prefix",
                ast::RedirectPart::Status(_) => "status",
            };
            if !seen.first(&mut self.sink, what, part.span) {
                continue;
            }
            match &part.node {
                ast::RedirectPart::Scheme(scheme) => {
                    out.scheme = self
                        .sink
                        .keyword(
                            scheme,
                            "the redirect scheme",
                            &[("http", "http"), ("https", "https")],
                        )
                        .map(str::to_string);
                }
                ast::RedirectPart::Host(host) => {
                    if self.name_rule(&host.node, host.span, "host name", names::dns_subdomain) {
                        out.host = Some(host.node.clone());
                    }
                }
                ast::RedirectPart::Port(port) => {
                    out.port = self
                        .sink
                        .count(port, 1, 65535, "a port", "ports are 1 to 65535")
                        .map(|p| p as u16);
                }
                ast::RedirectPart::Path(path) => {
                    if self.path_value(path, output) {
                        out.path = Some(ir::PathRewrite::Full(path.node.clone()));
                    }
                }
                ast::RedirectPart::Prefix(prefix) => {
                    spans.prefix_rewrite = Some(part.span);
                    if self.path_value(prefix, output) {
                        out.path = Some(ir::PathRewrite::Prefix(prefix.node.clone()));
                    }
                }
                ast::RedirectPart::Status(status) => {
                    let code = self.sink.count(
                        status,
                        301,
                        308,
                        "the redirect status",
                        "redirects use 301, 302, 303, 307 or 308",
                    );
                    match code {
                        Some(code @ (303 | 307 | 308)) if output == Output::LinkerdHttpRoute => {
                            self.sink.push(Diagnostic::new(
                                Code::E0202,
                                format!("Linkerd does not redirect with status {code}"),
                                status.span,
                                "Linkerd's HTTPRoute accepts 301 or 302",
                                "use 301 (permanent) or 302 (temporary)",
                            ))
                        }
                        Some(code @ (301 | 302 | 303 | 307 | 308)) => out.status = Some(code as u16),
                        Some(code) => self.sink.push(Diagnostic::new(
                            Code::E0202,
                            format!("{code} is not a redirect status Gateway API and Istio both accept"),
                            status.span,
                            "not 301, 302, 303, 307 or 308",
                            "use 301 or 308 (permanent), 302 or 307 (temporary), or 303 (see other)",
                        )),
                        None => {}
                    }
                }
            }
        }
        out
    }

    fn header_op(
        &mut self,
        dir: ast::HeaderDir,
        op: &ast::HeaderOp,
        ops: &mut ir::HeaderOps,
        output: Output,
    ) {
        let name_ok = |checker: &mut Checker<'_, D>, name: &ast::Text| {
            if !checker.name_rule(&name.node, name.span, "header name", names::header_name) {
                return false;
            }
            let lower = name.node.to_ascii_lowercase();
            let setting = matches!(op, ast::HeaderOp::Set(..) | ast::HeaderOp::Add(..));
            let host_allowed = dir == ast::HeaderDir::Request && setting;
            if lower == "host" && !host_allowed {
                checker.sink.push(Diagnostic::new(
                    Code::E0205,
                    "the `host` header cannot be changed here",
                    name.span,
                    "Istio rejects this header operation",
                    "use `rewrite authority \"...\"` to change the host of requests",
                ));
                return false;
            }
            true
        };
        let value_ok = |checker: &mut Checker<'_, D>, value: &ast::Text| {
            if let Some(at) = value.node.find("${") {
                let end = value.node[at..]
                    .find('}')
                    .map_or(value.node.len(), |e| at + e + 1);
                let template = &value.node[at..end];
                let (note, help) = if !output.is_http_route() {
                    (
                        "neither Istio nor Kubernetes expands `${...}` in header values",
                        "Envoy substitutes `%VARIABLE%` forms: for a per-request ID use `%REQ(x-request-id)%`",
                    )
                } else {
                    (
                        "Gateway API has no templating: header values are sent as written",
                        "for a request ID, remove the header: the mesh already sets `x-request-id` on every request",
                    )
                };
                checker.sink.push(
                    Diagnostic::new(
                        Code::W0004,
                        format!("`{template}` is sent literally"),
                        value.span,
                        "not a template: every request gets these exact characters",
                        help,
                    )
                    .with_note(note),
                );
            }
            checker.name_rule(&value.node, value.span, "header value", names::header_value)
        };
        match op {
            ast::HeaderOp::Set(name, value) | ast::HeaderOp::Add(name, value) => {
                let target = if matches!(op, ast::HeaderOp::Set(..)) {
                    &mut ops.set
                } else {
                    &mut ops.add
                };
                let ok = name_ok(self, name) & value_ok(self, value);
                if ok {
                    // Header names are case-insensitive.
                    if target.keys().any(|k| k.eq_ignore_ascii_case(&name.node)) {
                        self.sink.push(Diagnostic::new(
                            Code::E0304,
                            format!(
                                "header `{}` is given twice in the same operation",
                                name.node
                            ),
                            name.span,
                            "given again here",
                            "keep one value per header and operation",
                        ));
                    } else if output.is_http_route() && target.len() == MAX_HEADER_OPERATIONS {
                        self.limit_of(
                            output.limits_name(),
                            name.span,
                            "headers set or added by one operation",
                            MAX_HEADER_OPERATIONS,
                            "set or add at most 16 headers of each kind in one route",
                        );
                    } else {
                        target.insert(name.node.clone(), value.node.clone());
                    }
                }
            }
            ast::HeaderOp::Remove(headers) => {
                for name in headers {
                    if ops
                        .remove
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(&name.node))
                    {
                        self.sink.push(Diagnostic::new(
                            Code::E0304,
                            format!("header `{}` is removed twice", name.node),
                            name.span,
                            "given again here",
                            "remove each header once",
                        ));
                    } else if output.is_http_route() && ops.remove.len() == MAX_HEADER_OPERATIONS {
                        self.limit_of(
                            output.limits_name(),
                            name.span,
                            "headers removed by one operation",
                            MAX_HEADER_OPERATIONS,
                            "remove at most 16 headers in one route",
                        );
                    } else if name_ok(self, name) {
                        ops.remove.push(name.node.clone());
                    }
                }
            }
        }
    }

    fn abort_status(&mut self, status: &ast::AbortStatus) -> Option<ir::AbortStatus> {
        match status {
            ast::AbortStatus::Http(code) => self
                .sink
                .count(
                    code,
                    200,
                    599,
                    "the abort status",
                    "an injected abort returns an HTTP status from 200 to 599",
                )
                .map(|code| ir::AbortStatus::Http(code as u16)),
            ast::AbortStatus::Grpc(name) => {
                if GRPC_STATUSES.contains(&name.node.as_str()) {
                    return Some(ir::AbortStatus::Grpc(name.node.clone()));
                }
                let upper = name.node.to_ascii_uppercase().replace('-', "_");
                let help = match did_you_mean(&upper, GRPC_STATUSES) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("gRPC statuses are {}", GRPC_STATUSES.join(", ")),
                };
                self.sink.push(Diagnostic::new(
                    Code::E0206,
                    format!("unknown gRPC status `{}`", name.node),
                    name.span,
                    "not a gRPC status name",
                    help,
                ));
                None
            }
        }
    }

    fn retry(&mut self, retry: &ast::Retry, output: Output) -> Option<ir::Retry> {
        let attempts = if output == Output::LinkerdHttpRoute {
            self.sink.count(
                &retry.attempts,
                0,
                u64::from(u16::MAX),
                "the number of retries",
                "Linkerd counts retries up to 65535: `retry 0` (or no `retry`) turns them off",
            )
        } else if output == Output::LinkerdServiceProfile {
            self.sink.count(
                &retry.attempts,
                0,
                i32::MAX as u64,
                "the number of retries",
                "a ServiceProfile only marks a route retryable: `retry 0` (or no `retry`) turns retries off",
            )
        } else if output == Output::Resilience4j {
            // `maxAttempts` (retries + 1) is a Java `int`.
            self.sink.count(
                &retry.attempts,
                0,
                i32::MAX as u64 - 1,
                "the number of retries",
                "Resilience4j counts calls in a Java `int`: `retry 0` makes one call",
            )
        } else if output.is_http_route() {
            self.sink.count(
                &retry.attempts,
                1,
                i32::MAX as u64,
                "the number of retries",
                "Gateway API retries at least once: to turn retries off, remove the `retry` clause",
            )
        } else {
            self.sink.count(
                &retry.attempts,
                0,
                i32::MAX as u64,
                "the number of retries",
                "retries are counted after the first try: `retry 0` turns Istio's default retries off",
            )
        };
        let per_try_timeout = self
            .sink
            .single(&retry.per_try, "per try", |l| l.span)
            .filter(|t| self.supported(Concept::PerTryTimeout, output, t.span))
            .and_then(|t| self.sink.duration(t, "the per-try timeout"));
        let remote_localities = self
            .sink
            .single(&retry.remote_localities, "remote localities", |l| l.span)
            .filter(|l| self.supported(Concept::RetryLocalities, output, l.span))
            .and_then(|l| self.sink.switch(l, "`remote localities`"));
        self.sink
            .single(&retry.idempotent_only, "idempotent only", |s| *s)
            .map(|&span| self.supported(Concept::IdempotentOnly, output, span));
        let mut on: Vec<String> = Vec::with_capacity(retry.on.len());
        let mut on_spans: Vec<Span> = Vec::new();
        // Where retries cannot be told what to retry on, the list is reported once.
        let choose = match (retry.on.first(), retry.on.last()) {
            (Some(first), Some(last)) => {
                self.supported(Concept::RetryConditions, output, first.span.to(last.span))
            }
            _ => true,
        };
        for condition in retry.on.iter().filter(|_| choose) {
            let Some(canonical) = self.retry_condition(condition) else {
                continue;
            };
            if !self.retry_condition_on(&canonical, condition.span, output) {
                continue;
            }
            if let Some(index) = on.iter().position(|c| *c == canonical) {
                self.sink.push(
                    Diagnostic::new(
                        Code::E0304,
                        format!("retry condition `{canonical}` is given twice"),
                        condition.span,
                        "given again here",
                        "list each condition once",
                    )
                    .with_secondary(on_spans[index], "first given here"),
                );
                continue;
            }
            on.push(canonical);
            on_spans.push(condition.span);
        }
        if retry.on.is_empty() && attempts.is_some_and(|n| n > 0) {
            self.supported(Concept::DefaultRetryConditions, output, retry.attempts.span);
        }
        if attempts == Some(0) {
            let extra = retry
                .per_try
                .first()
                .map(|l| l.span)
                .or(retry.on.first().map(|c| c.span))
                .or(retry.remote_localities.first().map(|l| l.span))
                .or(retry.idempotent_only.first().copied());
            if let Some(extra) = extra {
                self.sink.push(
                    Diagnostic::new(
                        Code::E0303,
                        "retry settings on a route with zero retries",
                        extra,
                        "has no effect with `retry 0`",
                        "either retry at least once, or write only `retry 0` to turn retries off",
                    )
                    .with_secondary(retry.attempts.span, "retries turned off here"),
                );
                return None;
            }
        }
        Some(ir::Retry {
            attempts: attempts?,
            per_try_timeout,
            on,
            remote_localities,
        })
    }

    /// Whether `output` can retry on a (canonical) condition; reports E0401 or E0203 if not.
    /// HTTPRoutes retry on status codes 400–599 only; Linkerd also on `5xx` and `gateway-error`.
    fn retry_condition_on(&mut self, condition: &str, span: Span, output: Output) -> bool {
        let Ok(code) = condition.parse::<u16>() else {
            return self.supported(Concept::RetryPolicies, output, span)
                && match condition {
                    "5xx" => true,
                    "gateway-error" => self.supported(Concept::RetryStatusCodes, output, span),
                    "reset-before-request"
                    | "retriable-status-codes"
                    | "retriable-headers"
                    | "http3-post-connect-failure" => {
                        self.supported(Concept::ConnectionRetryPolicies, output, span)
                            && self.supported(Concept::EnvoyRetryConditions, output, span)
                    }
                    _ => self.supported(Concept::ConnectionRetryPolicies, output, span),
                };
        };
        if !self.supported(Concept::RetryStatusCodes, output, span) {
            return false;
        }
        if !output.is_http_route() || (400..=599).contains(&code) {
            return true;
        }
        let who = output.limits_name();
        self.sink.push(Diagnostic::new(
            Code::E0203,
            format!("{who} does not retry on status {code}"),
            span,
            "not a 4xx or 5xx status",
            format!("{who} retries on status codes 400 to 599"),
        ));
        false
    }

    /// Checks one retry condition: one of the 16 policies or a status code Istio knows.
    fn retry_condition(&mut self, condition: &ast::Text) -> Option<String> {
        let text = condition.node.as_str();
        if RETRY_POLICIES.contains(&text) {
            return Some(text.to_string());
        }
        if let Ok(code) = text.parse::<u16>() {
            if known_status(code) {
                return Some(code.to_string());
            }
            self.sink.push(Diagnostic::new(
                Code::E0203,
                format!("`{text}` is not an HTTP status Istio retries on"),
                condition.span,
                "unknown status code",
                "use a standard status such as 502, 503 or 504, or `5xx` for all of them",
            ));
            return None;
        }
        let lower = text.to_ascii_lowercase().replace('_', "-");
        let help = match did_you_mean(&lower, RETRY_POLICIES) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "retry conditions are HTTP status codes and {}",
                RETRY_POLICIES
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.sink.push(Diagnostic::new(
            Code::E0203,
            format!("unknown retry condition `{text}`"),
            condition.span,
            "not a retry condition",
            help,
        ));
        None
    }

    /// E0306: a single try, or a single backend call, may not outlast the whole request.
    fn per_try_within_timeout(&mut self, rule: &ir::RouteRule, spans: &ClauseSpans) {
        let (Some(timeout), Some(timeout_span)) = (rule.timeout, spans.timeout) else {
            return;
        };
        let per_try = rule
            .retry
            .as_ref()
            .and_then(|r| r.per_try_timeout)
            .zip(spans.per_try);
        let backend = rule.backend_timeout.zip(spans.backend_timeout);
        for (what, limit) in [("per-try timeout", per_try), ("backend timeout", backend)] {
            let Some((duration, span)) = limit else {
                continue;
            };
            if duration <= timeout {
                continue;
            }
            self.sink.push(
                Diagnostic::new(
                    Code::E0306,
                    format!("the {what} ({duration}) is longer than the route timeout ({timeout})"),
                    span,
                    "a single call can never use all of this",
                    if what == "backend timeout" {
                        "Gateway API rejects a backend timeout longer than the request timeout: shorten it".to_string()
                    } else {
                        format!("make the {what} shorter than the route timeout, so that a retry can still happen")
                    },
                )
                .with_secondary(timeout_span, "the whole request ends here"),
            );
        }
    }

    /// E0404 and E0403: a redirect is an answer of its own, so it does not mix with
    /// destinations, rewrites, faults or mirroring; an ingress route needs one or the other; a
    /// prefix replacement needs the prefix match it replaces.
    fn actions_agree(
        &mut self,
        route: &ast::Route,
        ctx: &RouteCtx,
        rule: &ir::RouteRule,
        spans: &ClauseSpans,
    ) {
        if let Some(redirect) = spans.redirect {
            let arrow = route.destinations.first().map(|d| d.span);
            let others = [
                (arrow, "destinations (`->`)"),
                (spans.rewrite, "a rewrite"),
                (spans.fault, "fault injection"),
                (spans.mirror, "mirroring"),
            ];
            for (span, what) in others {
                let Some(span) = span else { continue };
                self.sink.push(
                    Diagnostic::new(
                        Code::E0404,
                        format!("a redirect cannot be combined with {what}"),
                        span,
                        "conflicts with the redirect",
                        "a redirected request goes nowhere else: split this into two routes, or drop one of the two",
                    )
                    .with_secondary(redirect, "the redirect"),
                );
            }
        } else if matches!(ctx.owner, Some(Owner::Ingress(_))) && route.destinations.is_empty() {
            self.sink.push(Diagnostic::new(
                Code::E0404,
                "this ingress route sends traffic nowhere",
                route.span,
                "no `->` and no `redirect`",
                "add the services it goes to (`-> research-agent`) or a `redirect ...`",
            ));
        }
        // Istio: the authority may be set once, by `rewrite authority` or a `host` header.
        let sets_host = |ops: &ir::HeaderOps| {
            ops.set.keys().chain(ops.add.keys()).any(|name| {
                name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case(":authority")
            })
        };
        if let (Some(_), Some(span)) = (&rule.rewrite.authority, spans.rewrite) {
            if sets_host(rule.request_ops()) {
                self.sink.push(Diagnostic::new(
                    Code::E0404,
                    "the host is changed twice: by `rewrite authority` and by a `host` header",
                    span,
                    "one of two changes of the host",
                    "keep `rewrite authority \"...\"` and drop the `request set host` (Istio rejects both together)",
                ));
            }
        }
        if let Some(span) = spans.prefix_rewrite {
            let prefixed = |m: &ir::Match| matches!(m.uri, Some(ir::StringMatch::Prefix(_)));
            let (fits, needed) = if ctx.output.is_http_route() {
                (
                    rule.matches.len() == 1 && prefixed(&rule.matches[0]),
                    "exactly one alternative, matching `uri prefix` (a Gateway API rule)",
                )
            } else {
                (
                    !rule.matches.is_empty() && rule.matches.iter().all(prefixed),
                    "every alternative of the route to match `uri prefix`",
                )
            };
            if !fits {
                self.sink.push(Diagnostic::new(
                    Code::E0403,
                    "a prefix replacement needs a prefix to replace",
                    span,
                    format!("needs {needed}"),
                    "add `when uri prefix \"/...\"` to the route, or replace the whole path (`rewrite path \"...\"`, `redirect path \"...\"`)",
                ));
            }
        }
        if let (Some(span), false) = (spans.full_path_rewrite, ctx.output.is_http_route()) {
            if rule
                .matches
                .iter()
                .any(|m| matches!(m.uri, Some(ir::StringMatch::Prefix(_))))
            {
                self.sink.push(Diagnostic::new(
                    Code::E0403,
                    "Istio would replace only the matched prefix, not the whole path",
                    span,
                    "the route matches `uri prefix`",
                    "write `rewrite prefix \"...\"` if that is what you mean, or match the path exactly (`uri = \"...\"`)",
                ));
            }
        }
    }
}
