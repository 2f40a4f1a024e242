//! The guide's best practices and troubleshooting as lints (warnings with names, see
//! `diagnostics::lints`), and the semantics Istio's YAML hides, computed and explained.

use super::route::ClauseSpans;
use std::ops::Deref;

use super::{Checker, Declared};
use crate::ast;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::source::Span;
use crate::target::{Concept, Output};

/// Methods that RFC 9110 defines as idempotent: repeating them changes nothing.
pub(crate) const IDEMPOTENT_METHODS: [&str; 6] =
    ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"];

/// Retry conditions under which the request never reached the application, so a retry cannot
/// repeat its effect.
const SAFE_RETRY_CONDITIONS: [&str; 3] =
    ["connect-failure", "refused-stream", "reset-before-request"];

/// The English ordinal of a small number: `4th`.
fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Whether every alternative of a rule only lets idempotent methods through.
fn only_idempotent(rule: &ir::RouteRule) -> bool {
    !rule.matches.is_empty()
        && rule.matches.iter().all(|m| {
            matches!(&m.method, Some(ir::StringMatch::Exact(method)) if IDEMPOTENT_METHODS.contains(&method.as_str()))
        })
}

/// Whether `idempotent only` leaves some request of the rule to retry.
pub(crate) fn retries_some_method(rule: &ir::RouteRule) -> bool {
    rule.matches.is_empty()
        || rule.matches.iter().any(|m| match &m.method {
            None => true,
            Some(ir::StringMatch::Exact(method)) => IDEMPOTENT_METHODS.contains(&method.as_str()),
            Some(_) => false,
        })
}

/// `retry ... idempotent only`: the rule becomes two. The first matches the same requests
/// restricted to idempotent methods and keeps the retries; the second matches the rest and
/// retries only on the conditions of the first under which a request never reached the
/// application (`connect-failure`, `refused-stream`, `reset-before-request`) — or, when there
/// are none, has no `retries` block (Istio's default, which retries HTTP requests only on
/// connection failures). An alternative that already names a method goes to one side only.
pub(crate) fn split_by_idempotence(rule: ir::RouteRule) -> Vec<ir::RouteRule> {
    let alternatives = if rule.matches.is_empty() {
        vec![ir::Match::default()]
    } else {
        rule.matches.clone()
    };
    let mut retried = Vec::new();
    let mut rest = Vec::new();
    for alternative in alternatives {
        match &alternative.method {
            Some(ir::StringMatch::Exact(method))
                if IDEMPOTENT_METHODS.contains(&method.as_str()) =>
            {
                retried.push(alternative)
            }
            Some(_) => rest.push(alternative),
            None => {
                for method in IDEMPOTENT_METHODS {
                    retried.push(ir::Match {
                        method: Some(ir::StringMatch::Exact(method.to_string())),
                        ..alternative.clone()
                    });
                }
                rest.push(alternative);
            }
        }
    }
    let mut out = Vec::new();
    if !retried.is_empty() {
        out.push(ir::RouteRule {
            matches: retried,
            idempotent_only: false,
            ..rule.clone()
        });
    }
    if !rest.is_empty() {
        // A catch-all alternative stays a catch-all: no `match` at all.
        let matches = if rest.iter().all(|m| *m == ir::Match::default()) {
            Vec::new()
        } else {
            rest
        };
        let retry = rule.retry.clone().and_then(|retry| {
            let on: Vec<String> = retry
                .on
                .into_iter()
                .filter(|c| SAFE_RETRY_CONDITIONS.contains(&c.as_str()))
                .collect();
            (!on.is_empty()).then_some(ir::Retry { on, ..retry })
        });
        out.push(ir::RouteRule {
            matches,
            retry,
            idempotent_only: false,
            ..rule
        });
    }
    out
}

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// Lints of one route: no timeout (W0101), retries that can repeat non-idempotent requests
    /// (W0103), retries that cannot fit in the timeout (W0104), fault injection that turns
    /// retries and timeouts off (W0105), mirroring to one of the route's own destinations
    /// (W0106), and the retry note for consistent hashing (N0002).
    pub(crate) fn route_lints(
        &mut self,
        route: &ast::Route,
        rule: &ir::RouteRule,
        spans: &ClauseSpans,
    ) {
        let head = Span {
            end: route.service.span.end,
            ..route.span
        };
        // Only where no timeout is written: a timeout written wrong was reported already.
        if spans.timeout.is_none() && rule.redirect.is_none() && spans.fault.is_none() {
            self.sink.push(
                Diagnostic::new(
                    Code::W0101,
                    format!("route of `{}` without a timeout", route.service.node),
                    head,
                    "no `timeout`",
                    "add one, e.g. `timeout 30s`: without it, a backend that hangs holds every caller until the client gives up",
                )
                .with_note("the guide's first best practice: use timeouts for all calls, to stop cascading failures"),
            );
        }
        let retry_span = spans.retry.unwrap_or(head);
        if let Some(retry) = rule.retry.as_ref().filter(|r| r.attempts > 0) {
            let written = route.clauses.iter().find_map(|c| match &c.node {
                ast::Clause::Retry(r) => Some(r),
                _ => None,
            });
            let idempotent_only = written.is_some_and(|r| !r.idempotent_only.is_empty());
            // A condition written wrong was reported already; judge only a complete list.
            let complete = written.is_some_and(|r| r.on.len() == retry.on.len());
            // Without `on`, Istio's default conditions apply, which retry an HTTP request only
            // when it never reached the application.
            // Resilience4j retries the calls that the application marks with `@Retry`: which
            // are idempotent is the application's choice, out of meshc's sight.
            let resilience4j = self.service_output() == Output::Resilience4j;
            let safe = resilience4j
                || retry
                    .on
                    .iter()
                    .all(|c| SAFE_RETRY_CONDITIONS.contains(&c.as_str()));
            if complete
                && !idempotent_only
                && !safe
                && !only_idempotent(rule)
                && spans.fault.is_none()
                && !self.sink.silences(Code::W0103, retry_span)
            {
                self.sink.push(
                    Diagnostic::new(
                        Code::W0103,
                        "these retries can repeat requests that are not idempotent",
                        retry_span,
                        "POST and PATCH requests are retried too",
                        "add `idempotent only` to the retry (it splits the route by method), or make the application deduplicate requests",
                    )
                    .with_note("the guide's troubleshooting: an agent that processes the same request twice"),
                );
            }
            self.retry_budget(retry, rule, spans, retry_span);
            self.hash_drops_previous_hosts(rule, retry_span);
        }
        if let Some(fault) = spans.fault {
            let disabled = [(spans.retry, "retries"), (spans.timeout, "the timeout")];
            for (span, what) in disabled {
                let Some(span) = span else { continue };
                self.sink.push(
                    Diagnostic::new(
                        Code::W0105,
                        format!("fault injection turns off {what} on this route"),
                        span,
                        "has no effect while the fault is injected",
                        "inject faults on a route of their own (for example one matched by a test header), and keep retries and timeouts on the real one",
                    )
                    .with_secondary(fault, "fault injection here")
                    .with_note("Istio: timeouts and retries are not enabled when faults are injected on the client side"),
                );
            }
        }
        if let (Some(mirror), Some(span)) = (&rule.mirror, spans.mirror) {
            let same = rule
                .destinations
                .iter()
                .any(|d| d.service == mirror.service && d.subset == mirror.subset);
            if same {
                self.sink.push(Diagnostic::new(
                    Code::W0106,
                    "the mirror is one of the route's own destinations",
                    span,
                    "mirrored requests reach it twice",
                    "mirror to the version under test (e.g. `mirror v2-test 10%`), not to one that already serves the route",
                ));
            }
        }
    }

    /// W0104: with Envoy's meaning (the first try plus `attempts` retries), the tries that
    /// cannot finish before the route's timeout.
    fn retry_budget(
        &mut self,
        retry: &ir::Retry,
        rule: &ir::RouteRule,
        spans: &ClauseSpans,
        span: Span,
    ) {
        let (Some(per_try), Some(timeout)) = (retry.per_try_timeout, rule.timeout) else {
            return;
        };
        // Resilience4j cannot cut a try short: a timeout that the tries overrun is E0411.
        if self.service_output() == Output::Resilience4j {
            return;
        }
        if self.sink.silences(Code::W0104, span) {
            return;
        }
        let tries = u64::from(retry.attempts) + 1;
        // Up to 2^31 tries of up to 2^63 ns each: the product can exceed u64, and then does
        // not fit in the timeout either.
        let all_tries = tries.checked_mul(per_try.millis);
        if per_try.millis == 0 || all_tries.is_some_and(|all| all <= timeout.millis) {
            return;
        }
        // The first try whose end lies beyond the timeout.
        let late = timeout.millis / per_try.millis + 1;
        if late > tries || per_try > timeout {
            return;
        }
        let total = ir::Duration {
            millis: late * per_try.millis,
        };
        // When the timeout is a multiple of the per-try timeout, that try gets no time at all;
        // otherwise it is cut short.
        let fate = if timeout.millis % per_try.millis == 0 {
            "can never finish"
        } else {
            "is cut short"
        };
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let fitting = late - 1;
        // The per-try timeout with which every try fits; with more tries than the timeout has
        // milliseconds there is none (a duration is at least 1ms).
        let shorten = match timeout.millis / tries {
            0 => None,
            millis => Some(format!(
                "shorten the per-try timeout to {} or less",
                ir::Duration { millis }
            )),
        };
        let help = match (fitting > 1, shorten) {
            (true, Some(shorten)) => format!(
                "retry at most {}, or {shorten}",
                plural(fitting - 1, "time", "times")
            ),
            (true, None) => format!("retry at most {}", plural(fitting - 1, "time", "times")),
            (false, Some(shorten)) => format!("{shorten}, or lengthen the timeout"),
            (false, None) => "retry fewer times, or lengthen the timeout".to_string(),
        };
        let mut diagnostic = Diagnostic::new(
            Code::W0104,
            format!(
                "the {} try {fate}: {late} × {per_try} = {total} > {timeout}",
                ordinal(late)
            ),
            span,
            format!(
                "{tries} tries of up to {per_try} each (the first try and {})",
                plural(u64::from(retry.attempts), "retry", "retries")
            ),
            help,
        );
        if let Some(timeout_span) = spans.timeout {
            diagnostic = diagnostic.with_secondary(timeout_span, "the whole request ends here");
        }
        self.sink.push(diagnostic);
    }

    /// N0002: consistent hashing sends a retry back to the same pod.
    fn hash_drops_previous_hosts(&mut self, rule: &ir::RouteRule, span: Span) {
        if self.service_output() != Output::Istio {
            return;
        }
        let hashed = rule.destinations.iter().find(|d| {
            let index = self.service_index(&d.service.namespace, &d.service.name);
            index.is_some_and(|i| {
                matches!(
                    self.decl.services[i].policy.balance.as_deref(),
                    Some(
                        ir::Balance::HashHeader(_)
                            | ir::Balance::HashCookie { .. }
                            | ir::Balance::HashSourceIp
                            | ir::Balance::HashQuery(_)
                    )
                )
            })
        });
        if let Some(dest) = hashed {
            self.sink.push(Diagnostic::new(
                Code::N0002,
                format!("retries to `{}` may go back to the pod that just failed", dest.service.name),
                span,
                "the service balances by consistent hash",
                "nothing to change if a retry on the same pod is acceptable (a session stays on its pod); otherwise balance by `least request`",
            ).with_note("Istio drops the retry predicate that avoids previous hosts when a service uses consistent hashing"));
        }
    }

    /// W0102 for a service that receives traffic but lacks a connection pool or outlier
    /// detection, where both can be written (Istio, Consul and Resilience4j; Gateway API and
    /// Linkerd have neither).
    pub(crate) fn circuit_breaking(&mut self) {
        // Only where both can be written (Istio, Consul).
        let output = self.service_output();
        if output.supports(Concept::ConnectionPool).is_err()
            || output.supports(Concept::OutlierDetection).is_err()
        {
            return;
        }
        let mut receives = vec![false; self.decl.services.len()];
        let routes = self
            .decl
            .services
            .iter()
            .flat_map(|s| &s.routes)
            .chain(self.decl.ingresses.iter().flat_map(|i| &i.routes));
        for rule in routes {
            let targets = rule.destinations.iter().map(|d| &d.service);
            for service in targets.chain(rule.mirror.as_ref().map(|m| &m.service)) {
                if let Some(index) = self.service_index(&service.namespace, &service.name) {
                    receives[index] = true;
                }
            }
        }
        let mut missing_list = Vec::new();
        for (index, service) in self.decl.services.iter().enumerate() {
            if !receives[index] {
                continue;
            }
            let mut missing = Vec::new();
            // A block written with mistakes was reported already: it is not missing. Blocks in
            // every subset count as well as one for the whole service.
            let written =
                |concept| self.decl.policy_written[index] & super::concept_bit(concept) != 0;
            let subsets = &service.subsets;
            let in_every_subset = |has: fn(&ir::TrafficPolicy) -> bool| {
                !subsets.is_empty() && subsets.iter().all(|s| has(&s.policy))
            };
            if !written(Concept::ConnectionPool) && !in_every_subset(|p| p.pool.is_some()) {
                missing.push("no connection pool (`pool`)");
            }
            if !written(Concept::OutlierDetection) && !in_every_subset(|p| p.eject.is_some()) {
                missing.push("no outlier detection (`eject`)");
            }
            if !missing.is_empty() {
                missing_list.push((service.span, service.name.clone(), missing.join(" and ")));
            }
        }
        // Resilience4j's bulkhead limits concurrent calls only.
        let help = if output.supports(Concept::ConnectionLimits).is_ok() {
            "add `pool { max connections N  max requests N }` and `eject { after 5 consecutive 5xx  for 30s }` to the service"
        } else {
            "add `pool { max requests N }` and `eject { after 5 consecutive 5xx  for 30s }` to the service"
        };
        for (span, name, missing) in missing_list {
            self.sink.push(
                Diagnostic::new(
                    Code::W0102,
                    format!("`{name}` has no circuit breaking"),
                    span,
                    missing,
                    help,
                )
                .with_note("the guide's second best practice: circuit breaking protects a backend from overload"),
            );
        }
    }

    /// W0108 (Istio's IST0131): a route alternative that an earlier route of the same service
    /// always matches first.
    pub(crate) fn shadowed_matches(&mut self) {
        if !self.service_output().first_match_wins() {
            return;
        }
        let mut found = Vec::new();
        for service in &self.decl.services {
            for (later_index, later) in service.routes.iter().enumerate() {
                for earlier in &service.routes[..later_index] {
                    let shadowed = later
                        .matches
                        .iter()
                        .any(|alt| earlier.matches.iter().any(|e| covers(e, alt)));
                    if shadowed && later.span != earlier.span {
                        found.push((later.span, earlier.span));
                        break;
                    }
                }
            }
        }
        for (later, earlier) in found {
            self.sink.push(
                Diagnostic::new(
                    Code::W0108,
                    "a condition of this route is never used",
                    later,
                    "an earlier route matches these requests first",
                    "move the narrower route before the broader one, or drop the duplicate condition",
                )
                .with_secondary(earlier, "this route matches them first"),
            );
        }
    }
}

/// Whether every request matching `later` also matches `earlier`: the same conditions, or an
/// earlier alternative that is only a path prefix of the later one's path.
fn covers(earlier: &ir::Match, later: &ir::Match) -> bool {
    // An alternative left empty by errors in its conditions (reported already) proves nothing.
    if *later == ir::Match::default() {
        return false;
    }
    if earlier == later {
        return true;
    }
    let only_prefix =
        earlier.headers.is_empty() && earlier.query.is_empty() && earlier.method.is_none();
    match (&earlier.uri, &later.uri) {
        (
            Some(ir::StringMatch::Prefix(prefix)),
            Some(ir::StringMatch::Prefix(path) | ir::StringMatch::Exact(path)),
        ) => only_prefix && path.starts_with(prefix.as_str()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(1), "1st");
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(4), "4th");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(22), "22nd");
    }
}
