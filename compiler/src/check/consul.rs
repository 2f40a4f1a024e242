//! What only `--target consul` needs: a service has one ServiceSplitter, which divides every
//! request that its router sends to the service itself (E0410); Consul knows services by
//! name (E0407 for a `host`), and subsets by service metadata (E0205 for a label key that
//! cannot be one).

use super::linkerd::{destinations, same_destinations};
use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::target::Output;

impl Checker<'_> {
    /// E0410: rules of a service that split traffic differently, or a rule that sends to the
    /// service itself beside a rule that splits it (the split would take its traffic too).
    pub(crate) fn consul_splits(&mut self) {
        if self.service_output() != Output::Consul {
            return;
        }
        let mut found = Vec::new();
        for (index, service) in self.services.iter().enumerate() {
            // Consul routes by service name: a host of its own would be ignored.
            let cluster_host = format!("{}.{}.svc.cluster.local", service.name, service.namespace);
            if service.host != cluster_host {
                found.push(Diagnostic::new(
                    Code::E0407,
                    format!("`{}` is not a Kubernetes Service of this cluster", service.name),
                    service.span,
                    format!("its host is `{}`", service.host),
                    "Consul routes to services by name, not by host: remove `host`, or compile for Istio",
                ));
            }
            // Subsets filter on service metadata, whose keys are letters, digits, `-` and `_`.
            for subset in &service.subsets {
                let bad = subset.labels.keys().find(|key| !meta_key(key));
                if let (Some(key), Some(&span)) =
                    (bad, self.subset_spans.get(&(index, subset.name.clone())))
                {
                    found.push(Diagnostic::new(
                        Code::E0205,
                        format!("invalid Consul metadata key `{key}`"),
                        span,
                        "this subset selects on a label that cannot be service metadata",
                        "Consul's subsets filter on service metadata, whose keys are at most 128 letters, digits, `-` and `_`: select on such a label (e.g. `version`)",
                    ));
                }
            }
            // A rule with several destinations is a split (one with 100% is not).
            let split = |rule: &&ir::RouteRule| rule.destinations.len() > 1;
            let Some(first) = service.routes.iter().find(split) else {
                continue;
            };
            for rule in &service.routes {
                let differs =
                    split(&rule) && !same_destinations(&first.destinations, &rule.destinations);
                let to_self = service.is_only_destination(&rule.destinations);
                if !differs && !to_self {
                    continue;
                }
                let label = if differs {
                    format!("splits as {}", destinations(&rule.destinations))
                } else {
                    format!("sends to `{}`, whose splitter divides it", service.name)
                };
                found.push(
                    Diagnostic::new(
                        Code::E0410,
                        format!("`{}` can be split only one way in Consul", service.name),
                        rule.span,
                        label,
                        "give every route that splits the service the same shares, and send other routes to a subset or another service",
                    )
                    .with_secondary(first.span, format!("splits as {}", destinations(&first.destinations)))
                    .with_note("Consul has one ServiceSplitter per service: it divides every request routed to the service itself"),
                );
            }
        }
        for diagnostic in found {
            self.sink.push(diagnostic);
        }
    }
}

/// Whether a label key can be a key of Consul's service metadata.
fn meta_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
