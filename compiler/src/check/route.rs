//! Routes: destinations and weights, matches, retries, timeouts, faults, mirroring, rewrites
//! and header operations.

use super::{names, Checker, Seen};
use crate::ast::{self, Clause};
use crate::diagnostics::{did_you_mean, Code, Diagnostic};
use crate::ir;
use crate::source::Span;

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

/// HTTP methods a `method` condition may name.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE",
];

impl Checker {
    /// Checks one route rule and appends it to its service.
    pub(crate) fn route(&mut self, route: &ast::Route, namespace: Option<&str>) {
        let Some(namespace) = namespace else { return };
        let service = self.resolve_service(&route.service, namespace);
        let mut rule = ir::RouteRule {
            span: route.span,
            matches: route
                .matches
                .iter()
                .map(|alt| self.match_alt(alt))
                .collect(),
            ..ir::RouteRule::default()
        };
        if let Some(service) = service {
            rule.destinations = self.destinations(route, service);
        }
        let mut seen = Seen::default();
        let mut timeout_span = None;
        for clause in &route.clauses {
            self.clause(
                &clause.node,
                clause.span,
                service,
                &mut rule,
                &mut seen,
                &mut timeout_span,
            );
        }
        self.per_try_within_timeout(route, &rule, timeout_span);
        if let Some(service) = service {
            self.services[service].routes.push(rule);
        }
    }

    fn match_alt(&mut self, alt: &ast::MatchAlt) -> ir::Match {
        let mut out = ir::Match::default();
        let mut seen = Seen::default();
        for condition in &alt.conditions {
            match &condition.node {
                ast::Condition::Header { name, matcher } => {
                    self.name_rule(&name.node, name.span, "header name", names::header_name);
                    let matcher = self.string_match(matcher, "header");
                    if let Some(first) = out.headers.get_index_of(&name.node) {
                        let _ = first;
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
        out
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

    fn string_match(&mut self, matcher: &ast::StringMatch, what: &str) -> Option<ir::StringMatch> {
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
            ast::MatchOp::Regex => Some(ir::StringMatch::Regex(value.node.clone())),
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

    /// Resolves a destination name: a subset of the route's service, another service, or
    /// `service.subset`. Returns (host, subset).
    fn resolve_destination(
        &mut self,
        target: &ast::DestRef,
        service: usize,
    ) -> Option<(String, Option<String>)> {
        let namespace = self.services[service].namespace.clone();
        if let Some(subset) = &target.second {
            let other = self.resolve_service(&target.first, &namespace)?;
            let host = self.services[other].host.clone();
            return self
                .resolve_subset(subset, other, false)
                .map(|s| (host, Some(s)));
        }
        let name = &target.first.node;
        let own_subset = self.services[service]
            .subsets
            .iter()
            .any(|s| &s.name == name)
            || self.subset_spans.contains_key(&(service, name.clone()));
        let other = self.service_index(&namespace, name);
        match (own_subset, other) {
            (true, Some(other)) if other != service => {
                let service_name = self.services[service].name.clone();
                let mut diagnostic = Diagnostic::new(
                    Code::E0104,
                    format!("`{name}` is both a subset of `{service_name}` and a service"),
                    target.span,
                    "ambiguous destination",
                    format!("write `{service_name}.{name}` for the subset, or rename one of them"),
                )
                .with_secondary(self.services[other].span, "the service");
                if let Some(subset) = self.subset_spans.get(&(service, name.clone())) {
                    diagnostic = diagnostic.with_secondary(*subset, "the subset");
                }
                self.sink.push(diagnostic);
                None
            }
            (true, _) => Some((self.services[service].host.clone(), Some(name.clone()))),
            (false, Some(other)) => Some((self.services[other].host.clone(), None)),
            (false, None) => {
                self.resolve_subset(&target.first, service, true)?;
                None
            }
        }
    }

    /// Looks a subset up on a service; reports E0102 with did-you-mean if it is not there.
    ///
    /// With `bare`, the name could also have been a service, so services are suggested too.
    fn resolve_subset(&mut self, subset: &ast::Text, service: usize, bare: bool) -> Option<String> {
        let svc = &self.services[service];
        if svc.subsets.iter().any(|s| s.name == subset.node) {
            return Some(subset.node.clone());
        }
        let mut candidates: Vec<&str> = svc.subsets.iter().map(|s| s.name.as_str()).collect();
        if bare {
            candidates.extend(
                self.services
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

    fn destinations(&mut self, route: &ast::Route, service: usize) -> Vec<ir::Destination> {
        if route.destinations.is_empty() {
            let host = self.services[service].host.clone();
            return vec![ir::Destination {
                host,
                subset: None,
                weight: None,
            }];
        }
        let mut out = Vec::new();
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
            if let Some((host, subset)) = self.resolve_destination(&dest.target, service) {
                out.push(ir::Destination {
                    host,
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
        service: Option<usize>,
        rule: &mut ir::RouteRule,
        seen: &mut Seen,
        timeout_span: &mut Option<Span>,
    ) {
        match clause {
            Clause::Retry(retry) => {
                if seen.first(&mut self.sink, "retry", span) {
                    rule.retry = self.retry(retry);
                }
            }
            Clause::Timeout(timeout) => {
                if seen.first(&mut self.sink, "timeout", span) {
                    rule.timeout = self.sink.duration(timeout, "the timeout");
                    *timeout_span = Some(timeout.span);
                }
            }
            Clause::FaultDelay { delay, percent } => {
                if seen.first(&mut self.sink, "fault delay", span) {
                    let delay = self.sink.duration(delay, "the delay");
                    let percent = self.sink.fault_percent(percent, "the delayed share");
                    rule.fault.delay = delay.zip(percent);
                }
            }
            Clause::FaultAbort { status, percent } => {
                if seen.first(&mut self.sink, "fault abort", span) {
                    let status = self.abort_status(status);
                    let percent = self.sink.fault_percent(percent, "the aborted share");
                    rule.fault.abort = status.zip(percent);
                }
            }
            Clause::Mirror { target, percent } => {
                if seen.first(&mut self.sink, "mirror", span) {
                    let percent = self.sink.percent(percent, "the mirrored share", false);
                    let target = service.and_then(|s| self.resolve_destination(target, s));
                    if let (Some((host, subset)), Some(percent)) = (target, percent) {
                        rule.mirror = Some(ir::Mirror {
                            host,
                            subset,
                            percent,
                        });
                    }
                }
            }
            Clause::Rewrite { what, value } => match what.node {
                ast::RewriteWhat::Uri => {
                    if seen.first(&mut self.sink, "rewrite uri", span) {
                        rule.rewrite.uri = Some(value.node.clone());
                    }
                }
                ast::RewriteWhat::Authority => {
                    if seen.first(&mut self.sink, "rewrite authority", span) {
                        rule.rewrite.authority = Some(value.node.clone());
                    }
                }
            },
            Clause::Headers { dir, op } => {
                let ops = match dir.node {
                    ast::HeaderDir::Request => &mut rule.request_headers,
                    ast::HeaderDir::Response => &mut rule.response_headers,
                };
                self.header_op(dir.node, op, ops);
            }
        }
    }

    fn header_op(&mut self, dir: ast::HeaderDir, op: &ast::HeaderOp, ops: &mut ir::HeaderOps) {
        let name_ok = |checker: &mut Checker, name: &ast::Text| {
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
        let value_ok = |checker: &mut Checker, value: &ast::Text| {
            if let Some(at) = value.node.find("${") {
                let end = value.node[at..]
                    .find('}')
                    .map_or(value.node.len(), |e| at + e + 1);
                let template = &value.node[at..end];
                checker.sink.push(
                    Diagnostic::new(
                        Code::W0004,
                        format!("`{template}` is sent literally"),
                        value.span,
                        "not a template: every request gets these exact characters",
                        "Envoy substitutes `%VARIABLE%` forms: for a per-request ID use `%REQ(x-request-id)%`",
                    )
                    .with_note("neither Istio nor Kubernetes expands `${...}` in header values"),
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
                    } else {
                        target.insert(name.node.clone(), value.node.clone());
                    }
                }
            }
            ast::HeaderOp::Remove(headers) => {
                for name in headers {
                    if name_ok(self, name) {
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

    fn retry(&mut self, retry: &ast::Retry) -> Option<ir::Retry> {
        let attempts = self.sink.count(
            &retry.attempts,
            0,
            i32::MAX as u64,
            "the number of retries",
            "retries are counted after the first try: `retry 0` turns Istio's default retries off",
        );
        let per_try_timeout = self
            .sink
            .single(&retry.per_try, "per try", |l| l.span)
            .and_then(|t| self.sink.duration(t, "the per-try timeout"));
        let remote_localities = self
            .sink
            .single(&retry.remote_localities, "remote localities", |l| l.span)
            .and_then(|l| self.sink.switch(l, "`remote localities`"));
        let mut on: Vec<String> = Vec::new();
        let mut on_spans: Vec<Span> = Vec::new();
        for condition in &retry.on {
            let Some(canonical) = self.retry_condition(condition) else {
                continue;
            };
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
        if attempts == Some(0) {
            let extra = retry
                .per_try
                .first()
                .map(|l| l.span)
                .or(retry.on.first().map(|c| c.span))
                .or(retry.remote_localities.first().map(|l| l.span));
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

    /// E0306: a single try may not outlast the whole request.
    fn per_try_within_timeout(
        &mut self,
        route: &ast::Route,
        rule: &ir::RouteRule,
        timeout_span: Option<Span>,
    ) {
        let (Some(retry), Some(timeout), Some(timeout_span)) =
            (&rule.retry, rule.timeout, timeout_span)
        else {
            return;
        };
        let Some(per_try) = retry.per_try_timeout else {
            return;
        };
        if per_try <= timeout {
            return;
        }
        let per_try_span = route
            .clauses
            .iter()
            .find_map(|c| match &c.node {
                Clause::Retry(r) => r.per_try.first().map(|l| l.span),
                _ => None,
            })
            .unwrap_or(route.span);
        self.sink.push(
            Diagnostic::new(
                Code::E0306,
                format!("the per-try timeout ({per_try}) is longer than the route timeout ({timeout})"),
                per_try_span,
                "a single try can never use all of this",
                "make the per-try timeout shorter than the route timeout, so that a retry can still happen",
            )
            .with_secondary(timeout_span, "the whole request ends here"),
        );
    }
}
