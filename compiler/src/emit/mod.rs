//! Emission: [`ir::Program`] → Kubernetes manifests → YAML.
//!
//! Order: the workloads (Deployments, then each Kubernetes Service), then every service's
//! `DestinationRule`, in source order (subsets must exist before
//! a route points at them, and a route may point at another service's subsets); then every
//! service's `VirtualService` (or, with `--target gateway-api`, its HTTPRoute); then the
//! ingresses' HTTPRoutes; then the ReferenceGrants they need; then the canaries' alerts. Emission
//! cannot fail: the checker has already rejected everything the API server or Istio would.
//!
//! [`write_yaml`] writes the Istio DestinationRules and VirtualServices (of the default target,
//! and of Argo Rollouts and Flagger) straight from the IR, without their models
//! (`write_direct`): the same bytes, faster; the models are the reference, compared with it by
//! the tests.

pub mod argo;
pub mod consul;
pub mod flagger;
pub mod gateway;
pub mod istio;
pub mod k8s;
pub mod linkerd;
pub mod monitoring;
pub mod resilience4j;
pub mod workloads;
pub mod yaml;

use serde::Serialize;

use crate::ir;
use crate::target::{LinkerdFlavour, Options, Target};

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
    /// Linkerd's older per-service routes.
    ServiceProfile(Box<k8s::Object<k8s::ServiceProfileSpec>>),
    /// Consul: the protocol, and the limits of the services it calls.
    ServiceDefaults(Box<k8s::Object<consul::ServiceDefaultsSpec>>),
    /// Consul: subsets and load balancing.
    ServiceResolver(Box<k8s::Object<consul::ServiceResolverSpec>>),
    /// Consul: the service's split.
    ServiceSplitter(Box<k8s::Object<consul::ServiceSplitterSpec>>),
    /// Consul: the service's routes.
    ServiceRouter(Box<k8s::Object<consul::ServiceRouterSpec>>),
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
    /// Resilience4j's Spring Boot properties: not a Kubernetes object.
    Resilience4j(Box<resilience4j::Application>),
    /// An object extended by `extra` blocks (crate::extra).
    Extended(Box<Extended>),
}

/// An object with fields added by `extra` blocks: its value, with what identifies it.
#[derive(Debug, Clone, PartialEq)]
pub struct Extended {
    /// `group/version`.
    pub api_version: &'static str,
    /// The kind.
    pub kind: &'static str,
    /// The object's metadata as meshc wrote it.
    pub metadata: k8s::Metadata,
    /// The whole object, `extra` fields included.
    pub value: serde_json::Value,
}

impl Serialize for Extended {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl Manifest {
    /// The kind (for Resilience4j's properties, which are no Kubernetes object, `Resilience4j`).
    pub fn kind(&self) -> &'static str {
        match self {
            Manifest::VirtualService(o) => o.kind,
            Manifest::DestinationRule(o) => o.kind,
            Manifest::HttpRoute(o) => o.kind,
            Manifest::ServiceProfile(o) => o.kind,
            Manifest::ServiceDefaults(o) => o.kind,
            Manifest::ServiceResolver(o) => o.kind,
            Manifest::ServiceSplitter(o) => o.kind,
            Manifest::ServiceRouter(o) => o.kind,
            Manifest::ReferenceGrant(o) => o.kind,
            Manifest::Deployment(o) => o.kind,
            Manifest::Service(o) => o.kind,
            Manifest::PrometheusRule(o) => o.kind,
            Manifest::FlaggerCanary(o) => o.kind,
            Manifest::Rollout(o) => o.kind,
            Manifest::AnalysisTemplate(o) => o.kind,
            Manifest::Resilience4j(_) => "Resilience4j",
            Manifest::Extended(o) => o.kind,
        }
    }

    /// The `apiVersion` of a Kubernetes object.
    pub fn api_version(&self) -> Option<&'static str> {
        Some(match self {
            Manifest::VirtualService(o) => o.api_version,
            Manifest::DestinationRule(o) => o.api_version,
            Manifest::HttpRoute(o) => o.api_version,
            Manifest::ServiceProfile(o) => o.api_version,
            Manifest::ServiceDefaults(o) => o.api_version,
            Manifest::ServiceResolver(o) => o.api_version,
            Manifest::ServiceSplitter(o) => o.api_version,
            Manifest::ServiceRouter(o) => o.api_version,
            Manifest::ReferenceGrant(o) => o.api_version,
            Manifest::Deployment(o) => o.api_version,
            Manifest::Service(o) => o.api_version,
            Manifest::PrometheusRule(o) => o.api_version,
            Manifest::FlaggerCanary(o) => o.api_version,
            Manifest::Rollout(o) => o.api_version,
            Manifest::AnalysisTemplate(o) => o.api_version,
            Manifest::Extended(o) => o.api_version,
            Manifest::Resilience4j(_) => return None,
        })
    }

    /// The metadata of a Kubernetes object.
    pub fn metadata(&self) -> Option<&k8s::Metadata> {
        Some(match self {
            Manifest::VirtualService(o) => &o.metadata,
            Manifest::DestinationRule(o) => &o.metadata,
            Manifest::HttpRoute(o) => &o.metadata,
            Manifest::ServiceProfile(o) => &o.metadata,
            Manifest::ServiceDefaults(o) => &o.metadata,
            Manifest::ServiceResolver(o) => &o.metadata,
            Manifest::ServiceSplitter(o) => &o.metadata,
            Manifest::ServiceRouter(o) => &o.metadata,
            Manifest::ReferenceGrant(o) => &o.metadata,
            Manifest::Deployment(o) => &o.metadata,
            Manifest::Service(o) => &o.metadata,
            Manifest::PrometheusRule(o) => &o.metadata,
            Manifest::FlaggerCanary(o) => &o.metadata,
            Manifest::Rollout(o) => &o.metadata,
            Manifest::AnalysisTemplate(o) => &o.metadata,
            Manifest::Extended(o) => &o.metadata,
            Manifest::Resilience4j(_) => return None,
        })
    }

    /// A file name for `-o DIR`: `<namespace>.<kind>.<name>.yaml`, lower case; Spring Boot's
    /// `application.yaml` for Resilience4j's properties.
    pub fn file_name(&self) -> String {
        let Some(metadata) = self.metadata() else {
            return "application.yaml".to_string();
        };
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
        labels: crate::hash::IndexMap::from_iter([(
            MANAGED_BY.0.to_string(),
            MANAGED_BY.1.to_string(),
        )]),
        annotations: crate::hash::IndexMap::default(),
    }
}

/// Every manifest of a checked program, in a deterministic order.
pub fn emit(program: &ir::Program, options: Options) -> Vec<Manifest> {
    let mut out = Vec::new();
    for part in parts(program) {
        emit_part(program, options, part, &mut out);
    }
    out
}

/// Writes the YAML stream of every manifest of `program`: the bytes of
/// `yaml::stream(&emit(program, options))`, handed to `write` a piece at a time, so that
/// neither the stream nor all the manifests are ever held at once. With `threads` above 1, as
/// many threads emit and write batches of [`parts`] while the caller's thread hands the pieces
/// to `write`, in order.
pub fn write_yaml<E>(
    program: &ir::Program,
    options: Options,
    threads: usize,
    write: &mut dyn FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    /// Parts per piece: about 100 KB of YAML for services like the benchmark's.
    const BATCH: usize = 256;
    write_yaml_batched(program, options, threads, BATCH, write)
}

/// [`write_yaml`] with `batch` parts per piece (small batches test the ordering).
#[doc(hidden)]
pub fn write_yaml_batched<E>(
    program: &ir::Program,
    options: Options,
    threads: usize,
    batch: usize,
    write: &mut dyn FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let parts = parts(program);
    let batches: Vec<&[Part]> = parts.chunks(batch.max(1)).collect();
    // Every document of a piece starts with `---`; the stream's first does not.
    let mut first = true;
    let mut put = |piece: &str| {
        let text = match piece.strip_prefix(yaml::SEPARATOR) {
            Some(rest) if first => rest,
            _ => piece,
        };
        first &= piece.is_empty();
        if text.is_empty() {
            return Ok(());
        }
        write(text)
    };
    // A piece's text, written into `text` (empty), which has room for the previous piece's:
    // batches are of similar sizes, so the text is rarely grown by copying it.
    let piece = |parts: &[Part], mut text: String| {
        let mut manifests = Vec::new();
        for &part in parts {
            if write_direct(&mut text, program, options, part) {
                continue;
            }
            manifests.clear();
            emit_part(program, options, part, &mut manifests);
            for manifest in &manifests {
                text.push_str(yaml::SEPARATOR);
                yaml::write_document(&mut text, manifest);
            }
        }
        text
    };
    if threads < 2 || batches.len() < 2 {
        let mut text = String::new();
        return batches.iter().try_for_each(|parts| {
            text = piece(parts, std::mem::take(&mut text));
            put(&text)?;
            text.clear();
            Ok(())
        });
    }
    let threads = threads.min(batches.len());
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                // Two pieces ahead at most: memory stays bounded however fast `write` is.
                let (sender, receiver) = std::sync::mpsc::sync_channel(2);
                // Each written piece goes back to the thread that wrote it, to hold its next
                // one: memory freed by another thread is not reused at once, and a thread that
                // writes YAML without allocating much would take new memory for every piece
                // (10 MB more at 10,000 services).
                let (giver, given) = std::sync::mpsc::channel::<String>();
                let (batches, piece) = (&batches, &piece);
                scope.spawn(move || {
                    let mut room = 0;
                    for parts in batches.iter().skip(thread).step_by(threads) {
                        let text = given
                            .try_recv()
                            .unwrap_or_else(|_| String::with_capacity(room));
                        let text = piece(parts, text);
                        room = text.len() + text.len() / 8;
                        // The receiver is gone when `write` failed: stop.
                        if sender.send(text).is_err() {
                            return;
                        }
                    }
                });
                (receiver, giver)
            })
            .collect();
        for index in 0..batches.len() {
            let (receiver, giver) = &workers[index % threads];
            // A worker ends early only by panicking, and the scope passes the panic on.
            let Ok(mut text) = receiver.recv() else {
                break;
            };
            put(&text)?;
            text.clear();
            // A worker that has sent its last piece is gone: the text is dropped here.
            let _ = giver.send(text);
        }
        Ok(())
    })
}

/// A piece of a program whose manifests come next in the output: the output is the
/// manifests of every [`parts`], in order. Each part is emitted on its own, so the parts of a
/// large program can be emitted (and written) a few at a time, on several threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A service's Deployments, Rollout and Kubernetes Service (by index).
    Workloads(usize),
    /// A service's DestinationRule.
    Policy(usize),
    /// A service's routes: a VirtualService, an HTTPRoute or a Flagger canary.
    Routes(usize),
    /// An ingress's HTTPRoute.
    Ingress(usize),
    /// The ReferenceGrants that every HTTPRoute together needs.
    ReferenceGrants,
    /// A service's Argo analysis.
    Analysis(usize),
    /// A service's canary alerts.
    Alerts(usize),
    /// What the whole program gives at once: Resilience4j's properties.
    Application,
}

/// The parts of `program`, in output order: workloads first (the pods exist before anything
/// routes to them), then every DestinationRule (a route may point at another service's
/// subsets), then routes, ingresses, grants, analyses and alerts.
pub fn parts(program: &ir::Program) -> Vec<Part> {
    let services = program.services.len();
    let per_service = [Part::Workloads, Part::Policy, Part::Routes];
    let mut parts: Vec<Part> = per_service
        .iter()
        .flat_map(|part| (0..services).map(part))
        .collect();
    parts.extend((0..program.ingresses.len()).map(Part::Ingress));
    parts.push(Part::ReferenceGrants);
    parts.extend((0..services).map(Part::Analysis));
    parts.extend((0..services).map(Part::Alerts));
    parts.push(Part::Application);
    parts
}

/// Writes the YAML of `part` (each document after `---`) straight from the IR when it is a
/// service's Istio DestinationRule or VirtualService ([`istio_objects`]) and the service has no
/// `extra` block: the bytes its models would give (see `istio`'s
/// `write_destination_rule`). `false`, with nothing written, for every other part: those are
/// emitted as models.
fn write_direct(out: &mut String, program: &ir::Program, options: Options, part: Part) -> bool {
    let (index, write): (usize, fn(&mut String, &ir::Service) -> bool) = match part {
        Part::Policy(index) => (index, istio::write_destination_rule),
        Part::Routes(index) => (index, istio::write_virtual_service),
        _ => return false,
    };
    let service = &program.services[index];
    istio_objects(options, service) && service.extras.is_empty() && write(out, service)
}

/// Whether a service's policy and routes are Istio's DestinationRule and VirtualService: with
/// Istio, with Argo Rollouts (whose Rollout sets the VirtualService's weights), and with Flagger
/// for the services it does not roll out (it writes its own for those it does).
fn istio_objects(options: Options, service: &ir::Service) -> bool {
    match options.target {
        Target::Istio | Target::ArgoRollouts => true,
        Target::Flagger => service.canary.is_none(),
        Target::GatewayApi | Target::Linkerd | Target::Consul | Target::Resilience4j => false,
    }
}

/// Appends the manifests of one part of `program` to `out`, with the `extra` blocks of its
/// service applied.
pub fn emit_part(program: &ir::Program, options: Options, part: Part, out: &mut Vec<Manifest>) {
    let start = out.len();
    emit_typed(program, options, part, out);
    let extras = match part {
        Part::Workloads(index) | Part::Policy(index) | Part::Routes(index) => {
            program.services[index].extras.as_slice()
        }
        Part::Ingress(index) => program.ingresses[index].extras.as_slice(),
        Part::ReferenceGrants | Part::Analysis(_) | Part::Alerts(_) | Part::Application => &[],
    };
    if !extras.is_empty() {
        for manifest in &mut out[start..] {
            crate::extra::extend(manifest, extras);
        }
    }
}

/// [`emit_part`] without the `extra` blocks (which the checker applies to check them).
pub(crate) fn emit_typed(
    program: &ir::Program,
    options: Options,
    part: Part,
    out: &mut Vec<Manifest>,
) {
    // A rollout tool owns the services with a canary.
    let flagger =
        |service: &ir::Service| options.target == Target::Flagger && service.canary.is_some();
    let argo =
        |service: &ir::Service| options.target == Target::ArgoRollouts && service.canary.is_some();
    match part {
        Part::Workloads(index) => {
            let service = &program.services[index];
            if flagger(service) {
                // Flagger rolls out one Deployment and writes the Services itself.
                out.extend(flagger::target(service).map(|o| Manifest::Deployment(Box::new(o))));
                return;
            }
            if argo(service) {
                // The Rollout runs the versions; the Service stays.
                out.extend(argo::rollout(service).map(|o| Manifest::Rollout(Box::new(o))));
            } else {
                let mut deployments = workloads::deployments(service);
                if options.target == Target::Consul {
                    for deployment in &mut deployments {
                        consul::annotate_service_meta(service, deployment);
                    }
                }
                out.extend(
                    deployments
                        .into_iter()
                        .map(|o| Manifest::Deployment(Box::new(o))),
                );
            }
            out.extend(workloads::service(service).map(|o| Manifest::Service(Box::new(o))));
        }
        Part::Policy(index) => {
            let service = &program.services[index];
            match options.target {
                _ if istio_objects(options, service) => {
                    let rule = istio::destination_rule(service);
                    out.extend(rule.map(|o| Manifest::DestinationRule(Box::new(o))));
                }
                Target::Consul => {
                    let defaults = consul::service_defaults(program, service);
                    out.push(Manifest::ServiceDefaults(Box::new(defaults)));
                    let resolver = consul::service_resolver(service);
                    out.extend(resolver.map(|o| Manifest::ServiceResolver(Box::new(o))));
                }
                // Flagger writes the DestinationRules of the services it rolls out; Gateway API
                // and Linkerd have no traffic policy (the checker rejected it); Resilience4j's is
                // part of the application's properties. (Istio and Argo Rollouts: above.)
                Target::Flagger
                | Target::GatewayApi
                | Target::Linkerd
                | Target::Resilience4j
                | Target::Istio
                | Target::ArgoRollouts => {}
            }
        }
        Part::Routes(index) => {
            let service = &program.services[index];
            match options.target {
                _ if istio_objects(options, service) => {
                    let routes = istio::virtual_service(service);
                    out.extend(routes.map(|o| Manifest::VirtualService(Box::new(o))));
                }
                // The services Flagger rolls out.
                Target::Flagger => {
                    let canary = flagger::canary(service);
                    out.extend(canary.map(|o| Manifest::FlaggerCanary(Box::new(o))));
                }
                Target::GatewayApi => {
                    let routes = gateway::service_route(service);
                    out.extend(routes.map(|o| Manifest::HttpRoute(Box::new(o))));
                }
                Target::Consul => {
                    let splitter = consul::service_splitter(service);
                    out.extend(splitter.map(|o| Manifest::ServiceSplitter(Box::new(o))));
                    let router = consul::service_router(service);
                    out.extend(router.map(|o| Manifest::ServiceRouter(Box::new(o))));
                }
                // Part of the application's properties. (Istio and Argo Rollouts: above.)
                Target::Resilience4j | Target::Istio | Target::ArgoRollouts => {}
                Target::Linkerd => match options.linkerd {
                    LinkerdFlavour::HttpRoute => {
                        let routes = linkerd::service_routes(service);
                        out.extend(routes.into_iter().map(|o| Manifest::HttpRoute(Box::new(o))));
                    }
                    LinkerdFlavour::ServiceProfile => {
                        let profile = linkerd::service_profile(service);
                        out.extend(profile.map(|o| Manifest::ServiceProfile(Box::new(o))));
                    }
                },
            }
        }
        Part::Ingress(index) => {
            let route = gateway::ingress_route(&program.ingresses[index]);
            out.extend(route.map(|o| Manifest::HttpRoute(Box::new(o))));
        }
        Part::ReferenceGrants => {
            // Every HTTPRoute: the services' (with `--target gateway-api` or `linkerd`) and the
            // ingresses'.
            let service_group = match options.target {
                Target::GatewayApi => Some(gateway::GROUP),
                // A ServiceProfile names its destinations by host: no grant is needed.
                Target::Linkerd => match options.linkerd {
                    LinkerdFlavour::HttpRoute => Some(linkerd::GROUP),
                    LinkerdFlavour::ServiceProfile => None,
                },
                Target::Istio
                | Target::Flagger
                | Target::ArgoRollouts
                | Target::Consul
                | Target::Resilience4j => None,
            };
            let services = program
                .services
                .iter()
                .filter_map(|s| Some((service_group?, s.namespace.as_str(), s.routes.as_slice())));
            let ingresses = program
                .ingresses
                .iter()
                .map(|i| (gateway::GROUP, i.namespace.as_str(), i.routes.as_slice()));
            let http_routes: Vec<_> = services.chain(ingresses).collect();
            out.extend(
                gateway::reference_grants(&http_routes)
                    .into_iter()
                    .map(|o| Manifest::ReferenceGrant(Box::new(o))),
            );
        }
        Part::Analysis(index) => {
            let service = &program.services[index];
            if argo(service) {
                let template = argo::analysis_template(service);
                out.extend(template.map(|o| Manifest::AnalysisTemplate(Box::new(o))));
            }
        }
        Part::Alerts(index) => {
            let alerts = monitoring::canary_alerts(&program.services[index]);
            out.extend(alerts.map(|o| Manifest::PrometheusRule(Box::new(o))));
        }
        Part::Application => {
            if options.target == Target::Resilience4j {
                let application = resilience4j::application(program);
                out.extend(application.map(|a| Manifest::Resilience4j(Box::new(a))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked program of `text`, for `options`.
    fn program(text: &str, options: Options) -> ir::Program {
        let mut sources = crate::SourceMap::new();
        sources.add("direct.mesh", text);
        let compilation = crate::compile_with(&mut sources, options);
        assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
        compilation.program
    }

    /// Whether each of the service's two parts (policy, routes) is written without models.
    fn direct(program: &ir::Program, options: Options, service: usize) -> [bool; 2] {
        [Part::Policy(service), Part::Routes(service)]
            .map(|part| write_direct(&mut String::new(), program, options, part))
    }

    #[test]
    fn istio_objects_are_written_without_models_unless_they_cannot_be() {
        // The equality of the two ways is tested on every example and book program
        // (tests/examples.rs, tests/book.rs); this says the fast way is the one taken, so that
        // it cannot go unused without a test saying so.
        let text = "namespace shop\n\
            service plain {\n  subset v1 (version = v1)\n}\n\
            route plain -> v1 timeout 5s\n\
            service quoted {\n  subset v1 (version = v1, on = \"yes\")\n}\n\
            route quoted -> v1 timeout 5s\n\
            service extended {\n  subset v1 (version = v1)\n  \
              extra DestinationRule {\n    spec.exportTo = [\".\"]\n  }\n}\n\
            route extended -> v1 timeout 5s\n";
        for target in ["istio", "argo-rollouts", "flagger"] {
            let options = Options::from_flags(&format!("--target {target}")).expect("a target");
            let program = program(text, options);
            assert_eq!(
                direct(&program, options, 0),
                [true, true],
                "{target}: plain"
            );
            // A label key that must be quoted: the policy is left to the model, the routes not.
            assert_eq!(
                direct(&program, options, 1),
                [false, true],
                "{target}: quoted"
            );
            assert_eq!(
                direct(&program, options, 2),
                [false, false],
                "{target}: extra"
            );
        }
        let options = Options::from_flags("--target gateway-api").expect("a target");
        let text = "namespace shop\nservice plain {\n  port 80\n}\nroute plain timeout 5s\n";
        assert_eq!(direct(&program(text, options), options, 0), [false, false]);
    }
}
