//! Argo Rollouts (`--target argo-rollouts`): a service with a canary runs as a `Rollout` that
//! moves the weights of its VirtualService's route `primary` between the canary's two
//! subsets, step by step, with an `AnalysisTemplate` for the checks.

use super::{canary_name, k8s, metadata, monitoring, workloads};
use crate::ir;

/// The Rollout of a service: the new version's pod template, and for each step a weight, a
/// pause of `every` (until promoted by hand without one) and the analysis.
pub fn rollout(service: &ir::Service) -> Option<k8s::Object<k8s::RolloutSpec>> {
    let canary = service.canary.as_ref()?;
    let deployment = workloads::rolled_out(service)?;
    let mut steps = Vec::new();
    for weight in &canary.steps {
        steps.push(k8s::RolloutStep::SetWeight(*weight));
        if *weight == 100 {
            break;
        }
        steps.push(k8s::RolloutStep::Pause(k8s::Pause {
            duration: canary.interval.and_then(ir::Duration::gep2257),
        }));
        if canary.has_checks() {
            steps.push(k8s::RolloutStep::Analysis(k8s::AnalysisStep {
                templates: vec![k8s::TemplateRef {
                    template_name: canary_name(service),
                }],
            }));
        }
    }
    Some(k8s::Object {
        api_version: "argoproj.io/v1alpha1",
        kind: "Rollout",
        metadata: metadata(&service.name, &service.namespace),
        spec: k8s::RolloutSpec {
            replicas: deployment.spec.replicas,
            selector: deployment.spec.selector,
            template: deployment.spec.template,
            strategy: k8s::RolloutStrategy {
                canary: k8s::CanaryStrategy {
                    traffic_routing: k8s::TrafficRouting {
                        istio: k8s::IstioRouting {
                            virtual_service: k8s::RoutedVirtualService {
                                name: service.routes_name.clone(),
                                routes: vec![ir::ROLLOUT_ROUTE.to_string()],
                            },
                            destination_rule: k8s::RoutedDestinationRule {
                                name: service.policy_name.clone(),
                                canary_subset_name: canary.to.clone(),
                                stable_subset_name: canary.from.clone(),
                            },
                        },
                    },
                    steps,
                },
            },
        },
    })
}

/// The AnalysisTemplate of the checks: the guide's queries, against the canary's Prometheus.
pub fn analysis_template(service: &ir::Service) -> Option<k8s::Object<k8s::AnalysisTemplateSpec>> {
    let canary = service.canary.as_ref()?;
    let address = canary.prometheus.clone()?;
    if !canary.has_checks() {
        return None;
    }
    let metric = |name, condition: String, query: String| k8s::AnalysisMetric {
        name,
        interval: canary.interval.and_then(ir::Duration::gep2257),
        count: canary.interval.map(|_| 3),
        failure_limit: canary.failure_limit,
        // No traffic yet gives NaN, which is not a failure.
        success_condition: format!("isNaN(result[0]) || result[0] <= {condition}"),
        provider: k8s::MetricProvider {
            prometheus: k8s::PrometheusQuery {
                address: address.clone(),
                query,
            },
        },
    };
    let mut metrics = Vec::new();
    if let Some(percent) = canary.max_error_percent {
        metrics.push(metric(
            "error-rate",
            (percent / 100.0).to_string(),
            monitoring::error_share_query(service, canary),
        ));
    }
    if let Some(latency) = canary.max_p99 {
        metrics.push(metric(
            "p99-latency-ms",
            latency.millis.to_string(),
            monitoring::p99_query(service, canary),
        ));
    }
    Some(k8s::Object {
        api_version: "argoproj.io/v1alpha1",
        kind: "AnalysisTemplate",
        metadata: metadata(&canary_name(service), &service.namespace),
        spec: k8s::AnalysisTemplateSpec { metrics },
    })
}
