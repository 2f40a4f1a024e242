//! Ingresses: the Gateways they attach to, their host names and their name.

use std::ops::Deref;

use super::{names, Checker, Declared, Seen};
use crate::ast;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::target::Concept;

/// Gateway API's limits on an HTTPRoute's `hostnames` and `parentRefs`.
const MAX_HOSTNAMES: usize = 16;
const MAX_GATEWAYS: usize = 32;

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// Declares an ingress.
    pub(crate) fn declare_ingress(&mut self, ingress: &ast::Ingress, namespace: Option<&str>)
    where
        D: std::ops::DerefMut,
    {
        let name = &ingress.name;
        self.name_rule(&name.node, name.span, "ingress name", names::dns_subdomain);
        let output = self.service_output();
        self.supported(Concept::Ingress, output, name.span);
        let namespace = namespace.unwrap_or("default").to_string();
        if self.name_taken(&namespace, name) {
            return;
        }
        let index = self.decl.ingresses.len();
        let mut out = ir::Ingress {
            namespace,
            name: name.node.clone(),
            routes_name: name.node.clone(),
            gateways: Vec::new(),
            hostnames: Vec::new(),
            routes: Vec::new(),
            extras: Vec::new(),
            span: name.span,
        };
        let mut seen = Seen::default();
        let mut extras = Vec::new();
        for item in &ingress.items {
            match item {
                ast::IngressItem::Gateway {
                    name,
                    namespace,
                    section,
                    span,
                } => {
                    let mut ok =
                        self.name_rule(&name.node, name.span, "gateway name", names::dns_subdomain);
                    if let Some(namespace) = namespace {
                        ok &= self.name_rule(
                            &namespace.node,
                            namespace.span,
                            "namespace name",
                            names::dns_label,
                        );
                    }
                    if let Some(section) = section {
                        ok &= self.name_rule(
                            &section.node,
                            section.span,
                            "listener name",
                            names::dns_subdomain,
                        );
                    }
                    let gateway = ir::GatewayRef {
                        name: name.node.clone(),
                        namespace: namespace.as_ref().map(|n| n.node.clone()),
                        section: section.as_ref().map(|s| s.node.clone()),
                    };
                    // Gateway API: the same Gateway twice needs a distinct listener each time.
                    let same_gateway = out
                        .gateways
                        .iter()
                        .any(|g| g.name == gateway.name && g.namespace == gateway.namespace);
                    if same_gateway
                        && (out.gateways.contains(&gateway)
                            || gateway.section.is_none()
                            || out.gateways.iter().any(|g| {
                                g.name == gateway.name
                                    && g.namespace == gateway.namespace
                                    && g.section.is_none()
                            }))
                    {
                        self.sink.push(Diagnostic::new(
                            Code::E0304,
                            format!("gateway `{}` is given twice", name.node),
                            *span,
                            "given again here",
                            "attach to each Gateway once, or to several of its listeners, each with its own `section`",
                        ));
                    } else if out.gateways.len() == MAX_GATEWAYS {
                        self.limit(
                            *span,
                            "gateways of an ingress",
                            MAX_GATEWAYS,
                            "split the ingress into two, each attached to some of the Gateways",
                        );
                    } else if ok {
                        out.gateways.push(gateway);
                    }
                }
                ast::IngressItem::Hostname(hostname) => {
                    if !self.name_rule(
                        &hostname.node,
                        hostname.span,
                        "hostname",
                        names::gateway_hostname,
                    ) {
                        continue;
                    }
                    if out.hostnames.contains(&hostname.node) {
                        self.sink.push(Diagnostic::new(
                            Code::E0304,
                            format!("hostname `{}` is given twice", hostname.node),
                            hostname.span,
                            "given again here",
                            "list each hostname once",
                        ));
                    } else if out.hostnames.len() == MAX_HOSTNAMES {
                        self.limit(
                            hostname.span,
                            "hostnames of an ingress",
                            MAX_HOSTNAMES,
                            "split the ingress into two, each answering for some of the hostnames",
                        );
                    } else {
                        out.hostnames.push(hostname.node.clone());
                    }
                }
                ast::IngressItem::Named { what, name } => {
                    if seen.first(
                        &mut self.sink,
                        if what.node == ast::NamedWhat::Routes {
                            "routes named"
                        } else {
                            "policy named"
                        },
                        what.span.to(name.span),
                    ) && self.name_rule(
                        &name.node,
                        name.span,
                        "resource name",
                        names::dns_subdomain,
                    ) {
                        if what.node == ast::NamedWhat::Routes {
                            out.routes_name = name.node.clone();
                        }
                        self.decl
                            .ingress_named_spans
                            .insert((index, what.node), what.span.to(name.span));
                    }
                }
                ast::IngressItem::Extra(extra) => extras.push(extra),
            }
        }
        out.extras = self.ingress_extras(&extras);
        if out.gateways.is_empty() {
            self.sink.push(Diagnostic::new(
                Code::E0406,
                format!("ingress `{}` is attached to no gateway", name.node),
                name.span,
                "no `gateway` line",
                "add the Gateway its traffic enters through, e.g. `gateway kagenti-gateway in istio-system`",
            ));
        }
        self.decl
            .ingress_by_name
            .insert(&out.namespace, &out.name, index);
        self.decl.ingresses.push(out);
    }

    /// E0402: a Gateway API list limit is exceeded.
    pub(crate) fn limit(&mut self, span: crate::source::Span, what: &str, max: usize, help: &str) {
        self.limit_of("Gateway API", span, what, max, help);
    }

    /// E0402: a list limit that `who` sets is exceeded.
    pub(crate) fn limit_of(
        &mut self,
        who: &str,
        span: crate::source::Span,
        what: &str,
        max: usize,
        help: &str,
    ) {
        self.sink.push(Diagnostic::new(
            Code::E0402,
            format!("too many {what}: {who} allows at most {max}"),
            span,
            format!("the {}th", max + 1),
            help,
        ));
    }
}
