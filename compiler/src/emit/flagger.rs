//! Flagger (`--target flagger`): a service with a canary becomes a Flagger `Canary`, which
//! writes the service's VirtualService, DestinationRules and Kubernetes Services itself, and
//! one Deployment named after the service, running the new version, for Flagger to roll out.

use super::{istio, k8s, metadata, workloads};
use crate::ir;

/// The Flagger `Canary` of a service.
pub fn canary(service: &ir::Service) -> Option<k8s::Object<k8s::FlaggerCanarySpec>> {
    let canary = service.canary.as_ref()?;
    // The checker made sure of the port, the interval and the failure limit.
    let interval = canary
        .interval
        .and_then(ir::Duration::gep2257)
        .unwrap_or_default();
    let catch_all = service.routes.iter().find(|r| r.matches.is_empty());
    let mut metrics = Vec::new();
    if let Some(percent) = canary.max_error_percent {
        metrics.push(k8s::FlaggerMetric {
            name: "request-success-rate",
            threshold_range: k8s::ThresholdRange {
                min: Some(100.0 - percent),
                max: None,
            },
            interval: interval.clone(),
        });
    }
    if let Some(latency) = canary.max_p99 {
        metrics.push(k8s::FlaggerMetric {
            name: "request-duration",
            threshold_range: k8s::ThresholdRange {
                min: None,
                max: Some(latency.millis as f64),
            },
            interval: interval.clone(),
        });
    }
    Some(k8s::Object {
        api_version: "flagger.app/v1beta1",
        kind: "Canary",
        metadata: metadata(&service.name, &service.namespace),
        spec: k8s::FlaggerCanarySpec {
            provider: "istio",
            target_ref: k8s::TargetRef {
                api_version: "apps/v1",
                kind: "Deployment",
                name: service.name.clone(),
            },
            service: k8s::FlaggerService {
                port: service.port.unwrap_or_default(),
                timeout: catch_all.and_then(|r| r.timeout).map(|d| d.to_string()),
                retries: catch_all.and_then(|r| r.retry.as_ref()).map(istio::retries),
                traffic_policy: istio::traffic_policy(&service.policy),
            },
            analysis: k8s::FlaggerAnalysis {
                interval,
                threshold: canary.failure_limit.unwrap_or_default(),
                // Flagger promotes after the last weight: the final 100% is the promotion.
                step_weights: canary.steps.iter().copied().filter(|w| *w < 100).collect(),
                metrics,
            },
        },
    })
}

/// The Deployment Flagger rolls out: the new version's, named after the service, with the
/// pod label `app` only (Flagger adds its own to the primary it creates).
pub fn target(service: &ir::Service) -> Option<k8s::Object<k8s::DeploymentSpec>> {
    workloads::rolled_out(service)
}
