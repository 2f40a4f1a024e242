//! `meshc import`: Istio `VirtualService`s and `DestinationRule`s, Gateway API `HTTPRoute`s
//! (attached to Gateways: `ingress`; to a Service: its routes, for `--target gateway-api`),
//! apps/v1 `Deployment`s and v1 `Service`s (`deploy`, `port`) → `.mesh` (one text per
//! namespace), in the canonical layout of `meshc fmt`.
//!
//! The contract is the round trip: `meshc build` of the imported text gives the input back as
//! data (the comparison rules of the guide's reference manifests). So the importer is strict:
//! every field it reads has a `.mesh` form; a field meshc does not model at all goes to an
//! `extra` block of the service (W0005, `peel`); any other field, and any value that form
//! cannot hold, is an error (E0503) naming the field, and that object is not imported. Nothing
//! is dropped silently. Each object is first checked against its schema (`meshc validate`): an
//! invalid manifest is reported as such (E0501, E0502), not imported.
//!
//! Grouping: a `DestinationRule` and a `VirtualService` with the same host are one `service`;
//! its name is the host's first label, `routes named` / `policy named` keep the objects' names,
//! and a host that is not `NAME.NAMESPACE.svc.cluster.local` is written as `host`. A service
//! that routes name only as a destination is declared too (`service NAME { }`), so that the
//! program compiles. Deprecated fields are written in their current form (`consecutiveErrors`
//! as `after N consecutive 5xx`, `LEAST_CONN` as `least request`), with a note (N0004).

use crate::hash::IndexMap;
use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic};
use crate::extra::{self, Kind, Step};
use crate::source::{FileId, Span};
use crate::syntax::print::quoted as quote;
use crate::validate::Channel;

/// The `.mesh` program of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The namespace.
    pub namespace: String,
    /// The program, formatted.
    pub text: String,
}

/// Fields that meshc does not model, with their paths: the settings of an `extra` block.
type Peeled = Vec<(Vec<Step>, Value)>;

/// One service being assembled.
#[derive(Default)]
struct Service {
    host: String,
    policy_name: Option<String>,
    routes_name: Option<String>,
    /// Lines of the service block.
    items: Vec<String>,
    /// `route` declarations.
    routes: Vec<String>,
    /// The subsets its DestinationRule declares.
    subsets: Vec<String>,
    /// The (host, subset) pairs its routes send to.
    uses: Vec<(String, String)>,
    /// Where its VirtualService is.
    routes_at: Option<Span>,
    /// Its port, which the HTTPRoutes that send to it name.
    port: Option<u64>,
    /// Whether its routes are a GAMMA HTTPRoute (built with `--target gateway-api`).
    gamma: bool,
    /// Its Deployments: each version's container port, and where the Deployment is.
    deploys: Vec<(Option<u64>, Span)>,
    /// The fields of its Deployments in their `extra Deployment` block, which applies to every
    /// version (so all must have the same), with the name of the first Deployment.
    deploy_extras: Option<(Peeled, String)>,
    /// Its Kubernetes Service: the `targetPort` it gives, and where it is.
    kube_service: Option<(Value, Span)>,
}

/// Imports every `DestinationRule` and `VirtualService` of a YAML stream (`file`, holding
/// `text`). Objects of other kinds are skipped with N0003; what cannot be imported is an error.
pub fn import_stream(file: FileId, text: &str) -> (Vec<Imported>, Vec<Diagnostic>) {
    import_streams(&[(file, text)])
}

/// [`import_stream`] for several YAML streams read as one input (the files of a directory):
/// an object may be in one file and the objects of its service in others.
pub fn import_streams(streams: &[(FileId, &str)]) -> (Vec<Imported>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    // Every object, with where its `kind` is written.
    let mut objects: Vec<(Value, Span)> = Vec::new();
    for &(file, text) in streams {
        let stream = crate::validate::read_stream(file, text, Channel::Standard);
        let found = stream.diagnostics.into_iter();
        diagnostics.extend(found.filter(|d| d.code != Code::N0003));
        objects.extend(stream.objects);
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (Vec::new(), diagnostics);
    }
    let file = streams.first().map_or(0, |&(file, _)| file);
    let here = Span {
        file,
        start: 0,
        end: 0,
    };
    // namespace → host → service.
    let mut namespaces: IndexMap<String, IndexMap<String, Service>> = IndexMap::default();
    // namespace → the `ingress` declarations and routes of its HTTPRoutes.
    let mut ingresses: IndexMap<String, Vec<String>> = IndexMap::default();
    for (document, here) in &objects {
        let (document, here) = (document, *here);
        let kind = document["kind"].as_str().unwrap_or_default();
        let name = document["metadata"]["name"].as_str().unwrap_or_default();
        let namespace = document["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        if kind == "HTTPRoute" && document["apiVersion"] == "gateway.networking.k8s.io/v1" {
            let services = namespaces.entry(namespace.clone()).or_default();
            let imported =
                split_unmodelled(document, Kind::HttpRoute).and_then(|(route, peeled)| {
                    let block = extra_block(Kind::HttpRoute, &peeled)?;
                    if is_gamma(&route) {
                        gamma(&route, name, &namespace, services, block)?;
                    } else {
                        let text = ingress(&route, name, &namespace, services, block)?;
                        ingresses.entry(namespace.clone()).or_default().push(text);
                    }
                    Ok(peeled)
                });
            match imported {
                Ok(peeled) if !peeled.is_empty() => {
                    diagnostics.push(extra_warning(kind, name, &peeled, here));
                }
                Ok(_) => {}
                Err(why) => diagnostics.push(cannot(kind, name, &why, here)),
            }
            continue;
        }
        let api_version = document["apiVersion"].as_str().unwrap_or_default();
        if (kind, api_version) == ("Deployment", "apps/v1")
            || (kind, api_version) == ("Service", "v1")
        {
            let services = namespaces.entry(namespace.clone()).or_default();
            let imported = if kind == "Deployment" {
                import_deployment(document, &namespace, here, services)
            } else {
                import_kube_service(document, &namespace, here, services)
            };
            match imported {
                Ok(peeled) if !peeled.is_empty() => {
                    diagnostics.push(extra_warning(kind, name, &peeled, here));
                }
                Ok(_) => {}
                Err(why) => diagnostics.push(cannot(kind, name, &why, here)),
            }
            continue;
        }
        if kind != "DestinationRule" && kind != "VirtualService" {
            continue;
        }
        let mut notes = Vec::new();
        let extra_kind = match kind {
            "DestinationRule" => Kind::DestinationRule,
            _ => Kind::VirtualService,
        };
        // What meshc does not model goes to an `extra` block; the rest is imported.
        let result = split_unmodelled(document, extra_kind).and_then(|(document, peeled)| {
            let document = &document;
            let block = extra_block(extra_kind, &peeled)?;
            let (host, apply) = match kind {
                "DestinationRule" => destination_rule(document, &namespace, &mut notes)?,
                _ => virtual_service(document, &namespace)?,
            };
            Ok((host, apply, peeled, block))
        });
        for note in notes {
            diagnostics.push(Diagnostic::new(
                Code::N0004,
                format!("{kind} `{name}`: {note}"),
                here,
                "modernised",
                "nothing to do: the imported program says what Istio does",
            ));
        }
        match result {
            Ok((host, apply, peeled, block)) => {
                let services = namespaces.entry(namespace.clone()).or_default();
                let service = services.entry(host.clone()).or_default();
                service.host = host;
                if let Err(why) = apply(service, name) {
                    diagnostics.push(cannot(kind, name, &why, here));
                    continue;
                }
                if kind == "VirtualService" {
                    service.routes_at = Some(here);
                }
                if let Some(block) = block {
                    service.items.push(block);
                    diagnostics.push(extra_warning(kind, name, &peeled, here));
                }
            }
            Err(why) => diagnostics.push(cannot(kind, name, &why, here)),
        }
    }
    // A subset is declared by a DestinationRule: without one, its labels are unknown.
    for (namespace, services) in &namespaces {
        for service in services.values() {
            for (host, subset) in &service.uses {
                let declared = services
                    .get(host)
                    .is_some_and(|s| s.subsets.contains(subset));
                if !declared {
                    let name = service.routes_name.as_deref().unwrap_or_default();
                    diagnostics.push(cannot(
                        "VirtualService",
                        name,
                        &format!("it routes to subset `{subset}` of `{host}` (namespace `{namespace}`), which no DestinationRule of the input declares: import the VirtualService with its DestinationRule"),
                        service.routes_at.unwrap_or(here),
                    ));
                }
            }
        }
    }
    for (namespace, services) in &mut namespaces {
        for service in services.values_mut() {
            if let Err((why, at)) = finish_workloads(service) {
                let name = service_name(&service.host);
                diagnostics.push(cannot(
                    "the workloads of service",
                    &name,
                    &format!("{why} (namespace `{namespace}`)"),
                    at,
                ));
            }
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (Vec::new(), diagnostics);
    }
    let mut out = Vec::new();
    for (namespace, services) in namespaces {
        // GAMMA routes are built with `--target gateway-api`, which has no Istio objects.
        let gamma = services.values().find(|s| s.gamma);
        let istio = services
            .values()
            .find(|s| s.policy_name.is_some() || (s.routes_name.is_some() && !s.gamma));
        if let (Some(gamma), Some(istio)) = (gamma, istio) {
            let name = istio.policy_name.as_ref().or(istio.routes_name.as_ref());
            diagnostics.push(cannot(
                "HTTPRoute",
                gamma.routes_name.as_deref().unwrap_or_default(),
                &format!(
                    "namespace `{namespace}` has Istio objects (`{}`) too, and one program compiles for one target: import the HTTPRoutes attached to Services (`--target gateway-api`) and the Istio objects separately",
                    name.map_or("", String::as_str)
                ),
                here,
            ));
            continue;
        }
        let mut text = String::new();
        if gamma.is_some() {
            text.push_str("// Build with `meshc build --target gateway-api`: the routes are HTTPRoutes attached to the Services (GAMMA).\n");
        }
        text.push_str(&format!("namespace {namespace}\n"));
        // Services that routes name without declaring them.
        let mut declared: Vec<String> = services.keys().cloned().collect();
        let mut extra = Vec::new();
        for service in services.values() {
            for route in &service.routes {
                for host in unmark(route, str::to_string).1 {
                    if !declared.contains(&host) {
                        declared.push(host.clone());
                        extra.push(host);
                    }
                }
            }
        }
        // Two hosts of one name would be one service.
        let mut names: IndexMap<String, &str> = IndexMap::default();
        for host in services.keys().chain(extra.iter()) {
            let name = service_name(host);
            match names.get(&name) {
                Some(other) if *other != host.as_str() => diagnostics.push(cannot(
                    "VirtualService or DestinationRule",
                    host,
                    &format!("hosts `{other}` and `{host}` would both be `service {name}` in namespace `{namespace}`"),
                    here,
                )),
                _ => {
                    names.insert(name, host);
                }
            }
        }
        for (host, service) in &services {
            let name = service_name(host);
            let mut items = Vec::new();
            if host != &crate::ir::cluster_host(&name, &namespace) {
                items.push(format!("host \"{host}\""));
            }
            if let Some(port) = service.port {
                items.push(format!("port {port}"));
            }
            if let Some(routes) = service.routes_name.as_ref().filter(|n| **n != name) {
                items.push(format!("routes named \"{routes}\""));
            }
            if let Some(policy) = service.policy_name.as_ref().filter(|n| **n != name) {
                items.push(format!("policy named \"{policy}\""));
            }
            items.extend(service.items.iter().cloned());
            // One line when it is short (the printer keeps a one-line block that fits).
            let flat = format!("service {name} {{ {} }}", items.join("  "));
            if items.len() <= 2 && !flat.contains("{ pool") && flat.len() <= 60 {
                text.push_str(&format!("\n{flat}\n"));
            } else {
                text.push_str(&format!("\nservice {name} {{\n"));
                for item in &items {
                    text.push_str(&format!("  {item}\n"));
                }
                text.push_str("}\n");
            }
            for route in &service.routes {
                text.push_str(&format!("route {name} {}\n", unmark(route, service_name).0));
            }
        }
        for host in extra {
            text.push_str(&format!("\nservice {} {{ }}\n", service_name(&host)));
        }
        for ingress in ingresses.shift_remove(&namespace).unwrap_or_default() {
            text.push('\n');
            text.push_str(&ingress);
        }
        match crate::syntax::print::format(file, &text) {
            Ok(text) => out.push(Imported { namespace, text }),
            // A name or value that `.mesh` cannot spell (a subset `v1.2`, a namespace `1team`).
            Err(e) => diagnostics.push(cannot(
                "the objects of namespace",
                &namespace,
                &format!(
                    "they would make a program that does not parse: {}",
                    e.message
                ),
                here,
            )),
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        out.clear();
    }
    (out, diagnostics)
}

/// The metadata meshc writes: a name, a namespace, and its own label.
fn metadata(metadata: &Value) -> Result<(), String> {
    only(metadata, "metadata", &["name", "namespace", "labels"])?;
    only(
        &metadata["labels"],
        "metadata.labels",
        &[crate::emit::MANAGED_BY.0],
    )
}

/// Whether two objects' unmodelled fields are the same, in any order.
fn same_fields(a: &Peeled, b: &Peeled) -> bool {
    a.len() == b.len() && a.iter().all(|field| b.contains(field))
}

/// `document` without the fields that meshc does not model for `kind` (returned beside it),
/// its metadata checked.
fn split_unmodelled(document: &Value, kind: Kind) -> Result<(Value, Peeled), String> {
    let mut document = document.clone();
    let peeled = peel(kind, &mut document)?;
    metadata(&document["metadata"])?;
    Ok((document, peeled))
}

/// A Deployment that meshc writes for `deploy VERSION` in service APP: named `APP-VERSION`,
/// selecting and labelling its pods by `app` and `version` only, with one container. Adds the
/// `deploy` block to the service; returns the fields that go to its `extra Deployment` block.
fn import_deployment(
    document: &Value,
    namespace: &str,
    here: Span,
    services: &mut IndexMap<String, Service>,
) -> Result<Peeled, String> {
    let (document, peeled) = split_unmodelled(document, Kind::Deployment)?;
    let name = text(&document["metadata"]["name"])?;
    let spec = &document["spec"];
    only(spec, "spec", &["replicas", "selector", "template"])?;
    only(&spec["selector"], "spec.selector", &["matchLabels"])?;
    let labels = &spec["selector"]["matchLabels"];
    let (Some(app), Some(version), Some(2)) = (
        labels["app"].as_str(),
        labels["version"].as_str(),
        labels.as_object().map(serde_json::Map::len),
    ) else {
        return Err(
            "meshc selects a version's pods by the labels `app` and `version`, and no others"
                .to_string(),
        );
    };
    if name != format!("{app}-{version}") {
        return Err(format!(
            "meshc names the Deployment of version `{version}` of `{app}` `{app}-{version}`"
        ));
    }
    let template = &spec["template"];
    only(template, "spec.template", &["metadata", "spec"])?;
    only(&template["metadata"], "spec.template.metadata", &["labels"])?;
    if template["metadata"]["labels"] != *labels {
        return Err("the pods' labels are not the selector's `app` and `version`".to_string());
    }
    only(&template["spec"], "spec.template.spec", &["containers"])?;
    let containers = template["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let [container] = containers.as_slice() else {
        return Err("a `deploy` block runs one container per pod".to_string());
    };
    only(
        container,
        "spec.template.spec.containers[]",
        &[
            "name",
            "image",
            "ports",
            "env",
            "readinessProbe",
            "resources",
        ],
    )?;
    let mut lines = vec![format!("image {}", quote(text(&container["image"])?))];
    if !spec["replicas"].is_null() {
        lines.push(format!("replicas {}", number(&spec["replicas"])?));
    }
    let container_name = text(&container["name"])?;
    if container_name != app {
        lines.push(format!("container {container_name}"));
    }
    let ports = container["ports"].as_array().cloned().unwrap_or_default();
    let port = match ports.as_slice() {
        [] => None,
        [port] => {
            only(port, "containers[].ports[]", &["name", "containerPort"])?;
            if port["name"].as_str() != Some("http") {
                return Err("meshc names the container's port `http`".to_string());
            }
            let number = port["containerPort"].as_u64().ok_or("a port is a number")?;
            lines.push(format!("port {number}"));
            Some(number)
        }
        _ => return Err("a `deploy` block gives the container one port".to_string()),
    };
    let probe = &container["readinessProbe"];
    if !probe.is_null() {
        only(
            probe,
            "containers[].readinessProbe",
            &["httpGet", "initialDelaySeconds", "periodSeconds"],
        )?;
        only(
            &probe["httpGet"],
            "readinessProbe.httpGet",
            &["path", "port"],
        )?;
        let path = text(&probe["httpGet"]["path"])?;
        let probe_port = probe["httpGet"]["port"]
            .as_u64()
            .ok_or("a readiness probe's port is a number in `.mesh`")?;
        let mut line = format!("ready http {} port {probe_port}", quote(path));
        for (field, word) in [("initialDelaySeconds", "after"), ("periodSeconds", "every")] {
            if !probe[field].is_null() {
                line.push_str(&format!(" {word} {}s", number(&probe[field])?));
            }
        }
        lines.push(line);
    }
    let resources = &container["resources"];
    only(resources, "containers[].resources", &["requests", "limits"])?;
    for field in ["requests", "limits"] {
        let amounts = &resources[field];
        if amounts.is_null() {
            continue;
        }
        only(amounts, &format!("resources.{field}"), &["cpu", "memory"])?;
        let mut line = field.to_string();
        for kind in ["cpu", "memory"] {
            if !amounts[kind].is_null() {
                let amount = amounts[kind].as_str().ok_or_else(|| {
                    format!("`{field}.{kind}` is a number: meshc writes quantities as strings")
                })?;
                line.push_str(&format!(" {kind} {}", quote(amount)));
            }
        }
        lines.push(line);
    }
    for variable in container["env"].as_array().into_iter().flatten() {
        only(variable, "containers[].env[]", &["name", "value"])?;
        lines.push(format!(
            "env {} = {}",
            quote(text(&variable["name"])?),
            quote(text(&variable["value"])?)
        ));
    }
    let host = crate::ir::cluster_host(app, namespace);
    let service = services.entry(host.clone()).or_default();
    service.host = host;
    match &service.deploy_extras {
        Some((first, first_name)) if !same_fields(first, &peeled) => {
            return Err(format!(
                "its fields that `.mesh` does not model differ from Deployment `{first_name}`'s, and a service's `extra Deployment` block applies to all its versions"
            ));
        }
        Some(_) => {}
        None => {
            if let Some(block) = extra_block(Kind::Deployment, &peeled)? {
                service.items.push(block);
            }
            service.deploy_extras = Some((peeled.clone(), name.to_string()));
        }
    }
    let body: Vec<String> = lines.iter().map(|l| format!("    {l}\n")).collect();
    service
        .items
        .push(format!("deploy {version} {{\n{}  }}", body.concat()));
    service.deploys.push((port, here));
    Ok(peeled)
}

/// The Kubernetes Service meshc writes for a service with a `port` and `deploy` blocks: named
/// after it, selecting its pods by `app`, with one port named `http`.
fn import_kube_service(
    document: &Value,
    namespace: &str,
    here: Span,
    services: &mut IndexMap<String, Service>,
) -> Result<Peeled, String> {
    let (document, peeled) = split_unmodelled(document, Kind::Service)?;
    let name = text(&document["metadata"]["name"])?;
    let spec = &document["spec"];
    only(spec, "spec", &["selector", "ports"])?;
    if spec["selector"] != serde_json::json!({ "app": name }) {
        return Err(format!(
            "meshc's Service selects the pods labelled `app: {name}`, and no others"
        ));
    }
    let ports = spec["ports"].as_array().cloned().unwrap_or_default();
    let [port] = ports.as_slice() else {
        return Err("meshc's Service has one port".to_string());
    };
    only(port, "spec.ports[]", &["name", "port", "targetPort"])?;
    if port["name"].as_str() != Some("http") {
        return Err("meshc names the Service's port `http`".to_string());
    }
    let number = port["port"].as_u64().ok_or("a port is a number")?;
    let service = with_port(services, name, namespace, number)?;
    if let Some(block) = extra_block(Kind::Service, &peeled)? {
        service.items.push(block);
    }
    service.kube_service = Some((port["targetPort"].clone(), here));
    Ok(peeled)
}

/// Checks that a service's workloads build back: a Kubernetes Service comes with the
/// Deployments of the service, whose ports give its `targetPort` as meshc derives it, and a
/// service with Deployments and a port has its Service in the input.
fn finish_workloads(service: &Service) -> Result<(), (String, Span)> {
    match (&service.kube_service, service.deploys.first()) {
        (Some((_, at)), None) => Err((
            "meshc writes a Kubernetes Service together with the Deployments of its versions: import them with it".to_string(),
            *at,
        )),
        (None, Some((_, at))) if service.port.is_some() => Err((
            "its port is known (from the HTTPRoutes that send to it), so meshc would write its Kubernetes Service too: import the Service with its Deployments".to_string(),
            *at,
        )),
        (Some((target, at)), Some(_)) => {
            // Ports were validated: 1 to 65535.
            let port16 = |port: u64| u16::try_from(port).unwrap_or_default();
            let ports: Vec<Option<u16>> = service.deploys.iter().map(|(p, _)| p.map(port16)).collect();
            let derived = crate::emit::workloads::target_port(&ports, port16(service.port.unwrap_or_default()));
            let derived = match derived {
                crate::emit::k8s::IntOrName::Int(port) => Value::from(port),
                crate::emit::k8s::IntOrName::Name(name) => Value::from(name),
            };
            if *target == derived {
                Ok(())
            } else {
                Err((
                    format!("its `targetPort` is {target}, where meshc derives {derived} from the ports of the Deployments"),
                    *at,
                ))
            }
        }
        _ => Ok(()),
    }
}

/// The fields of `document` that meshc does not model for `kind`, taken out of it with their
/// paths, in document order: what import writes in an `extra` block. A field meshc models is
/// left for the importer, which writes it in its typed form or fails; so is meshc's own label.
fn peel(kind: Kind, document: &mut Value) -> Result<Peeled, String> {
    let mut peeled = Vec::new();
    let mut path = Vec::new();
    peel_under(kind, document, &mut path, &mut peeled);
    match peeled.iter().find(
        |(path, _)| !matches!(path.first(), Some(Step::Key(k)) if k == "metadata" || k == "spec"),
    ) {
        Some((path, _)) => Err(format!(
            "`{}` is not part of a manifest meshc writes",
            extra::display(path)
        )),
        None => Ok(peeled),
    }
}

fn peel_under(kind: Kind, value: &mut Value, path: &mut Vec<Step>, peeled: &mut Peeled) {
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                path.push(Step::Key(key.clone()));
                // The object's labels are looked into, for meshc's own one.
                let (labels, own_label) = match path.as_slice() {
                    [Step::Key(m), Step::Key(l), rest @ ..] if m == "metadata" && l == "labels" => {
                        (
                            rest.is_empty(),
                            rest == [Step::Key(crate::emit::MANAGED_BY.0.into())],
                        )
                    }
                    _ => (false, false),
                };
                if own_label || extra::modelled(kind, path).is_some() {
                    // Imported in its typed form (or refused by the importer).
                } else if labels || extra::leads_to_modelled(kind, path) {
                    if let Some(inner) = map.get_mut(&key) {
                        peel_under(kind, inner, path, peeled);
                    }
                } else if let Some(inner) = map.shift_remove(&key) {
                    peeled.push((path.clone(), inner));
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                path.push(Step::Index(index));
                peel_under(kind, item, path, peeled);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The `extra KIND { ... }` block of the `peeled` fields (none if there are none): a field
/// whose value is an object of several settings as a group, the others one setting a line.
fn extra_block(kind: Kind, peeled: &[(Vec<Step>, Value)]) -> Result<Option<String>, String> {
    if peeled.is_empty() {
        return Ok(None);
    }
    let mut block = format!("extra {} {{\n", kind.name());
    for (path, value) in peeled {
        let mut settings = Vec::new();
        extra_settings(&mut Vec::new(), value, &mut settings)
            .map_err(|why| format!("`{}`{why}", extra::display(path)))?;
        // A group's paths start with a key written as a word (`["a.b/c"]` cannot start one).
        let grouped = value.is_object()
            && settings.len() > 1
            && settings.iter().all(
                |(relative, _)| matches!(relative.first(), Some(Step::Key(k)) if extra::is_word(k)),
            );
        if grouped {
            block.push_str(&format!("    {} {{\n", extra::display(path)));
            for (relative, literal) in settings {
                block.push_str(&format!(
                    "      {} = {literal}\n",
                    extra::display(&relative)
                ));
            }
            block.push_str("    }\n");
        } else {
            for (relative, literal) in settings {
                let mut full = path.clone();
                full.extend(relative);
                block.push_str(&format!("    {} = {literal}\n", extra::display(&full)));
            }
        }
    }
    block.push_str("  }");
    Ok(Some(block))
}

/// The settings that give `value` at `path` (relative), as (path, `.mesh` value): objects key
/// by key, lists of scalars whole, other lists item by item. Errs with why a value has no
/// `.mesh` form (after the field's path).
fn extra_settings(
    path: &mut Vec<Step>,
    value: &Value,
    out: &mut Vec<(Vec<Step>, String)>,
) -> Result<(), String> {
    match value {
        Value::Object(map) if map.is_empty() => out.push((path.clone(), "{}".to_string())),
        Value::Object(map) => {
            for (key, inner) in map {
                path.push(Step::Key(key.clone()));
                extra_settings(path, inner, out)?;
                path.pop();
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let literals: Result<Vec<String>, String> = items.iter().map(extra_literal).collect();
            out.push((path.clone(), format!("[{}]", literals?.join(", "))));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(Step::Index(index));
                extra_settings(path, item, out)?;
                path.pop();
            }
        }
        scalar => out.push((path.clone(), extra_literal(scalar)?)),
    }
    Ok(())
}

/// A scalar as a `.mesh` literal that gives it back: strings quoted (a duration stays a
/// string), numbers as written, `true`/`false`.
fn extra_literal(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(quote(s)),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        Value::Number(n) => match n.as_f64() {
            // `.mesh` numbers are written `1.5`: no sign, no exponent (which `Display` never
            // writes); a whole one keeps `.0`, so that it reads back as a float.
            Some(f) if f >= 0.0 && f.is_finite() => {
                let text = f.to_string();
                Ok(if text.contains('.') {
                    text
                } else {
                    format!("{text}.0")
                })
            }
            _ => Err(format!(" holds {n}: `.mesh` has no negative numbers")),
        },
        Value::Null => Err(" holds null, which an `extra` block cannot set".to_string()),
        Value::Array(_) | Value::Object(_) => {
            Err(" holds a list inside a list, which an `extra` block cannot write".to_string())
        }
    }
}

/// W0005 for the fields of an object imported into an `extra` block.
fn extra_warning(kind: &str, name: &str, peeled: &[(Vec<Step>, Value)], span: Span) -> Diagnostic {
    let fields: Vec<String> = peeled
        .iter()
        .map(|(path, _)| format!("`{}`", extra::display(path)))
        .collect();
    Diagnostic::new(
        Code::W0005,
        format!(
            "{kind} `{name}`: {} imported into an `extra` block",
            if fields.len() == 1 {
                format!("{} is", fields[0])
            } else {
                format!("{} are", fields.join(", "))
            }
        ),
        span,
        "not modelled by meshc",
        "nothing to do: meshc checks these fields against the CRD at every build; move each to its typed form when `.mesh` gets one (E0504 says when)",
    )
}

/// E0503 for an object that cannot be imported.
fn cannot(kind: &str, name: &str, why: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0503,
        format!("{kind} `{name}` cannot be imported: {why}"),
        span,
        "not imported",
        "write this part by hand in `.mesh`, or leave the object as YAML beside meshc's output",
    )
}

type Apply = Box<dyn FnOnce(&mut Service, &str) -> Result<(), String>>;

/// The service name of a host: its first label.
fn service_name(host: &str) -> String {
    host.split('.').next().unwrap_or(host).to_string()
}

/// Routes keep the hosts they send to in `⟨host⟩` marks until the services are known: the
/// marks name the services a program must declare. Only marks outside strings count (a
/// string's content may hold anything). Returns the route with each mark replaced by
/// `name(host)`, and the hosts marked.
fn unmark(route: &str, name: impl Fn(&str) -> String) -> (String, Vec<String>) {
    let mut out = String::with_capacity(route.len());
    let mut hosts = Vec::new();
    let mut chars = route.chars();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => in_string = !in_string,
            '\\' if in_string => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
                continue;
            }
            '⟨' if !in_string => {
                let host: String = chars.by_ref().take_while(|&c| c != '⟩').collect();
                out.push_str(&name(&host));
                hosts.push(host);
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    (out, hosts)
}

/// Fails unless `object` has only the keys in `known`.
fn only(object: &Value, at: &str, known: &[&str]) -> Result<(), String> {
    if let Some(map) = object.as_object() {
        if let Some(other) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("`{at}.{other}` has no `.mesh` form yet"));
        }
    }
    Ok(())
}

/// A number as written in `.mesh` (`10`, `0.5`).
fn number(value: &Value) -> Result<String, String> {
    match value {
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or_default();
            if f.fract() == 0.0 && f >= 0.0 {
                Ok(format!("{}", f as u64))
            } else {
                Ok(format!("{f}"))
            }
        }
        other => Err(format!("expected a number, found {other}")),
    }
}

fn text(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("expected a string, found {value}"))
}

/// A DestinationRule's host and its service's items; `notes` gets what was modernised.
fn destination_rule(
    document: &Value,
    namespace: &str,
    notes: &mut Vec<String>,
) -> Result<(String, Apply), String> {
    let spec = &document["spec"];
    only(spec, "spec", &["host", "trafficPolicy", "subsets"])?;
    let host = full_host(text(&spec["host"])?, namespace);
    let mut items = Vec::new();
    let mut subsets = Vec::new();
    for subset in spec["subsets"].as_array().into_iter().flatten() {
        subsets.push(text(&subset["name"])?.to_string());
        only(
            subset,
            "spec.subsets[]",
            &["name", "labels", "trafficPolicy"],
        )?;
        let labels: Vec<String> = subset["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| Ok(format!("{k} = {}", quote(text(v)?))))
            .collect::<Result<_, String>>()?;
        if labels.is_empty() {
            return Err(format!(
                "subset `{}` has no labels: a `.mesh` subset selects pods by labels",
                text(&subset["name"])?
            ));
        }
        let mut line = format!("subset {} ({})", text(&subset["name"])?, labels.join(", "));
        let policy = traffic_policy(
            &subset["trafficPolicy"],
            "spec.subsets[].trafficPolicy",
            notes,
        )?;
        if !policy.is_empty() {
            line.push_str(&format!(" {{ {} }}", policy.join("  ")));
        }
        items.push(line);
    }
    items.extend(traffic_policy(
        &spec["trafficPolicy"],
        "spec.trafficPolicy",
        notes,
    )?);
    let apply: Apply = Box::new(move |service: &mut Service, name: &str| {
        if service.policy_name.is_some() {
            return Err("a second DestinationRule for the same host".to_string());
        }
        service.policy_name = Some(name.to_string());
        service.items.splice(0..0, items);
        service.subsets = subsets;
        Ok(())
    });
    Ok((host, apply))
}

/// A host as the full name meshc would write (a short name is a service of the namespace).
fn full_host(host: &str, namespace: &str) -> String {
    if host.contains('.') {
        host.to_string()
    } else {
        crate::ir::cluster_host(host, namespace)
    }
}

/// The `pool`, `eject` and `balance` items of a `trafficPolicy`.
fn traffic_policy(
    policy: &Value,
    at: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<String>, String> {
    if policy.is_null() {
        return Ok(Vec::new());
    }
    only(
        policy,
        at,
        &["connectionPool", "outlierDetection", "loadBalancer"],
    )?;
    let mut out = Vec::new();
    let pool = &policy["connectionPool"];
    if !pool.is_null() {
        only(pool, &format!("{at}.connectionPool"), &["tcp", "http"])?;
        let tcp = &pool["tcp"];
        let http = &pool["http"];
        only(
            tcp,
            &format!("{at}.connectionPool.tcp"),
            &["maxConnections", "connectTimeout"],
        )?;
        only(
            http,
            &format!("{at}.connectionPool.http"),
            &[
                "http1MaxPendingRequests",
                "http2MaxRequests",
                "maxRequestsPerConnection",
                "maxRetries",
                "idleTimeout",
                "h2UpgradePolicy",
            ],
        )?;
        let mut settings = Vec::new();
        let fields: [(&Value, &str, &str); 8] = [
            (tcp, "maxConnections", "max connections"),
            (tcp, "connectTimeout", "connect timeout"),
            (http, "http1MaxPendingRequests", "max pending requests"),
            (http, "http2MaxRequests", "max requests"),
            (
                http,
                "maxRequestsPerConnection",
                "max requests per connection",
            ),
            (http, "maxRetries", "max retries"),
            (http, "idleTimeout", "idle timeout"),
            (http, "h2UpgradePolicy", "h2 upgrade"),
        ];
        for (object, field, words) in fields {
            let value = &object[field];
            if value.is_null() {
                continue;
            }
            let value = match (field, value) {
                ("h2UpgradePolicy", Value::String(s)) => match s.as_str() {
                    "UPGRADE" => "on".to_string(),
                    "DO_NOT_UPGRADE" => "off".to_string(),
                    "DEFAULT" => "default".to_string(),
                    other => return Err(format!("`h2UpgradePolicy: {other}` is not known")),
                },
                (_, Value::String(s)) => s.clone(),
                (_, other) => number(other)?,
            };
            settings.push(format!("{words} {value}"));
        }
        out.push(format!("pool {{ {} }}", settings.join("  ")));
    }
    let eject = &policy["outlierDetection"];
    if !eject.is_null() {
        only(
            eject,
            &format!("{at}.outlierDetection"),
            &[
                "consecutive5xxErrors",
                "consecutiveErrors",
                "consecutiveGatewayErrors",
                "interval",
                "baseEjectionTime",
                "maxEjectionPercent",
                "minHealthPercent",
            ],
        )?;
        let mut settings = Vec::new();
        let current = eject["consecutive5xxErrors"].as_u64();
        if let Some(count) = current {
            settings.push(format!("after {count} consecutive 5xx"));
        }
        // Deprecated, ignored by Istio since 1.7: written as the field Istio reads.
        if let Some(count) = eject["consecutiveErrors"].as_u64() {
            if current.is_none() {
                settings.push(format!("after {count} consecutive 5xx"));
                notes.push(format!("`outlierDetection.consecutiveErrors: {count}` (ignored by Istio since 1.7) is imported as `after {count} consecutive 5xx` (`consecutive5xxErrors`)"));
            } else {
                notes.push(format!("`outlierDetection.consecutiveErrors: {count}` (ignored by Istio since 1.7) is left out: `consecutive5xxErrors` is set"));
            }
        }
        if let Some(count) = eject["consecutiveGatewayErrors"].as_u64() {
            settings.push(format!("after {count} consecutive gateway errors"));
        }
        for (field, words) in [("interval", "check every"), ("baseEjectionTime", "for")] {
            if let Some(value) = eject[field].as_str() {
                settings.push(format!("{words} {value}"));
            }
        }
        if let Some(value) = eject["maxEjectionPercent"].as_u64() {
            settings.push(format!("at most {value}%"));
        }
        if let Some(value) = eject["minHealthPercent"].as_u64() {
            settings.push(format!("keep {value}% healthy"));
        }
        out.push(format!("eject {{ {} }}", settings.join("  ")));
    }
    let balance = &policy["loadBalancer"];
    if !balance.is_null() {
        only(
            balance,
            &format!("{at}.loadBalancer"),
            &["simple", "consistentHash"],
        )?;
        let kind = if let Some(simple) = balance["simple"].as_str() {
            match simple {
                "ROUND_ROBIN" => "round robin".to_string(),
                "LEAST_REQUEST" => "least request".to_string(),
                "LEAST_CONN" => {
                    notes.push("`loadBalancer.simple: LEAST_CONN` (deprecated; Istio reads it as LEAST_REQUEST) is imported as `balance least request`".to_string());
                    "least request".to_string()
                }
                "RANDOM" => "random".to_string(),
                "PASSTHROUGH" => "passthrough".to_string(),
                other => {
                    return Err(format!(
                        "`loadBalancer.simple: {other}` has no `.mesh` form"
                    ))
                }
            }
        } else {
            let hash = &balance["consistentHash"];
            only(
                hash,
                &format!("{at}.loadBalancer.consistentHash"),
                &[
                    "httpHeaderName",
                    "httpCookie",
                    "useSourceIp",
                    "httpQueryParameterName",
                ],
            )?;
            if let Some(header) = hash["httpHeaderName"].as_str() {
                format!("hash header {}", quote(header))
            } else if let Some(query) = hash["httpQueryParameterName"].as_str() {
                format!("hash query {}", quote(query))
            } else if hash["useSourceIp"] == Value::Bool(true) {
                "hash source ip".to_string()
            } else {
                let cookie = &hash["httpCookie"];
                only(
                    cookie,
                    "consistentHash.httpCookie",
                    &["name", "ttl", "path"],
                )?;
                let mut out = format!("hash cookie {}", quote(text(&cookie["name"])?));
                if let Some(ttl) = cookie["ttl"].as_str() {
                    out.push_str(&format!(" ttl {ttl}"));
                }
                if let Some(path) = cookie["path"].as_str() {
                    out.push_str(&format!(" path {}", quote(path)));
                }
                out
            }
        };
        out.push(format!("balance {kind}"));
    }
    Ok(out)
}

fn virtual_service(document: &Value, namespace: &str) -> Result<(String, Apply), String> {
    let spec = &document["spec"];
    only(spec, "spec", &["hosts", "http"])?;
    let hosts = spec["hosts"].as_array().cloned().unwrap_or_default();
    let [host] = hosts.as_slice() else {
        return Err(
            "`spec.hosts` must name one host: meshc writes one VirtualService per service"
                .to_string(),
        );
    };
    let host = full_host(text(host)?, namespace);
    let mut routes = Vec::new();
    let mut uses = Vec::new();
    for rule in spec["http"].as_array().into_iter().flatten() {
        routes.push(http_route(rule, &host, namespace, &mut uses)?);
    }
    let apply: Apply = Box::new(move |service: &mut Service, name: &str| {
        if service.routes_name.is_some() {
            return Err("a second VirtualService for the same host".to_string());
        }
        service.routes_name = Some(name.to_string());
        service.routes = routes;
        service.uses = uses;
        Ok(())
    });
    Ok((host, apply))
}

/// A string match: `= "v"`, `prefix "v"`, `regex "v"`.
fn string_match(value: &Value, at: &str) -> Result<String, String> {
    only(value, at, &["exact", "prefix", "regex"])?;
    for (key, op) in [("exact", "="), ("prefix", "prefix"), ("regex", "regex")] {
        if let Some(s) = value[key].as_str() {
            return Ok(format!("{op} {}", quote(s)));
        }
    }
    Err(format!("`{at}` has no `exact`, `prefix` or `regex`"))
}

/// A destination: the own service (and subset), or another service as a `⟨host⟩` mark.
fn destination(
    value: &Value,
    own: &str,
    namespace: &str,
    uses: &mut Vec<(String, String)>,
) -> Result<String, String> {
    only(value, "destination", &["host", "subset"])?;
    let host = full_host(text(&value["host"])?, namespace);
    let subset = value["subset"].as_str();
    if let Some(subset) = subset {
        uses.push((host.clone(), subset.to_string()));
    }
    let suffix = format!(".{namespace}.svc.cluster.local");
    match (host == own, subset) {
        (true, Some(subset)) => Ok(subset.to_string()),
        (true, None) => Ok(format!("⟨{host}⟩")),
        (false, _) if !host.ends_with(&suffix) => Err(format!(
            "destination `{host}` is not a service of namespace `{namespace}`"
        )),
        (false, Some(subset)) => Ok(format!("⟨{host}⟩.{subset}")),
        (false, None) => Ok(format!("⟨{host}⟩")),
    }
}

fn http_route(
    rule: &Value,
    own: &str,
    namespace: &str,
    uses: &mut Vec<(String, String)>,
) -> Result<String, String> {
    only(
        rule,
        "spec.http[]",
        &[
            "match",
            "route",
            "timeout",
            "retries",
            "fault",
            "mirror",
            "mirrorPercentage",
            "headers",
            "rewrite",
            "redirect",
        ],
    )?;
    let mut out = Vec::new();
    let alternatives = rule["match"].as_array().cloned().unwrap_or_default();
    if !alternatives.is_empty() {
        let mut alts = Vec::new();
        for alt in &alternatives {
            only(
                alt,
                "spec.http[].match[]",
                &["headers", "uri", "method", "queryParams"],
            )?;
            if alt.as_object().is_none_or(|m| m.is_empty()) {
                return Err("an empty `match` has no `.mesh` form: leave the match out".to_string());
            }
            let mut conditions = Vec::new();
            for (name, matcher) in alt["headers"].as_object().into_iter().flatten() {
                conditions.push(format!(
                    "header {} {}",
                    quote(name),
                    string_match(matcher, "headers")?
                ));
            }
            if !alt["uri"].is_null() {
                conditions.push(format!("uri {}", string_match(&alt["uri"], "uri")?));
            }
            if !alt["method"].is_null() {
                conditions.push(format!(
                    "method {}",
                    string_match(&alt["method"], "method")?
                ));
            }
            for (name, matcher) in alt["queryParams"].as_object().into_iter().flatten() {
                conditions.push(format!(
                    "query {} {}",
                    quote(name),
                    string_match(matcher, "queryParams")?
                ));
            }
            alts.push(conditions.join(" and "));
        }
        out.push(format!("when {}", alts.join(" or ")));
    }
    let mut destinations = Vec::new();
    for route in rule["route"].as_array().into_iter().flatten() {
        only(route, "spec.http[].route[]", &["destination", "weight"])?;
        let mut text = destination(&route["destination"], own, namespace, uses)?;
        if !route["weight"].is_null() {
            text.push_str(&format!(" {}%", number(&route["weight"])?));
        }
        destinations.push(text);
    }
    let redirect = &rule["redirect"];
    if destinations.is_empty() && redirect.is_null() {
        return Err(
            "a rule without `route` or `redirect` (a direct response) has no `.mesh` form yet"
                .to_string(),
        );
    }
    if !redirect.is_null() {
        only(
            redirect,
            "spec.http[].redirect",
            &[
                "uri",
                "prefixRewrite",
                "authority",
                "port",
                "scheme",
                "redirectCode",
            ],
        )?;
        let mut parts = redirect_head(redirect, "authority")?;
        if let Some(uri) = redirect["uri"].as_str() {
            parts.push(format!("path {}", quote(uri)));
        }
        if let Some(prefix) = redirect["prefixRewrite"].as_str() {
            parts.push(format!("prefix {}", quote(prefix)));
        }
        if !redirect["redirectCode"].is_null() {
            parts.push(format!("status {}", number(&redirect["redirectCode"])?));
        }
        out.push(parts.join(" "));
        return Ok(out.join(" "));
    }
    // Without `->`, a route goes to its own service, as the VirtualService's one destination.
    let own_only = destinations.len() == 1 && destinations[0] == format!("⟨{own}⟩");
    if !own_only {
        out.push(format!("-> {}", destinations.join(", ")));
    }
    if let Some(timeout) = rule["timeout"].as_str() {
        out.push(format!("timeout {timeout}"));
    }
    let retries = &rule["retries"];
    if !retries.is_null() {
        only(
            retries,
            "spec.http[].retries",
            &["attempts", "perTryTimeout", "retryOn"],
        )?;
        let mut text = format!("retry {}", number(&retries["attempts"])?);
        if let Some(per_try) = retries["perTryTimeout"].as_str() {
            text.push_str(&format!(" per try {per_try}"));
        }
        if let Some(on) = retries["retryOn"].as_str() {
            let on: Vec<&str> = on.split(',').map(str::trim).collect();
            if on.iter().any(|c| c.is_empty()) {
                return Err(format!("`retryOn` holds an empty condition: {on:?}"));
            }
            text.push_str(&format!(" on {}", on.join(", ")));
        }
        out.push(text);
    }
    let fault = &rule["fault"];
    if !fault.is_null() {
        only(fault, "spec.http[].fault", &["delay", "abort"])?;
        let delay = &fault["delay"];
        if !delay.is_null() {
            only(delay, "fault.delay", &["fixedDelay", "percentage"])?;
            out.push(format!(
                "fault delay {} for {}%",
                text(&delay["fixedDelay"])?,
                number(&delay["percentage"]["value"])?
            ));
        }
        let abort = &fault["abort"];
        if !abort.is_null() {
            only(
                abort,
                "fault.abort",
                &["httpStatus", "grpcStatus", "percentage"],
            )?;
            let status = match abort["grpcStatus"].as_str() {
                Some(grpc) => format!("grpc {grpc}"),
                None => number(&abort["httpStatus"])?,
            };
            out.push(format!(
                "fault abort {status} for {}%",
                number(&abort["percentage"]["value"])?
            ));
        }
    }
    let rewrite = &rule["rewrite"];
    if !rewrite.is_null() {
        only(rewrite, "spec.http[].rewrite", &["uri", "authority"])?;
        if let Some(uri) = rewrite["uri"].as_str() {
            // Istio replaces the matched prefix, or else the whole path.
            let prefixes = alternatives
                .iter()
                .filter(|a| !a["uri"]["prefix"].is_null())
                .count();
            let what = match prefixes {
                0 => "path",
                n if n == alternatives.len() => "prefix",
                _ => return Err(
                    "a `rewrite.uri` on a rule with prefix and other matches has no `.mesh` form"
                        .to_string(),
                ),
            };
            out.push(format!("rewrite {what} {}", quote(uri)));
        }
        if let Some(authority) = rewrite["authority"].as_str() {
            out.push(format!("rewrite authority {}", quote(authority)));
        }
    }
    if rule["mirror"].is_null() && !rule["mirrorPercentage"].is_null() {
        return Err("`mirrorPercentage` without `mirror`".to_string());
    }
    if !rule["mirror"].is_null() {
        let target = destination(&rule["mirror"], own, namespace, uses)?;
        let percent = number(&rule["mirrorPercentage"]["value"])?;
        out.push(format!("mirror {target} {percent}%"));
    }
    let headers = &rule["headers"];
    if !headers.is_null() {
        only(headers, "spec.http[].headers", &["request", "response"])?;
        for dir in ["request", "response"] {
            let ops = &headers[dir];
            if ops.is_null() {
                continue;
            }
            only(ops, &format!("headers.{dir}"), &["set", "add", "remove"])?;
            let mut changes = Vec::new();
            for op in ["set", "add"] {
                for (name, value) in ops[op].as_object().into_iter().flatten() {
                    changes.push((op, name.as_str(), text(value)?));
                }
            }
            out.extend(header_clauses(dir, &changes, &ops["remove"])?);
        }
    }
    Ok(out.join(" "))
}

/// A Gateway API `HTTPRoute` attached to Gateways: an `ingress` and its routes. The Services
/// it sends to are declared with their ports in `services`.
/// An HTTPRoute attached to Gateways: an `ingress` (with `extra`, its `extra` block) and its
/// routes.
fn ingress(
    document: &Value,
    name: &str,
    namespace: &str,
    services: &mut IndexMap<String, Service>,
    extra: Option<String>,
) -> Result<String, String> {
    let spec = &document["spec"];
    only(spec, "spec", &["parentRefs", "hostnames", "rules"])?;
    let mut text = format!("ingress {name} {{\n");
    for parent in spec["parentRefs"].as_array().into_iter().flatten() {
        only(
            parent,
            "spec.parentRefs[]",
            &["group", "kind", "name", "namespace", "sectionName"],
        )?;
        let gateway = parent["group"]
            .as_str()
            .is_none_or(|g| g == "gateway.networking.k8s.io")
            && parent["kind"].as_str().is_none_or(|k| k == "Gateway");
        if !gateway {
            return Err(
                "an HTTPRoute attached to both Gateways and Services has no `.mesh` form"
                    .to_string(),
            );
        }
        let mut line = format!("  gateway {}", self::text(&parent["name"])?);
        if let Some(ns) = parent["namespace"].as_str() {
            line.push_str(&format!(" in {ns}"));
        }
        if let Some(section) = parent["sectionName"].as_str() {
            line.push_str(&format!(" section {section}"));
        }
        text.push_str(&line);
        text.push('\n');
    }
    for hostname in spec["hostnames"].as_array().into_iter().flatten() {
        text.push_str(&format!("  hostname {}\n", quote(self::text(hostname)?)));
    }
    if let Some(extra) = extra {
        text.push_str(&format!("  {extra}\n"));
    }
    text.push_str("}\n");
    for rule in route_rules(spec, namespace, services)? {
        text.push_str(&format!("route {name} {rule}\n"));
    }
    Ok(text)
}

/// An HTTPRoute attached to a Service (GAMMA): the service's routes, for `--target
/// gateway-api`.
fn gamma(
    document: &Value,
    name: &str,
    namespace: &str,
    services: &mut IndexMap<String, Service>,
    extra: Option<String>,
) -> Result<(), String> {
    let spec = &document["spec"];
    only(spec, "spec", &["parentRefs", "rules"])?;
    let parents = spec["parentRefs"].as_array().cloned().unwrap_or_default();
    let [parent] = parents.as_slice() else {
        return Err("an HTTPRoute attached to several Services has no `.mesh` form: meshc writes one HTTPRoute per service".to_string());
    };
    only(parent, "spec.parentRefs[]", &["group", "kind", "name"])?;
    let service_name = text(&parent["name"])?.to_string();
    let host = crate::ir::cluster_host(&service_name, namespace);
    // Declared before the services its routes send to.
    services.entry(host.clone()).or_default().host = host.clone();
    let rules = route_rules(spec, namespace, services)?;
    let service = services.entry(host).or_default();
    if service.routes_name.is_some() {
        return Err(format!(
            "a second set of routes for service `{service_name}`"
        ));
    }
    service.routes_name = Some(name.to_string());
    service.routes = rules;
    service.gamma = true;
    service.items.extend(extra);
    Ok(())
}

/// Whether an HTTPRoute is attached to a Service (GAMMA) rather than to Gateways.
fn is_gamma(document: &Value) -> bool {
    document["spec"]["parentRefs"]
        .as_array()
        .is_some_and(|parents| {
            parents
                .iter()
                .any(|p| p["group"].as_str() == Some("") && p["kind"].as_str() == Some("Service"))
        })
}

/// The rules of an HTTPRoute, each as the part of a `route` declaration after its name; the
/// Services its backends name are declared in `services` with their port.
fn route_rules(
    spec: &Value,
    namespace: &str,
    services: &mut IndexMap<String, Service>,
) -> Result<Vec<String>, String> {
    let mut rules = Vec::new();
    for rule in spec["rules"].as_array().into_iter().flatten() {
        only(
            rule,
            "spec.rules[]",
            &["matches", "filters", "backendRefs", "timeouts"],
        )?;
        let mut parts = Vec::new();
        let mut alts = Vec::new();
        for alt in rule["matches"].as_array().into_iter().flatten() {
            only(
                alt,
                "spec.rules[].matches[]",
                &["path", "headers", "queryParams", "method"],
            )?;
            let mut conditions = Vec::new();
            let path = &alt["path"];
            if !path.is_null() {
                only(path, "matches[].path", &["type", "value"])?;
                let op = match path["type"].as_str().unwrap_or("PathPrefix") {
                    "Exact" => "=",
                    "PathPrefix" => "prefix",
                    _ => "regex",
                };
                let value = path["value"].as_str().unwrap_or("/");
                conditions.push(format!("uri {op} {}", quote(value)));
            }
            for (field, word) in [("headers", "header"), ("queryParams", "query")] {
                for matcher in alt[field].as_array().into_iter().flatten() {
                    only(
                        matcher,
                        &format!("matches[].{field}[]"),
                        &["name", "value", "type"],
                    )?;
                    let op = match matcher["type"].as_str().unwrap_or("Exact") {
                        "Exact" => "=",
                        _ => "regex",
                    };
                    conditions.push(format!(
                        "{word} {} {op} {}",
                        quote(self::text(&matcher["name"])?),
                        quote(self::text(&matcher["value"])?)
                    ));
                }
            }
            if let Some(method) = alt["method"].as_str() {
                conditions.push(format!("method {method}"));
            }
            if conditions.is_empty() {
                return Err("an empty match has no `.mesh` form: leave the match out".to_string());
            }
            alts.push(conditions.join(" and "));
        }
        if !alts.is_empty() {
            parts.push(format!("when {}", alts.join(" or ")));
        }
        let mut backends = Vec::new();
        for backend in rule["backendRefs"].as_array().into_iter().flatten() {
            only(
                backend,
                "spec.rules[].backendRefs[]",
                &["group", "kind", "name", "port", "weight"],
            )?;
            let service_kind = backend["group"].as_str().is_none_or(str::is_empty)
                && backend["kind"].as_str().is_none_or(|k| k == "Service");
            if !service_kind {
                return Err("a backend that is not a Service has no `.mesh` form".to_string());
            }
            let backend_name = declare_backend(backend, namespace, services)?;
            let mut text = backend_name.to_string();
            if !backend["weight"].is_null() {
                text.push_str(&format!(" {}%", number(&backend["weight"])?));
            }
            backends.push(text);
        }
        if !backends.is_empty() {
            parts.push(format!("-> {}", backends.join(", ")));
        }
        for filter in rule["filters"].as_array().into_iter().flatten() {
            parts.extend(route_filter(filter, namespace, services)?);
        }
        let timeouts = &rule["timeouts"];
        if !timeouts.is_null() {
            only(
                timeouts,
                "spec.rules[].timeouts",
                &["request", "backendRequest"],
            )?;
            if let Some(request) = timeouts["request"].as_str() {
                parts.push(format!("timeout {request}"));
            }
            if let Some(backend) = timeouts["backendRequest"].as_str() {
                parts.push(format!("backend timeout {backend}"));
            }
        }
        rules.push(parts.join(" "));
    }
    Ok(rules)
}

/// `request|response set|add NAME = "VALUE"` for each change, then `... remove A, B` for the
/// names listed in `remove`.
fn header_clauses(
    dir: &str,
    changes: &[(&str, &str, &str)],
    remove: &Value,
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = changes
        .iter()
        .map(|(op, name, value)| format!("{dir} {op} {} = {}", quote(name), quote(value)))
        .collect();
    let removed: Vec<String> = remove
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| text(n).map(quote))
        .collect::<Result<_, _>>()?;
    if !removed.is_empty() {
        out.push(format!("{dir} remove {}", removed.join(", ")));
    }
    Ok(out)
}

/// An HTTPRoute path modifier (`ReplacePrefixMatch` or `ReplaceFullPath`) as `PREFIX "..."`
/// or `FULL "..."`.
fn path_modifier(path: &Value, at: &str, prefix: &str, full: &str) -> Result<String, String> {
    only(path, at, &["type", "replacePrefixMatch", "replaceFullPath"])?;
    Ok(match text(&path["type"])? {
        "ReplacePrefixMatch" => format!("{prefix} {}", quote(text(&path["replacePrefixMatch"])?)),
        _ => format!("{full} {}", quote(text(&path["replaceFullPath"])?)),
    })
}

/// The clauses of an HTTPRoute filter.
/// `redirect [scheme S] [host "H"] [port N]`: how a redirect clause starts, for a
/// VirtualService's redirect (host field `authority`) and an HTTPRoute's (`hostname`).
fn redirect_head(redirect: &Value, host_field: &str) -> Result<Vec<String>, String> {
    let mut parts = vec!["redirect".to_string()];
    if let Some(scheme) = redirect["scheme"].as_str() {
        parts.push(format!("scheme {scheme}"));
    }
    if let Some(host) = redirect[host_field].as_str() {
        parts.push(format!("host {}", quote(host)));
    }
    if !redirect["port"].is_null() {
        parts.push(format!("port {}", number(&redirect["port"])?));
    }
    Ok(parts)
}

/// The Service a backend reference names, declared in `services` with its port (which every
/// reference to it must agree on).
fn declare_backend<'v>(
    backend: &'v Value,
    namespace: &str,
    services: &mut IndexMap<String, Service>,
) -> Result<&'v str, String> {
    let name = text(&backend["name"])?;
    let port = backend["port"]
        .as_u64()
        .ok_or_else(|| format!("backend `{name}` has no port"))?;
    with_port(services, name, namespace, port)?;
    Ok(name)
}

/// Service `name` of `namespace`, declared with `port` (which every mention must agree on).
fn with_port<'s>(
    services: &'s mut IndexMap<String, Service>,
    name: &str,
    namespace: &str,
    port: u64,
) -> Result<&'s mut Service, String> {
    let host = crate::ir::cluster_host(name, namespace);
    let service = services.entry(host.clone()).or_default();
    service.host = host;
    match service.port {
        Some(other) if other != port => Err(format!(
            "service `{name}` is named with ports {other} and {port}"
        )),
        _ => {
            service.port = Some(port);
            Ok(service)
        }
    }
}

fn route_filter(
    filter: &Value,
    namespace: &str,
    services: &mut IndexMap<String, Service>,
) -> Result<Vec<String>, String> {
    let kind = text(&filter["type"])?;
    let mut out = Vec::new();
    match kind {
        "URLRewrite" => {
            only(filter, "filters[]", &["type", "urlRewrite"])?;
            let rewrite = &filter["urlRewrite"];
            only(rewrite, "urlRewrite", &["path", "hostname"])?;
            let path = &rewrite["path"];
            if !path.is_null() {
                out.push(path_modifier(
                    path,
                    "urlRewrite.path",
                    "rewrite prefix",
                    "rewrite path",
                )?);
            }
            if let Some(host) = rewrite["hostname"].as_str() {
                out.push(format!("rewrite authority {}", quote(host)));
            }
        }
        "RequestHeaderModifier" | "ResponseHeaderModifier" => {
            let (field, dir) = if kind == "RequestHeaderModifier" {
                ("requestHeaderModifier", "request")
            } else {
                ("responseHeaderModifier", "response")
            };
            only(filter, "filters[]", &["type", field])?;
            let ops = &filter[field];
            only(ops, field, &["set", "add", "remove"])?;
            let mut changes = Vec::new();
            for op in ["set", "add"] {
                for header in ops[op].as_array().into_iter().flatten() {
                    only(header, &format!("{field}.{op}[]"), &["name", "value"])?;
                    changes.push((op, text(&header["name"])?, text(&header["value"])?));
                }
            }
            out.extend(header_clauses(dir, &changes, &ops["remove"])?);
        }
        "RequestRedirect" => {
            only(filter, "filters[]", &["type", "requestRedirect"])?;
            let redirect = &filter["requestRedirect"];
            only(
                redirect,
                "requestRedirect",
                &["scheme", "hostname", "port", "path", "statusCode"],
            )?;
            let mut parts = redirect_head(redirect, "hostname")?;
            let path = &redirect["path"];
            if !path.is_null() {
                parts.push(path_modifier(
                    path,
                    "requestRedirect.path",
                    "prefix",
                    "path",
                )?);
            }
            if !redirect["statusCode"].is_null() {
                parts.push(format!("status {}", number(&redirect["statusCode"])?));
            }
            out.push(parts.join(" "));
        }
        "RequestMirror" => {
            only(filter, "filters[]", &["type", "requestMirror"])?;
            let mirror = &filter["requestMirror"];
            only(mirror, "requestMirror", &["backendRef", "percent"])?;
            let backend = &mirror["backendRef"];
            only(backend, "requestMirror.backendRef", &["name", "port"])?;
            let name = declare_backend(backend, namespace, services)?;
            // meshc writes the share it mirrors: without one (everything), the round trip
            // would add `percent: 100`.
            let percent = match &mirror["percent"] {
                Value::Null => return Err(
                    "a `RequestMirror` without `percent` has no `.mesh` form: add `percent: 100`"
                        .to_string(),
                ),
                percent => number(percent)?,
            };
            out.push(format!("mirror {name} {percent}%"));
        }
        other => return Err(format!("the `{other}` filter has no `.mesh` form yet")),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: team1\n";

    fn import(text: &str) -> (Vec<Imported>, Vec<Diagnostic>) {
        import_stream(0, text)
    }

    /// The one program `text` imports as, with no diagnostic.
    fn clean(text: &str) -> String {
        let (mut programs, diagnostics) = import(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(programs.len(), 1, "one namespace");
        programs.remove(0).text
    }

    fn errors(text: &str) -> Vec<String> {
        let (programs, diagnostics) = import(text);
        assert!(programs.is_empty() || diagnostics.iter().all(|d| !d.is_error()));
        diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{} {}", d.code.as_str(), d.message))
            .collect()
    }

    #[test]
    fn strings_keep_what_looks_like_a_host_mark() {
        let text = format!(
            "{HEAD}spec:\n  hosts: [reviews.team1.svc.cluster.local]\n  http:\n  - match:\n    - headers:\n        end-user: {{exact: \"⟨jason⟩ and ⟨\"}}\n    route:\n    - destination: {{host: reviews.team1.svc.cluster.local}}\n"
        );
        assert_eq!(
            clean(&text),
            "namespace team1\n\nservice reviews { }\nroute reviews when header end-user = \"⟨jason⟩ and ⟨\"\n"
        );
    }

    /// The programs the book's pages E0503 and N0004 say these manifests import as.
    #[test]
    fn the_books_imports_are_what_import_writes() {
        let route = format!(
            "{HEAD}spec:\n  hosts: [reviews.team1.svc.cluster.local]\n  http:\n  - route:\n    - destination: {{host: reviews.team1.svc.cluster.local}}\n    timeout: 10s\n"
        );
        assert_eq!(
            clean(&route),
            "namespace team1\n\nservice reviews { }\nroute reviews timeout 10s\n"
        );
        let least_conn = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n  namespace: team1\nspec:\n  host: reviews.team1.svc.cluster.local\n  trafficPolicy:\n    loadBalancer:\n      simple: LEAST_CONN\n";
        let (programs, diagnostics) = import(least_conn);
        let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["N0004"]);
        assert_eq!(
            programs[0].text,
            "namespace team1\n\nservice reviews { balance least request }\n"
        );
    }

    /// Fields meshc does not model go to an `extra` block, with W0005; the book's W0005 page
    /// shows what import writes.
    #[test]
    fn unmodelled_fields_are_imported_into_extra_blocks() {
        let annotated = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: team1\n  annotations: {a: b}\nspec:\n  hosts: [reviews]\n  http:\n  - name: main\n    route:\n    - destination: {host: reviews}\n    corsPolicy: {allowOrigins: [{exact: \"https://a\"}, {prefix: \"https://b\"}], maxAge: 1h, allowCredentials: false}\n";
        let (programs, diagnostics) = import(annotated);
        let messages: Vec<String> = diagnostics
            .iter()
            .map(|d| format!("{} {}", d.code.as_str(), d.message))
            .collect();
        assert_eq!(
            messages,
            ["W0005 VirtualService `reviews`: `metadata.annotations`, `spec.http[0].name`, `spec.http[0].corsPolicy` are imported into an `extra` block"]
        );
        assert_eq!(
            programs[0].text,
            "namespace team1\n\nservice reviews {\n  extra VirtualService {\n    metadata.annotations.a = \"b\"\n    spec.http[0].name = \"main\"\n    spec.http[0].corsPolicy {\n      allowOrigins[0].exact = \"https://a\"\n      allowOrigins[1].prefix = \"https://b\"\n      maxAge = \"1h\"\n      allowCredentials = false\n    }\n  }\n}\nroute reviews\n"
        );
        let page = include_str!("../../book/src/errors/W0005.md");
        let yaml = page
            .split("```yaml,import,warning=W0005\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the page's manifest");
        let program = page
            .split("```mesh\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the page's program");
        let (programs, _) = import(yaml);
        assert_eq!(programs[0].text, program);
    }

    /// HTTPRoutes attached to a Service are its routes, for `--target gateway-api`; a namespace
    /// cannot mix them with Istio objects, which that target does not emit.
    #[test]
    fn gamma_routes_are_the_services_routes() {
        let gamma = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: reviews\n  namespace: team1\nspec:\n  parentRefs: [{group: \"\", kind: Service, name: reviews}]\n  rules:\n  - backendRefs: [{name: reviews-v2, port: 9080}]\n    timeouts: {request: 5s}\n";
        assert_eq!(
            clean(gamma),
            "// Build with `meshc build --target gateway-api`: the routes are HTTPRoutes attached to the Services (GAMMA).\nnamespace team1\n\nservice reviews { }\nroute reviews -> reviews-v2 timeout 5s\n\nservice reviews-v2 { port 9080 }\n"
        );
        let with_port = gamma.replace("name: reviews}", "name: reviews, port: 9080}");
        assert_eq!(
            errors(&with_port),
            ["E0503 HTTPRoute `reviews` cannot be imported: `spec.parentRefs[].port` has no `.mesh` form yet"]
        );
        let mixed = format!("{gamma}---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: ratings\n  namespace: team1\nspec:\n  host: ratings\n  trafficPolicy: {{loadBalancer: {{simple: RANDOM}}}}\n");
        assert!(
            errors(&mixed)[0].contains("has Istio objects (`ratings`) too"),
            "{:?}",
            errors(&mixed)
        );
    }

    /// Deployments and Services are imported as `deploy` blocks and the service's `port` when
    /// they are what meshc writes; otherwise the import says why.
    #[test]
    fn workloads_are_imported_when_meshc_writes_them_back() {
        let deployment = |name: &str, version: &str, extra: &str| {
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: team1\nspec:\n  selector:\n    matchLabels: {{app: reviews, version: {version}}}\n  template:\n    metadata:\n      labels: {{app: reviews, version: {version}}}\n    spec:\n{extra}      containers:\n      - name: reviews\n        image: r/reviews:{version}\n        ports: [{{name: http, containerPort: 9080}}]\n---\n")
        };
        let service = |target: &str| {
            format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: team1\nspec:\n  selector: {{app: reviews}}\n  ports: [{{name: http, port: 80, targetPort: {target}}}]\n")
        };
        let both = format!("{}{}", deployment("reviews-v1", "v1", ""), service("9080"));
        assert_eq!(
            clean(&both),
            "namespace team1\n\nservice reviews {\n  port 80\n  deploy v1 {\n    image \"r/reviews:v1\"\n    port 9080\n  }\n}\n"
        );
        let wrong_target = format!("{}{}", deployment("reviews-v1", "v1", ""), service("http"));
        assert_eq!(
            errors(&wrong_target),
            ["E0503 the workloads of service `reviews` cannot be imported: its `targetPort` is \"http\", where meshc derives 9080 from the ports of the Deployments (namespace `team1`)"]
        );
        assert_eq!(
            errors(&service("9080")),
            ["E0503 the workloads of service `reviews` cannot be imported: meshc writes a Kubernetes Service together with the Deployments of its versions: import them with it (namespace `team1`)"]
        );
        let renamed = deployment("reviews-canary", "v2", "");
        assert_eq!(
            errors(&renamed),
            ["E0503 Deployment `reviews-canary` cannot be imported: meshc names the Deployment of version `v2` of `reviews` `reviews-v2`"]
        );
        let differing = format!(
            "{}{}",
            deployment("reviews-v1", "v1", "      serviceAccountName: a\n"),
            deployment("reviews-v2", "v2", "      serviceAccountName: b\n")
        );
        assert_eq!(
            errors(differing.trim_end_matches("---\n")),
            ["E0503 Deployment `reviews-v2` cannot be imported: its fields that `.mesh` does not model differ from Deployment `reviews-v1`'s, and a service's `extra Deployment` block applies to all its versions"]
        );
    }

    #[test]
    fn what_cannot_be_written_is_an_error() {
        // Values an `extra` block cannot spell (no field of the embedded CRDs that meshc does
        // not model takes them, so they are checked here).
        let literal = |yaml: &str| extra_literal(&serde_json::from_str(yaml).expect("JSON"));
        assert_eq!(
            literal("-1"),
            Err(" holds -1: `.mesh` has no negative numbers".into())
        );
        assert_eq!(literal("1e-7"), Ok("0.0000001".into()));
        assert_eq!(
            literal("null"),
            Err(" holds null, which an `extra` block cannot set".into())
        );
        assert_eq!(literal("0.25"), Ok("0.25".into()));
        assert_eq!(literal("2.0"), Ok("2.0".into()));
        assert_eq!(literal("\"24h\""), Ok("\"24h\"".into()));
        let bound = format!(
            "{HEAD}spec:\n  hosts: [reviews]\n  gateways: [public]\n  http:\n  - route:\n    - destination: {{host: reviews}}\n"
        );
        assert_eq!(
            errors(&bound),
            ["E0503 VirtualService `reviews` cannot be imported: `spec.gateways` has no `.mesh` form yet"]
        );
        let no_route = format!("{HEAD}spec:\n  hosts: [reviews]\n  http:\n  - timeout: 5s\n");
        assert!(errors(&no_route)[0].contains("a rule without `route`"));
        let clash = format!(
            "{HEAD}spec:\n  hosts: [reviews.example.com]\n  http:\n  - route:\n    - destination: {{host: reviews.example.com}}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n  namespace: team1\nspec:\n  host: reviews\n  trafficPolicy: {{loadBalancer: {{simple: RANDOM}}}}\n"
        );
        assert!(
            errors(&clash)[0].contains("would both be `service reviews`"),
            "{:?}",
            errors(&clash)
        );
    }
}
