//! What only `--target consul` needs. A service has one ServiceSplitter, which divides every
//! request routed to the service itself, by its own router or by another service's (E0410).
//! Consul knows services by name (E0407 for a `host`), and subsets by service metadata, read
//! by a filter expression (E0205 for a subset name or label key it cannot take).

use std::ops::Deref;

use super::{destinations, not_a_service, same_destinations, Checker, Declared};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::source::Span;
use crate::target::Output;

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// E0407, E0205 and E0410 (see the module).
    pub(crate) fn consul_splits(&mut self) {
        if self.service_output() != Output::Consul {
            return;
        }
        let mut found = Vec::new();
        // A service is split when a rule has several destinations, or when a canary moves its
        // traffic (at some step, whichever `--step` is compiled).
        let split_rule = |rule: &&ir::RouteRule| rule.splits();
        let split: Vec<bool> = (self.decl.services.iter())
            .map(|s| s.canary.is_some() || s.routes.iter().any(|r| split_rule(&r)))
            .collect();
        for (index, service) in self.decl.services.iter().enumerate() {
            if !service.is_cluster_service() {
                found.push(not_a_service(
                    &service.name,
                    &service.host,
                    service.span,
                    "Consul routes to services by name, not by host: remove `host`, or compile for Istio",
                ));
            }
            for subset in &service.subsets {
                found.extend(subset_problem(subset, subset.span));
            }
            let first = service.routes.iter().find(split_rule);
            for rule in &service.routes {
                // The service whose splitter would take the traffic.
                let mut split_one = index;
                let label = if let Some(first) = first.filter(|_| split_rule(&rule)) {
                    if same_destinations(&first.destinations, &rule.destinations) {
                        continue;
                    }
                    format!("splits as {}", destinations(&rule.destinations))
                } else {
                    // An unsubsetted destination goes through that service's splitter.
                    let Some(target) = rule.destinations.iter().find(|d| {
                        d.subset.is_none()
                            && self
                                .service_index(&d.service.namespace, &d.service.name)
                                .is_some_and(|i| split[i])
                    }) else {
                        continue;
                    };
                    let is_self = target.service.name == service.name
                        && target.service.namespace == service.namespace;
                    if is_self && rule.splits() {
                        continue;
                    }
                    split_one = (self
                        .service_index(&target.service.namespace, &target.service.name))
                    .unwrap_or(index);
                    format!(
                        "sends to `{}`, whose splitter divides it",
                        target.service.name
                    )
                };
                let split_service = &self.decl.services[split_one];
                let why = match split_service.routes.iter().find(split_rule) {
                    Some(first) => {
                        let shares = destinations(&first.destinations);
                        (Some(first.span), format!("splits as {shares}"))
                    }
                    None => (
                        self.canary_spans.get(&split_one).copied(),
                        "its canary splits it".to_string(),
                    ),
                };
                let mut diagnostic = Diagnostic::new(
                    Code::E0410,
                    format!("`{}`'s traffic would be split in Consul", split_service.name),
                    rule.span,
                    label,
                    "give every route that splits a service the same shares, and route to a subset (`-> v1`) where traffic must not be split",
                )
                .with_note("Consul has one ServiceSplitter per service: it divides every request routed to the service itself, by any router");
                if let (Some(span), reason) = &why {
                    if *span != rule.span {
                        diagnostic = diagnostic.with_secondary(*span, reason.clone());
                    }
                }
                found.push(diagnostic);
            }
        }
        for diagnostic in found {
            self.sink.push(diagnostic);
        }
    }
}

/// E0205 for a subset that Consul cannot name or filter: names are lower-case DNS labels, and
/// a filter reads each label key as an identifier (`Service.Meta.version`).
fn subset_problem(subset: &ir::Subset, span: Span) -> Option<Diagnostic> {
    let lower = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !subset.name.chars().all(lower) {
        return Some(Diagnostic::new(
            Code::E0205,
            format!("invalid Consul subset name `{}`", subset.name),
            span,
            "Consul's subset names are lower case",
            "write the subset's name in lower case letters, digits and `-`",
        ));
    }
    let key = subset.labels.keys().find(|key| !meta_key(key))?;
    Some(Diagnostic::new(
        Code::E0205,
        format!("invalid Consul metadata key `{key}`"),
        span,
        "this subset selects on a label that cannot be service metadata",
        "Consul's subsets filter on service metadata by name: select on a label whose key is a letter then letters, digits and `_` (e.g. `version`)",
    ))
}

/// Whether a label key can be read as service metadata in a filter: an identifier of at most
/// 128 characters (which also keeps out Consul's reserved `consul-` keys).
fn meta_key(key: &str) -> bool {
    key.len() <= 128
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
