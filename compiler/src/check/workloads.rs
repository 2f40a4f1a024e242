//! Workloads: `deploy VERSION { ... }` blocks as Deployments, and the cross-resource check that
//! plain YAML tools cannot make: every subset selects the pods of a declared Deployment, and
//! every Deployment is selected by a subset.

use crate::hash::IndexMap;

use std::ops::Deref;

use super::{names, Checker, Declared, Seen};
use crate::ast::{self, DeploySetting};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::source::Span;
use crate::target::{Concept, Target};

/// A Kubernetes resource quantity: `500m`, `1.5`, `512Mi`, `1e3`.
fn quantity(text: &str) -> bool {
    let digits = text.trim_start_matches(['+', '-']);
    let number_len = digits
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(digits.len());
    let (number, suffix) = digits.split_at(number_len);
    let valid_number =
        !number.is_empty() && number.chars().filter(|c| *c == '.').count() <= 1 && number != ".";
    let valid_suffix = matches!(
        suffix,
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
    ) || (suffix.starts_with(['e', 'E'])
        && suffix[1..]
            .trim_start_matches(['+', '-'])
            .chars()
            .all(|c| c.is_ascii_digit())
        && suffix.len() > 1);
    valid_number && valid_suffix
}

/// The value of a valid quantity, for comparisons.
fn quantity_value(text: &str) -> Option<f64> {
    let suffixes: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Ti", 1024f64.powi(4)),
        ("Pi", 1024f64.powi(5)),
        ("Ei", 1024f64.powi(6)),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, scale) in suffixes {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<f64>().ok().map(|n| n * scale);
        }
    }
    text.parse::<f64>().ok()
}

/// An environment variable name Kubernetes accepts.
fn env_name(name: &str) -> Result<(), String> {
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '-' || c == '.');
    if !first_ok
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(
            "may only contain letters, digits, `_`, `-` and `.`, and not start with a digit".into(),
        );
    }
    Ok(())
}

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// Checks the `deploy` blocks of a service.
    pub(crate) fn deployments(
        &mut self,
        service: &ir::Service,
        deploys: &[&ast::Deploy],
    ) -> Vec<ir::Deployment> {
        let mut out: Vec<ir::Deployment> = Vec::new();
        let mut spans: Vec<Span> = Vec::new();
        let output = self.service_output();
        for deploy in deploys {
            let version = &deploy.version;
            if !self.supported(Concept::Workloads, output, version.span) {
                continue;
            }
            if !self.name_rule(&version.node, version.span, "version", names::dns_label) {
                continue;
            }
            if let Some(index) = out.iter().position(|d| d.version == version.node) {
                self.defined_twice(
                    format!("version `{}` is deployed twice", version.node),
                    version.span,
                    spans[index],
                    "merge the two `deploy` blocks",
                );
                continue;
            }
            if let Some(deployment) = self.deployment(service, deploy) {
                out.push(deployment);
                spans.push(version.span);
            }
        }
        out
    }

    fn deployment(
        &mut self,
        service: &ir::Service,
        deploy: &ast::Deploy,
    ) -> Option<ir::Deployment> {
        let version = &deploy.version.node;
        let name = format!("{}-{version}", service.name);
        self.name_rule(
            &name,
            deploy.version.span,
            "Deployment name",
            names::dns_subdomain,
        );
        let mut out = ir::Deployment {
            version: version.clone(),
            name,
            labels: IndexMap::from_iter([
                ("app".to_string(), service.name.clone()),
                ("version".to_string(), version.clone()),
            ]),
            image: String::new(),
            replicas: None,
            container: service.name.clone(),
            port: None,
            readiness: None,
            requests: IndexMap::default(),
            limits: IndexMap::default(),
            env: IndexMap::default(),
            span: deploy.version.span,
        };
        let mut seen = Seen::default();
        let mut ready = None;
        for setting in &deploy.settings {
            let what = match &setting.node {
                DeploySetting::Image(_) => "image",
                DeploySetting::Replicas(_) => "replicas",
                DeploySetting::Container(_) => "container",
                DeploySetting::Port(_) => "port",
                DeploySetting::Ready { .. } => "ready",
                DeploySetting::Requests(_) => "requests",
                DeploySetting::Limits(_) => "limits",
                DeploySetting::Env(..) => "env",
            };
            if what != "env" && !seen.first(&mut self.sink, what, setting.span) {
                continue;
            }
            match &setting.node {
                DeploySetting::Image(image) => {
                    if image.node.trim().is_empty() || image.node.contains(char::is_whitespace) {
                        self.sink.push(Diagnostic::new(
                            Code::E0205,
                            format!("invalid image {:?}", image.node),
                            image.span,
                            "an image reference has no spaces and is not empty",
                            "write the image as `registry/name:tag`",
                        ));
                    } else {
                        out.image = image.node.clone();
                    }
                }
                DeploySetting::Replicas(replicas) => {
                    out.replicas = self.sink.count(
                        replicas,
                        0,
                        i32::MAX as u64,
                        "the number of replicas",
                        "0 scales the version down; Kubernetes counts replicas as a 32-bit integer",
                    );
                }
                DeploySetting::Container(container) => {
                    if self.name_rule(
                        &container.node,
                        container.span,
                        "container name",
                        names::dns_label,
                    ) {
                        out.container = container.node.clone();
                    }
                }
                DeploySetting::Port(port) => {
                    out.port = self
                        .sink
                        .count(port, 1, 65535, "a port", "ports are 1 to 65535")
                        .map(|p| p as u16);
                }
                DeploySetting::Ready {
                    path,
                    port,
                    after,
                    every,
                } => {
                    ready = Some((setting.span, path, port, after, every));
                }
                DeploySetting::Requests(amounts) => out.requests = self.amounts(amounts),
                DeploySetting::Limits(amounts) => out.limits = self.amounts(amounts),
                DeploySetting::Env(name, value) => {
                    if !self.name_rule(&name.node, name.span, "environment variable name", env_name)
                    {
                        continue;
                    }
                    if out.env.contains_key(&name.node) {
                        self.sink.push(Diagnostic::new(
                            Code::E0304,
                            format!("`{}` is set twice", name.node),
                            name.span,
                            "set again here",
                            "set each variable once",
                        ));
                    } else {
                        out.env.insert(name.node.clone(), value.node.clone());
                    }
                }
            }
        }
        let limits_span = seen.span("limits");
        for (key, request) in &out.requests {
            let (Some(limit), Some(limits_span)) = (out.limits.get(key), limits_span) else {
                continue;
            };
            if quantity_value(request) > quantity_value(limit) {
                self.sink.push(Diagnostic::new(
                    Code::E0208,
                    format!("the {key} request ({request}) is above its limit ({limit})"),
                    limits_span,
                    format!("{key} limit below the request"),
                    "raise the limit to at least the request, or lower the request: Kubernetes rejects a request above its limit",
                ));
            }
        }
        if seen.span("image").is_none() {
            self.sink.push(Diagnostic::new(
                Code::E0308,
                format!("`deploy {version}` has no image"),
                deploy.version.span,
                "no `image` line",
                "add the image the version runs, e.g. `image \"registry.example.com/research-agent:v2\"`",
            ));
        }
        if let Some((span, path, port, after, every)) = ready {
            out.readiness =
                self.readiness(span, path, port, after, every, out.port.or(service.port));
        } else {
            self.sink.push(
                Diagnostic::new(
                    Code::W0109,
                    format!("`deploy {version}` has no readiness probe"),
                    deploy.version.span,
                    "traffic may reach pods that are not ready",
                    "add `ready http \"/health\"` (with `after` and `every` to tune it)",
                )
                .with_note("the guide's troubleshooting: 5xx after a traffic shift, because v2 pods received traffic before they were ready"),
            );
        }
        Some(out)
    }

    fn readiness(
        &mut self,
        span: Span,
        path: &ast::Text,
        port: &[ast::Literal],
        after: &[ast::Literal],
        every: &[ast::Literal],
        default_port: Option<u16>,
    ) -> Option<ir::Readiness> {
        if !path.node.starts_with('/') {
            self.sink.push(Diagnostic::new(
                Code::E0207,
                format!("invalid path {:?}", path.node),
                path.span,
                "a probe path starts with `/`",
                "write the path the application answers on, e.g. `\"/health\"`",
            ));
        }
        let port = match self.sink.single(port, "port", |l| l.span) {
            Some(port) => self
                .sink
                .count(port, 1, 65535, "a port", "ports are 1 to 65535")
                .map(|p| p as u16),
            None => default_port,
        };
        let Some(port) = port else {
            self.sink.push(Diagnostic::new(
                Code::E0308,
                "the readiness probe has no port",
                span,
                "no `port` here, in the `deploy` block or in the service",
                "add `port 8080` to the probe, the `deploy` block or the service",
            ));
            return None;
        };
        let seconds =
            |checker: &mut Checker<'_, D>, values: &[ast::Literal], what: &'static str| {
                let literal = checker.sink.single(values, what, |l| l.span)?;
                let duration = checker.sink.duration(literal, what)?;
                if duration.millis % 1000 != 0 {
                    checker.sink.push(Diagnostic::new(
                        Code::E0204,
                        format!("`{what}` must be whole seconds, found `{}`", literal.text),
                        literal.span,
                        "Kubernetes probes count in seconds",
                        "round it to whole seconds",
                    ));
                    return None;
                }
                Some((duration.millis / 1000) as u32)
            };
        let initial_delay_seconds = seconds(self, after, "after");
        let period_seconds = seconds(self, every, "every");
        Some(ir::Readiness {
            path: path.node.clone(),
            port,
            initial_delay_seconds,
            period_seconds,
        })
    }

    fn amounts(
        &mut self,
        amounts: &[(crate::source::Spanned<ast::Resource>, ast::Text)],
    ) -> IndexMap<String, String> {
        let mut out = IndexMap::default();
        for (kind, value) in amounts {
            let key = match kind.node {
                ast::Resource::Cpu => "cpu",
                ast::Resource::Memory => "memory",
            };
            if out.contains_key(key) {
                self.sink.push(Diagnostic::new(
                    Code::E0304,
                    format!("`{key}` is given twice"),
                    kind.span,
                    "given again here",
                    "keep one of the two",
                ));
                continue;
            }
            if !quantity(&value.node) {
                self.sink.push(Diagnostic::new(
                    Code::E0208,
                    format!("invalid {key} quantity {:?}", value.node),
                    value.span,
                    "not a Kubernetes quantity",
                    match kind.node {
                        ast::Resource::Cpu => "write cores or millicores, e.g. \"500m\" or \"2\"",
                        ast::Resource::Memory => {
                            "write bytes with a suffix, e.g. \"512Mi\" or \"2Gi\""
                        }
                    },
                ));
                continue;
            }
            out.insert(key.to_string(), value.node.clone());
        }
        out
    }

    /// E0107 and W0110: subsets and Deployments of a service must select each other. Checked
    /// only for services that declare Deployments (otherwise the workloads live elsewhere).
    pub(crate) fn subsets_select_deployments(&mut self) {
        let mut found = Vec::new();
        for service in &self.decl.services {
            if service.deployments.is_empty() {
                continue;
            }
            let selects = |subset: &ir::Subset, deployment: &ir::Deployment| {
                subset.labels.iter().all(|(k, v)| {
                    deployment.labels.get(k) == Some(v) || (k == "app" && *v == service.name)
                })
            };
            // With Flagger or Argo Rollouts, the tool keeps the stable version's pods itself.
            let tool_keeps = |subset: &ir::Subset| {
                matches!(self.options.target, Target::Flagger | Target::ArgoRollouts)
                    && service
                        .canary
                        .as_ref()
                        .is_some_and(|c| c.from == subset.name)
            };
            for subset in &service.subsets {
                if !tool_keeps(subset) && !service.deployments.iter().any(|d| selects(subset, d)) {
                    let span = subset.span;
                    let versions: Vec<String> = service
                        .deployments
                        .iter()
                        .map(|d| format!("`{}`", d.version))
                        .collect();
                    found.push(Diagnostic::new(
                        Code::E0107,
                        format!("subset `{}` selects no declared Deployment", subset.name),
                        span,
                        "its labels match no pods",
                        format!(
                            "{} {}: select one with `(version = ...)`, or deploy this one",
                            if versions.len() == 1 { "the deployed version is" } else { "the deployed versions are" },
                            versions.join(", ")
                        ),
                    ).with_note("Istio accepts it, then every request routed to the subset fails with 503 UH (istioctl analyze: IST0173)"));
                }
            }
            if service.subsets.is_empty() {
                continue;
            }
            for deployment in &service.deployments {
                if !service.subsets.iter().any(|s| selects(s, deployment)) {
                    found.push(Diagnostic::new(
                        Code::W0110,
                        format!("Deployment `{}` is in no subset", deployment.name),
                        deployment.span,
                        format!("no subset selects `version = {}`", deployment.version),
                        format!("add `subset {0} (version = {0})` to route to it, or remove the `deploy` block", deployment.version),
                    ));
                }
            }
        }
        for diagnostic in found {
            self.sink.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quantity;

    #[test]
    fn quantities() {
        for good in ["500m", "1", "1.5", "512Mi", "2Gi", "1e3", "100k"] {
            assert!(quantity(good), "{good}");
        }
        for bad in ["", "5 GB", "1.2.3", "Mi", "12mb", "."] {
            assert!(!quantity(bad), "{bad}");
        }
    }
}
