//! What only `--target linkerd` needs: its service routes are an HTTPRoute per retry policy
//! (`ir::retry_groups`), and between HTTPRoutes Gateway API's precedence breaks ties by age,
//! not by the order the rules were written (E0408). With `--linkerd-flavour service-profile`
//! they are one ServiceProfile, whose traffic split is the whole service's (E0409).

use std::ops::Deref;

use super::{destinations, names, not_a_service, same_destinations, Checker, Declared};
use crate::ast;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::target::Output;

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// E0408: two rules of a service in different HTTPRoutes that are equally specific and
    /// could match the same request.
    pub(crate) fn linkerd_route_order(&mut self) {
        if self.service_output() != Output::LinkerdHttpRoute {
            return;
        }
        let mut found = Vec::new();
        let mut long_names = Vec::new();
        for (index, service) in self.decl.services.iter().enumerate() {
            let groups = ir::retry_groups(&service.routes);
            // `routes named` is a valid name; the numbered ones must be too.
            if groups.len() > 1 {
                let last = ir::numbered_name(&service.routes_name, groups.len() - 1);
                if let Err(reason) = names::dns_subdomain(&last) {
                    let named = self.decl.named_spans.get(&(index, ast::NamedWhat::Routes));
                    long_names.push((named.copied().unwrap_or(service.span), last, reason));
                }
            }
            for (index, (_, rules)) in groups.iter().enumerate() {
                for (_, others) in &groups[index + 1..] {
                    for &rule in rules {
                        for &other in others {
                            let (these, those) = (alternatives(rule), alternatives(other));
                            if these.iter().any(|a| those.iter().any(|b| tie(a, b))) {
                                let (first, second) = if rule.span.start <= other.span.start {
                                    (rule.span, other.span)
                                } else {
                                    (other.span, rule.span)
                                };
                                found.push((second, first));
                            }
                        }
                    }
                }
            }
        }
        for (span, name, reason) in long_names {
            self.sink.push(Diagnostic::new(
                Code::E0205,
                format!("invalid HTTPRoute name `{name}`"),
                span,
                format!("the name of this service's last HTTPRoute {reason}"),
                "shorten `routes named`: Linkerd gets an HTTPRoute per retry policy, numbered `-2`, `-3`, ...",
            ));
        }
        found.sort_by_key(|&(second, first)| (second.file, second.start, first.start));
        found.dedup();
        for (second, first) in found {
            self.sink.push(
                Diagnostic::new(
                    Code::E0408,
                    "Linkerd cannot keep the order of these two routes",
                    second,
                    "as specific as an earlier route with other retries, and may match the same requests",
                    "make the route that should win more specific, or give both routes the same retries",
                )
                .with_secondary(first, "the earlier route, in another HTTPRoute")
                .with_note("Linkerd reads retries per HTTPRoute, so the two routes are in different HTTPRoutes, and a tie between HTTPRoutes goes to the older object, not to the route written first"),
            );
        }
    }
}

/// Why a ServiceProfile needs Services of the cluster (E0407's help).
const PROFILE_HOST: &str = "a ServiceProfile is named after a Service's cluster host (and splits traffic between such hosts): remove `host`, or compile for Istio";

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// E0409: a ServiceProfile splits traffic for the whole service (`dstOverrides`), so
    /// every route of a service must send its traffic to the same destinations; and E0405
    /// when those name a service without a port (an override's authority is `host:port`).
    pub(crate) fn service_profile_destinations(&mut self) {
        if self.service_output() != Output::LinkerdServiceProfile {
            return;
        }
        let mut found: Vec<Diagnostic> = Vec::new();
        for service in &self.decl.services {
            // A rule whose destinations were errors (reported) is left out.
            let mut rules = service.routes.iter().filter(|r| !r.destinations.is_empty());
            let Some(first) = rules.next() else {
                continue;
            };
            // Linkerd finds a profile by the host a request is for: the Service's own name.
            if !service.is_cluster_service() {
                found.push(not_a_service(
                    &service.name,
                    &service.host,
                    service.span,
                    PROFILE_HOST,
                ));
            }
            for rule in rules {
                if !same_destinations(&first.destinations, &rule.destinations) {
                    found.push(
                        Diagnostic::new(
                            Code::E0409,
                            format!(
                                "the routes of `{}` send traffic to different destinations",
                                service.name
                            ),
                            rule.span,
                            format!("sends to {}", destinations(&rule.destinations)),
                            "send every route of the service to the same destinations, or use Linkerd's HTTPRoutes (drop `--linkerd-flavour service-profile`)",
                        )
                        .with_secondary(
                            first.span,
                            format!("sends to {}", destinations(&first.destinations)),
                        )
                        .with_note("a ServiceProfile splits traffic for the whole service (`dstOverrides`): its routes only time and retry requests"),
                    );
                }
            }
            if service.is_only_destination(&first.destinations) {
                continue;
            }
            // Each destination of the split is a `host:port` authority.
            for destination in &first.destinations {
                let target = &destination.service;
                if target.host != ir::cluster_host(&target.name, &target.namespace) {
                    found.push(not_a_service(
                        &target.name,
                        &target.host,
                        first.span,
                        PROFILE_HOST,
                    ));
                } else if target.port.is_none() {
                    found.push(
                        Diagnostic::new(
                            Code::E0405,
                            format!("service `{}` has no port", target.name),
                            first.span,
                            format!("this route sends traffic to `{}`, and a ServiceProfile names each destination as `host:port`", target.name),
                            format!(
                                "declare it in the service: `port 8080` in `service {}`",
                                target.name
                            ),
                        ),
                    );
                }
            }
        }
        for diagnostic in found {
            self.sink.push(diagnostic);
        }
    }
}

/// A rule's alternatives; a rule without `when` matches every request (Gateway API's default
/// match, path prefix `/`).
fn alternatives(rule: &ir::RouteRule) -> &[ir::Match] {
    static ANY: std::sync::OnceLock<ir::Match> = std::sync::OnceLock::new();
    if rule.matches.is_empty() {
        std::slice::from_ref(ANY.get_or_init(ir::Match::default))
    } else {
        &rule.matches
    }
}

/// Whether Gateway API's precedence ranks two alternatives alike and a request could match
/// both.
fn tie(a: &ir::Match, b: &ir::Match) -> bool {
    specificity(a) == specificity(b) && may_overlap(a, b)
}

/// Gateway API's precedence: an exact path, then the longest prefix (no path is the prefix
/// `/`), then a method, then the most headers, then the most query parameters. Regular
/// expressions rank by their length too (an implementation's choice; meshc treats it as a
/// kind of its own).
fn specificity(m: &ir::Match) -> (u8, usize, bool, usize, usize) {
    let (kind, length) = match &m.uri {
        Some(ir::StringMatch::Exact(path)) => (2, path.len()),
        Some(ir::StringMatch::Prefix(path)) => (1, path.len()),
        Some(ir::StringMatch::Regex(path)) => (0, path.len()),
        None => (1, 1),
    };
    (
        kind,
        length,
        m.method.is_some(),
        m.headers.len(),
        m.query.len(),
    )
}

/// `false` when no request matches both: different exact paths, different prefixes of one
/// length, different methods, or different exact values of one header or query parameter.
fn may_overlap(a: &ir::Match, b: &ir::Match) -> bool {
    use ir::StringMatch::{Exact, Prefix};
    let path = match (&a.uri, &b.uri) {
        (Some(Exact(x)), Some(Exact(y))) | (Some(Prefix(x)), Some(Prefix(y))) => x == y,
        _ => true,
    };
    let method = match (&a.method, &b.method) {
        (Some(Exact(x)), Some(Exact(y))) => x == y,
        _ => true,
    };
    let agree = |x: &crate::hash::IndexMap<String, ir::StringMatch>,
                 y: &crate::hash::IndexMap<String, ir::StringMatch>| {
        x.iter().all(|(name, left)| match (left, y.get(name)) {
            (Exact(l), Some(Exact(r))) => l == r,
            _ => true,
        })
    };
    path && method && agree(&a.headers, &b.headers) && agree(&a.query, &b.query)
}
