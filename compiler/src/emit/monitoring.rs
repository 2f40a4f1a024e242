//! The guide's canary monitoring: a `PrometheusRule` per canary that alerts on the new
//! version's 5xx rate and p99 latency, built from the guide's own queries on Istio's standard
//! metrics (`istio_requests_total`, `istio_request_duration_milliseconds_bucket`), narrowed to
//! the service.

use crate::hash::IndexMap;

use super::{canary_name, k8s, metadata};
use crate::ir;

/// `research-agent` → `ResearchAgent`.
fn camel(name: &str) -> String {
    name.split(['-', '.'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The share of 5xx responses of the canary's new version: the guide's first query, as a
/// share, narrowed to the service.
pub fn error_share_query(service: &ir::Service, canary: &ir::Canary) -> String {
    let selector = selector(service, canary);
    format!(
        "sum(rate(istio_requests_total{{{selector},response_code=~\"5..\"}}[5m]))\n/\nsum(rate(istio_requests_total{{{selector}}}[5m]))"
    )
}

/// The p99 latency of the new version, in milliseconds: the guide's second query, summed by
/// bucket.
pub fn p99_query(service: &ir::Service, canary: &ir::Canary) -> String {
    let selector = selector(service, canary);
    format!(
        "histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{{{selector}}}[5m])) by (le))"
    )
}

fn selector(service: &ir::Service, canary: &ir::Canary) -> String {
    format!(
        "destination_service=\"{}\",destination_version=\"{}\"",
        service.host, canary.to
    )
}

/// The alerts of a service's canary, if it has checks.
pub fn canary_alerts(service: &ir::Service) -> Option<k8s::Object<k8s::PrometheusRuleSpec>> {
    let canary = service.canary.as_ref()?;
    if !canary.has_checks() {
        return None;
    }
    let labels = IndexMap::from_iter([("severity".to_string(), "critical".to_string())]);
    let for_ = canary.interval.and_then(ir::Duration::gep2257);
    let name = camel(&service.name);
    let mut rules = Vec::new();
    if let Some(percent) = canary.max_error_percent {
        let ratio = percent / 100.0;
        rules.push(k8s::AlertRule {
            alert: format!("{name}CanaryErrorRate"),
            expr: format!("{}\n> {ratio}", error_share_query(service, canary)),
            for_: for_.clone(),
            labels: labels.clone(),
            annotations: IndexMap::from_iter([
                (
                    "summary".to_string(),
                    format!(
                        "{} {} answers more than {percent}% 5xx",
                        service.name, canary.to
                    ),
                ),
                (
                    "description".to_string(),
                    format!(
                        "The canary {} of {} is failing: roll traffic back to {}.",
                        canary.to, service.name, canary.from
                    ),
                ),
            ]),
        });
    }
    if let Some(latency) = canary.max_p99 {
        rules.push(k8s::AlertRule {
            alert: format!("{name}CanaryP99Latency"),
            expr: format!("{}\n> {}", p99_query(service, canary), latency.millis),
            for_,
            labels,
            annotations: IndexMap::from_iter([
                (
                    "summary".to_string(),
                    format!("{} {} p99 latency above {latency}", service.name, canary.to),
                ),
                (
                    "description".to_string(),
                    format!(
                        "The canary {} of {} is slow: roll traffic back to {}.",
                        canary.to, service.name, canary.from
                    ),
                ),
            ]),
        });
    }
    let group = canary_name(service);
    Some(k8s::Object {
        api_version: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: metadata(&group, &service.namespace),
        spec: k8s::PrometheusRuleSpec {
            groups: vec![k8s::RuleGroup {
                name: group.clone(),
                rules,
            }],
        },
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn camel_case() {
        assert_eq!(super::camel("research-agent"), "ResearchAgent");
    }
}
