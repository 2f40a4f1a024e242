//! Emission: [`ir::Program`] → Kubernetes manifests → YAML.
//!
//! Per service, in source order: its `DestinationRule` first (subsets must exist before a
//! route points at them), then its `VirtualService`. Emission cannot fail: the checker has
//! already rejected everything Istio would.

pub mod istio;
pub mod k8s;
pub mod yaml;

use serde::Serialize;

use crate::ir;

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
}

impl Manifest {
    /// The kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Manifest::VirtualService(o) => o.kind,
            Manifest::DestinationRule(o) => o.kind,
        }
    }

    /// The metadata.
    pub fn metadata(&self) -> &k8s::Metadata {
        match self {
            Manifest::VirtualService(o) => &o.metadata,
            Manifest::DestinationRule(o) => &o.metadata,
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

/// Every manifest of a checked program, in a deterministic order.
pub fn emit(program: &ir::Program) -> Vec<Manifest> {
    let mut out = Vec::new();
    for service in &program.services {
        out.extend(
            istio::destination_rule(service).map(|o| Manifest::DestinationRule(Box::new(o))),
        );
        out.extend(istio::virtual_service(service).map(|o| Manifest::VirtualService(Box::new(o))));
    }
    out
}
