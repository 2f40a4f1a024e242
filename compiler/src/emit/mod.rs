//! Emission: [`ir::Program`] → Kubernetes manifests → YAML.
//!
//! Order: the workloads (Deployments, then each Kubernetes Service), then every service's
//! `DestinationRule`, in source order (subsets must exist before
//! a route points at them, and a route may point at another service's subsets); then every
//! service's `VirtualService` (or, with `--target gateway-api`, its HTTPRoute); then the
//! ingresses' HTTPRoutes; then the ReferenceGrants they need; then the canaries' alerts. Emission
//! cannot fail: the checker has already rejected everything the API server or Istio would.

pub mod argo;
pub mod flagger;
pub mod gateway;
pub mod istio;
pub mod k8s;
pub mod monitoring;
pub mod workloads;
pub mod yaml;

use serde::Serialize;

use crate::ir;
use crate::target::{Options, Target};

/// The label meshc puts on everything it emits.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "meshc");

/// One emitted Kubernetes object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Manifest {
    /// Istio routes.
    VirtualService(Box<k8s::Object<k8s::VirtualServiceSpec>>),
    /// Istio policy and subsets.
    DestinationRule(Box<k8s::Object<k8s::DestinationRuleSpec>>),
    /// Gateway API routes.
    HttpRoute(Box<k8s::Object<k8s::HttpRouteSpec>>),
    /// Gateway API cross-namespace permission.
    ReferenceGrant(Box<k8s::Object<k8s::ReferenceGrantSpec>>),
    /// A version of a service.
    Deployment(Box<k8s::Object<k8s::DeploymentSpec>>),
    /// The Kubernetes Service in front of the versions.
    Service(Box<k8s::Object<k8s::ServiceSpec>>),
    /// Alerts for a canary.
    PrometheusRule(Box<k8s::Object<k8s::PrometheusRuleSpec>>),
    /// A Flagger canary.
    FlaggerCanary(Box<k8s::Object<k8s::FlaggerCanarySpec>>),
    /// An Argo Rollouts rollout.
    Rollout(Box<k8s::Object<k8s::RolloutSpec>>),
    /// An Argo Rollouts analysis.
    AnalysisTemplate(Box<k8s::Object<k8s::AnalysisTemplateSpec>>),
}

impl Manifest {
    /// The kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Manifest::VirtualService(o) => o.kind,
            Manifest::DestinationRule(o) => o.kind,
            Manifest::HttpRoute(o) => o.kind,
            Manifest::ReferenceGrant(o) => o.kind,
            Manifest::Deployment(o) => o.kind,
            Manifest::Service(o) => o.kind,
            Manifest::PrometheusRule(o) => o.kind,
            Manifest::FlaggerCanary(o) => o.kind,
            Manifest::Rollout(o) => o.kind,
            Manifest::AnalysisTemplate(o) => o.kind,
        }
    }

    /// The metadata.
    pub fn metadata(&self) -> &k8s::Metadata {
        match self {
            Manifest::VirtualService(o) => &o.metadata,
            Manifest::DestinationRule(o) => &o.metadata,
            Manifest::HttpRoute(o) => &o.metadata,
            Manifest::ReferenceGrant(o) => &o.metadata,
            Manifest::Deployment(o) => &o.metadata,
            Manifest::Service(o) => &o.metadata,
            Manifest::PrometheusRule(o) => &o.metadata,
            Manifest::FlaggerCanary(o) => &o.metadata,
            Manifest::Rollout(o) => &o.metadata,
            Manifest::AnalysisTemplate(o) => &o.metadata,
        }
    }

    /// A file name for `-o DIR`: `<namespace>.<kind>.<name>.yaml`, lower case.
    pub fn file_name(&self) -> String {
        let metadata = self.metadata();
        format!(
            "{}.{}.{}.yaml",
            metadata.namespace,
            self.kind().to_ascii_lowercase(),
            metadata.name
        )
    }
}

/// The name of the objects that watch a service's canary: its alerts and Argo's analysis.
pub(crate) fn canary_name(service: &ir::Service) -> String {
    format!("{}-canary", service.name)
}

/// Metadata with the label meshc puts on everything it emits.
pub(crate) fn metadata(name: &str, namespace: &str) -> k8s::Metadata {
    k8s::Metadata {
        name: name.to_string(),
        namespace: namespace.to_string(),
        labels: indexmap::IndexMap::from([(MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string())]),
    }
}

/// Every manifest of a checked program, in a deterministic order.
pub fn emit(program: &ir::Program, options: Options) -> Vec<Manifest> {
    let mut out = Vec::new();
    let mut http_routes: Vec<(&str, &[ir::RouteRule])> = Vec::new();
    // Workloads first: the pods exist before anything routes to them.
    // A rollout tool owns the services with a canary.
    let flagger =
        |service: &ir::Service| options.target == Target::Flagger && service.canary.is_some();
    let argo =
        |service: &ir::Service| options.target == Target::ArgoRollouts && service.canary.is_some();
    for service in &program.services {
        if flagger(service) {
            // Flagger rolls out one Deployment and writes the Services itself.
            out.extend(flagger::target(service).map(|o| Manifest::Deployment(Box::new(o))));
            continue;
        }
        if argo(service) {
            // The Rollout runs the versions; the Service stays.
            out.extend(argo::rollout(service).map(|o| Manifest::Rollout(Box::new(o))));
            out.extend(workloads::service(service).map(|o| Manifest::Service(Box::new(o))));
            continue;
        }
        let deployments = workloads::deployments(service);
        out.extend(
            deployments
                .into_iter()
                .map(|o| Manifest::Deployment(Box::new(o))),
        );
        out.extend(workloads::service(service).map(|o| Manifest::Service(Box::new(o))));
    }
    if options.target != Target::GatewayApi {
        // Every DestinationRule first: a route may point at another service's subsets.
        for service in program.services.iter().filter(|s| !flagger(s)) {
            let rule = istio::destination_rule(service);
            out.extend(rule.map(|o| Manifest::DestinationRule(Box::new(o))));
        }
    }
    for service in &program.services {
        match options.target {
            _ if flagger(service) => {
                out.extend(flagger::canary(service).map(|o| Manifest::FlaggerCanary(Box::new(o))));
            }
            Target::Istio | Target::Flagger | Target::ArgoRollouts => {
                let routes = istio::virtual_service(service);
                out.extend(routes.map(|o| Manifest::VirtualService(Box::new(o))));
            }
            Target::GatewayApi => {
                let routes = gateway::service_route(service);
                out.extend(routes.map(|o| Manifest::HttpRoute(Box::new(o))));
                http_routes.push((&service.namespace, &service.routes));
            }
        }
    }
    for ingress in &program.ingresses {
        out.extend(gateway::ingress_route(ingress).map(|o| Manifest::HttpRoute(Box::new(o))));
        http_routes.push((&ingress.namespace, &ingress.routes));
    }
    out.extend(
        gateway::reference_grants(&http_routes)
            .into_iter()
            .map(|o| Manifest::ReferenceGrant(Box::new(o))),
    );
    for service in program.services.iter().filter(|s| argo(s)) {
        let template = argo::analysis_template(service);
        out.extend(template.map(|o| Manifest::AnalysisTemplate(Box::new(o))));
    }
    for service in &program.services {
        let alerts = monitoring::canary_alerts(service);
        out.extend(alerts.map(|o| Manifest::PrometheusRule(Box::new(o))));
    }
    out
}
