//! Gateway API: ingresses (and, with `--target gateway-api`, service routes) → `HTTPRoute`;
//! backends in other namespaces → `ReferenceGrant`.

use std::collections::BTreeMap;

use super::k8s;
use crate::ir;

const API_VERSION: &str = "gateway.networking.k8s.io/v1";
/// ReferenceGrant is served as v1beta1 by every Gateway API release since 0.6 (v1 only since
/// 1.5), so v1beta1 works on the most clusters.
const REFERENCE_GRANT_API_VERSION: &str = "gateway.networking.k8s.io/v1beta1";

/// The HTTPRoute of an ingress.
pub fn ingress_route(ingress: &ir::Ingress) -> Option<k8s::Object<k8s::HttpRouteSpec>> {
    if ingress.routes.is_empty() {
        return None;
    }
    let parent_refs = ingress
        .gateways
        .iter()
        .map(|gateway| k8s::ParentRef {
            group: None,
            kind: None,
            name: gateway.name.clone(),
            namespace: gateway.namespace.clone(),
            section_name: gateway.section.clone(),
        })
        .collect();
    Some(http_route(
        &ingress.routes_name,
        &ingress.namespace,
        parent_refs,
        ingress.hostnames.clone(),
        &ingress.routes,
    ))
}

/// The GAMMA HTTPRoute of a service: its parent is the Service itself.
pub fn service_route(service: &ir::Service) -> Option<k8s::Object<k8s::HttpRouteSpec>> {
    if service.routes.is_empty() {
        return None;
    }
    let parent = k8s::ParentRef {
        group: Some(""),
        kind: Some("Service"),
        name: service.name.clone(),
        namespace: None,
        section_name: None,
    };
    Some(http_route(
        &service.routes_name,
        &service.namespace,
        vec![parent],
        Vec::new(),
        &service.routes,
    ))
}

fn http_route(
    name: &str,
    namespace: &str,
    parent_refs: Vec<k8s::ParentRef>,
    hostnames: Vec<String>,
    routes: &[ir::RouteRule],
) -> k8s::Object<k8s::HttpRouteSpec> {
    k8s::Object {
        api_version: API_VERSION,
        kind: "HTTPRoute",
        metadata: super::metadata(name, namespace),
        spec: k8s::HttpRouteSpec {
            parent_refs,
            hostnames,
            rules: routes
                .iter()
                .map(|rule| http_rule(rule, namespace, Flavour::GatewayApi))
                .collect(),
        },
    }
}

/// Whose HTTPRoute a rule is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// Gateway API's (`gateway.networking.k8s.io`).
    GatewayApi,
    /// Linkerd's (`policy.linkerd.io/v1beta3`): no `retry` field (retries are annotations), and
    /// response headers are changed per backend (its rules accept request filters only).
    Linkerd,
}

/// A backend reference; the checker guarantees the port.
fn backend(
    service: &ir::ServiceRef,
    route_namespace: &str,
    weight: Option<u32>,
) -> k8s::BackendRef {
    k8s::BackendRef {
        name: service.name.clone(),
        namespace: (service.namespace != route_namespace).then(|| service.namespace.clone()),
        port: service.port.unwrap_or_default(),
        weight,
        filters: Vec::new(),
    }
}

fn name_match(name: &str, matcher: &ir::StringMatch) -> k8s::NameMatch {
    // The checker rejects prefix matches for HTTPRoutes.
    let (kind, value) = match matcher {
        ir::StringMatch::Exact(value) | ir::StringMatch::Prefix(value) => (None, value),
        ir::StringMatch::Regex(value) => (Some("RegularExpression"), value),
    };
    k8s::NameMatch {
        kind,
        name: name.to_string(),
        value: value.clone(),
    }
}

fn path_modifier(path: &ir::PathRewrite) -> k8s::PathModifier {
    match path {
        ir::PathRewrite::Full(path) => k8s::PathModifier {
            kind: "ReplaceFullPath",
            replace_full_path: Some(path.clone()),
            replace_prefix_match: None,
        },
        ir::PathRewrite::Prefix(prefix) => k8s::PathModifier {
            kind: "ReplacePrefixMatch",
            replace_full_path: None,
            replace_prefix_match: Some(prefix.clone()),
        },
    }
}

fn header_modifier(ops: &ir::HeaderOps) -> Option<k8s::HeaderModifier> {
    let pairs = |map: &crate::hash::IndexMap<String, String>| {
        map.iter()
            .map(|(name, value)| k8s::NameValue {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
    };
    (!ops.is_empty()).then(|| k8s::HeaderModifier {
        set: pairs(&ops.set),
        add: pairs(&ops.add),
        remove: ops.remove.clone(),
    })
}

/// A mirrored share: a whole `percent`, or an exact `fraction` for decimals (0.5% = 5/1000).
fn mirror_share(percent: f64) -> (Option<u32>, Option<k8s::Fraction>) {
    if percent.fract() == 0.0 {
        return (Some(percent as u32), None);
    }
    let mut denominator: u32 = 100;
    while denominator < 100_000_000
        && ((percent * f64::from(denominator) / 100.0).fract()).abs() > 1e-9
    {
        denominator *= 10;
    }
    let numerator = (percent * f64::from(denominator) / 100.0).round() as u32;
    (
        None,
        Some(k8s::Fraction {
            numerator,
            denominator,
        }),
    )
}

pub(crate) fn http_rule(
    rule: &ir::RouteRule,
    namespace: &str,
    flavour: Flavour,
) -> k8s::HttpRouteRule {
    let matches = rule
        .matches
        .iter()
        .map(|m| k8s::HttpRouteMatch {
            path: m.uri.as_ref().map(|uri| match uri {
                ir::StringMatch::Exact(value) => k8s::PathMatch {
                    kind: "Exact",
                    value: value.clone(),
                },
                ir::StringMatch::Prefix(value) => k8s::PathMatch {
                    kind: "PathPrefix",
                    value: value.clone(),
                },
                ir::StringMatch::Regex(value) => k8s::PathMatch {
                    kind: "RegularExpression",
                    value: value.clone(),
                },
            }),
            headers: m
                .headers
                .iter()
                .map(|(name, matcher)| name_match(name, matcher))
                .collect(),
            query_params: m
                .query
                .iter()
                .map(|(name, matcher)| name_match(name, matcher))
                .collect(),
            method: m.method.as_ref().map(|method| match method {
                ir::StringMatch::Exact(value)
                | ir::StringMatch::Prefix(value)
                | ir::StringMatch::Regex(value) => value.clone(),
            }),
        })
        .collect();
    let mut filters = Vec::new();
    if let Some(modifier) = header_modifier(rule.request_ops()) {
        filters.push(k8s::Filter {
            request_header_modifier: Some(modifier),
            ..k8s::Filter::new("RequestHeaderModifier")
        });
    }
    let response_headers = header_modifier(rule.response_ops()).map(|modifier| k8s::Filter {
        response_header_modifier: Some(modifier),
        ..k8s::Filter::new("ResponseHeaderModifier")
    });
    let mut backend_filters = Vec::new();
    match flavour {
        Flavour::GatewayApi => filters.extend(response_headers),
        Flavour::Linkerd => backend_filters.extend(response_headers),
    }
    if rule.rewrite.path.is_some() || rule.rewrite.authority.is_some() {
        filters.push(k8s::Filter {
            url_rewrite: Some(k8s::UrlRewrite {
                hostname: rule.rewrite.authority.clone(),
                path: rule.rewrite.path.as_ref().map(path_modifier),
            }),
            ..k8s::Filter::new("URLRewrite")
        });
    }
    if let Some(redirect) = &rule.redirect {
        filters.push(k8s::Filter {
            request_redirect: Some(k8s::RequestRedirect {
                scheme: redirect.scheme.clone(),
                hostname: redirect.host.clone(),
                path: redirect.path.as_ref().map(path_modifier),
                port: redirect.port,
                status_code: redirect.status,
            }),
            ..k8s::Filter::new("RequestRedirect")
        });
    }
    if let Some(mirror) = &rule.mirror {
        let (percent, fraction) = mirror_share(mirror.percent);
        filters.push(k8s::Filter {
            request_mirror: Some(k8s::RequestMirror {
                backend_ref: backend(&mirror.service, namespace, None),
                percent,
                fraction,
            }),
            ..k8s::Filter::new("RequestMirror")
        });
    }
    let timeouts =
        (rule.timeout.is_some() || rule.backend_timeout.is_some()).then(|| k8s::Timeouts {
            request: rule.timeout.and_then(ir::Duration::gep2257),
            backend_request: rule.backend_timeout.and_then(ir::Duration::gep2257),
        });
    k8s::HttpRouteRule {
        matches,
        filters,
        backend_refs: rule
            .destinations
            .iter()
            .map(|dest| k8s::BackendRef {
                filters: backend_filters.clone(),
                ..backend(&dest.service, namespace, dest.weight)
            })
            .collect(),
        timeouts,
        retry: rule
            .retry
            .as_ref()
            .filter(|_| flavour == Flavour::GatewayApi)
            .map(|retry| k8s::HttpRouteRetry {
                attempts: retry.attempts,
                codes: retry
                    .on
                    .iter()
                    .filter_map(|code| code.parse().ok())
                    .collect(),
            }),
    }
}

/// The API group of Gateway API's HTTPRoute.
pub const GROUP: &str = "gateway.networking.k8s.io";

/// One ReferenceGrant per (backend namespace, route namespace): it lets the HTTPRoutes of the
/// route namespace reach exactly the Services they use in the backend namespace. Each route
/// list comes with its HTTPRoute's API group (Gateway API's, or Linkerd's).
pub fn reference_grants(
    routes: &[(&'static str, &str, &[ir::RouteRule])],
) -> Vec<k8s::Object<k8s::ReferenceGrantSpec>> {
    // (to namespace, from namespace) → (route groups, service names); BTree for a stable order.
    type Grant = (Vec<&'static str>, Vec<String>);
    let mut grants: BTreeMap<(String, String), Grant> = BTreeMap::new();
    for &(group, from, rules) in routes {
        for rule in rules {
            let backends = rule.destinations.iter().map(|d| &d.service);
            for service in backends.chain(rule.mirror.as_ref().map(|m| &m.service)) {
                if service.namespace == from {
                    continue;
                }
                let (groups, names) = grants
                    .entry((service.namespace.clone(), from.to_string()))
                    .or_default();
                if !groups.contains(&group) {
                    groups.push(group);
                }
                if !names.contains(&service.name) {
                    names.push(service.name.clone());
                }
            }
        }
    }
    grants
        .into_iter()
        .map(|((to, from), (mut groups, mut names))| {
            groups.sort_unstable();
            names.sort();
            k8s::Object {
                api_version: REFERENCE_GRANT_API_VERSION,
                kind: "ReferenceGrant",
                metadata: super::metadata(&format!("meshc-httproutes-from-{from}"), &to),
                spec: k8s::ReferenceGrantSpec {
                    from: groups
                        .into_iter()
                        .map(|group| k8s::GrantFrom {
                            group,
                            kind: "HTTPRoute",
                            namespace: from.clone(),
                        })
                        .collect(),
                    to: names
                        .into_iter()
                        .map(|name| k8s::GrantTo {
                            group: "",
                            kind: "Service",
                            name,
                        })
                        .collect(),
                },
            }
        })
        .collect()
}
