//! Workloads: each `deploy` block → apps/v1 `Deployment`; a service with a port and
//! Deployments → v1 `Service` selecting all its versions by `app`.

use crate::hash::IndexMap;

use super::{k8s, metadata};
use crate::ir;

/// The Deployments of a service.
pub fn deployments(service: &ir::Service) -> Vec<k8s::Object<k8s::DeploymentSpec>> {
    service
        .deployments
        .iter()
        .map(|deployment| {
            let resources = (!deployment.requests.is_empty() || !deployment.limits.is_empty())
                .then(|| k8s::Resources {
                    requests: deployment.requests.clone(),
                    limits: deployment.limits.clone(),
                });
            let container = k8s::Container {
                name: deployment.container.clone(),
                image: deployment.image.clone(),
                ports: deployment
                    .port
                    .map(|port| k8s::ContainerPort {
                        name: "http",
                        container_port: port,
                    })
                    .into_iter()
                    .collect(),
                env: deployment
                    .env
                    .iter()
                    .map(|(name, value)| k8s::NameValue {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                readiness_probe: deployment.readiness.as_ref().map(|probe| k8s::Probe {
                    http_get: k8s::HttpGet {
                        path: probe.path.clone(),
                        port: probe.port,
                    },
                    initial_delay_seconds: probe.initial_delay_seconds,
                    period_seconds: probe.period_seconds,
                }),
                resources,
            };
            k8s::Object {
                api_version: "apps/v1",
                kind: "Deployment",
                metadata: metadata(&deployment.name, &service.namespace),
                spec: k8s::DeploymentSpec {
                    replicas: deployment.replicas,
                    selector: k8s::LabelSelector {
                        match_labels: deployment.labels.clone(),
                    },
                    template: k8s::PodTemplate {
                        metadata: k8s::PodMetadata {
                            labels: deployment.labels.clone(),
                            annotations: IndexMap::default(),
                        },
                        spec: k8s::PodSpec {
                            containers: vec![container],
                        },
                    },
                },
            }
        })
        .collect()
}

/// The `targetPort` of a service's Kubernetes Service, from its Deployments' container ports
/// (`ports`, at least one) and its own `port`: the Deployments' port when they all give the
/// same one, the name `http` when they all give one but not the same, else the Service's port.
pub fn target_port(ports: &[Option<u16>], port: u16) -> k8s::IntOrName {
    match ports.first().copied().flatten() {
        Some(first) if ports.iter().all(|p| *p == Some(first)) => k8s::IntOrName::Int(first),
        Some(_) if ports.iter().all(Option::is_some) => k8s::IntOrName::Name("http"),
        _ => k8s::IntOrName::Int(port),
    }
}

/// For the tools that roll a canary out (Flagger, Argo Rollouts): one Deployment named after
/// the service, running the canary's new version. It selects its pods by `app` only, so that
/// the tool's stable pods (from the previous template, labelled with the old `version`) and
/// canary pods (labelled with the new one) are all its own, and Istio's metrics and the
/// subsets still tell the versions apart.
pub fn rolled_out(service: &ir::Service) -> Option<k8s::Object<k8s::DeploymentSpec>> {
    let canary = service.canary.as_ref()?;
    let deployment = service
        .deployments
        .iter()
        .find(|d| d.version == canary.to)?;
    let renamed = ir::Deployment {
        name: service.name.clone(),
        ..deployment.clone()
    };
    let single = ir::Service {
        deployments: vec![renamed],
        ..service.clone()
    };
    let mut object = deployments(&single).pop()?;
    object.spec.selector.match_labels =
        IndexMap::from_iter([("app".to_string(), service.name.clone())]);
    Some(object)
}

/// The Kubernetes Service in front of a service's Deployments, when it declares a port. Its
/// port is named `http`, so that Istio treats the traffic as HTTP (IST0118). It targets the
/// Deployments' port: by number when they all declare the same one, by its name `http` when
/// they declare different ones, and the service's own port when none declares one.
pub fn service(service: &ir::Service) -> Option<k8s::Object<k8s::ServiceSpec>> {
    let port = service.port?;
    service.deployments.first()?;
    let ports: Vec<Option<u16>> = service.deployments.iter().map(|d| d.port).collect();
    let target_port = target_port(&ports, port);
    Some(k8s::Object {
        api_version: "v1",
        kind: "Service",
        metadata: metadata(&service.name, &service.namespace),
        spec: k8s::ServiceSpec {
            selector: IndexMap::from_iter([("app".to_string(), service.name.clone())]),
            ports: vec![k8s::ServicePort {
                name: "http",
                port,
                target_port,
            }],
        },
    })
}
