//! Linkerd: a service's routes → `policy.linkerd.io/v1beta3` HTTPRoutes whose parent is the
//! Service, with retries as `retry.linkerd.io` annotations. Linkerd reads retries per route
//! object, not per rule, so rules with different retries go to HTTPRoutes of their own
//! ([`ir::retry_groups`]). Ingresses stay Gateway API HTTPRoutes (`gateway.rs`).

use indexmap::IndexMap;

use super::gateway::{self, Flavour};
use super::k8s;
use crate::ir;

/// The API group of Linkerd's HTTPRoute.
pub const GROUP: &str = "policy.linkerd.io";
const API_VERSION: &str = "policy.linkerd.io/v1beta3";

/// The HTTPRoutes of a service, one per retry policy of its rules (none without routes).
pub fn service_routes(service: &ir::Service) -> Vec<k8s::Object<k8s::HttpRouteSpec>> {
    ir::retry_groups(&service.routes)
        .into_iter()
        .enumerate()
        .map(|(index, (retry, rules))| {
            let name = ir::numbered_name(&service.routes_name, index);
            let mut metadata = super::metadata(&name, &service.namespace);
            metadata.annotations = retry_annotations(retry);
            let parent = k8s::ParentRef {
                // Linkerd's schema defaults the parent to its own Gateway kind: say Service.
                group: Some("core"),
                kind: Some("Service"),
                name: service.name.clone(),
                namespace: None,
                section_name: None,
            };
            k8s::Object {
                api_version: API_VERSION,
                kind: "HTTPRoute",
                metadata,
                spec: k8s::HttpRouteSpec {
                    parent_refs: vec![parent],
                    hostnames: Vec::new(),
                    rules: rules
                        .into_iter()
                        .map(|rule| gateway::http_rule(rule, &service.namespace, Flavour::Linkerd))
                        .collect(),
                },
            }
        })
        .collect()
}

/// The `retry.linkerd.io` annotations of a retry policy: the number of retries, the
/// conditions (`5xx`, `gateway-error` or status codes, comma-separated with no spaces, as
/// Linkerd splits them) and the per-try timeout (one unit: `30s`, `1500ms`). Linkerd ignores
/// `limit: "0"` and then retries once, so no retry means no annotations.
fn retry_annotations(retry: Option<&ir::Retry>) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    let Some(retry) = retry.filter(|retry| retry.attempts > 0) else {
        return out;
    };
    out.insert(
        "retry.linkerd.io/limit".to_string(),
        retry.attempts.to_string(),
    );
    if !retry.on.is_empty() {
        out.insert("retry.linkerd.io/http".to_string(), retry.on.join(","));
    }
    if let Some(per_try) = retry.per_try_timeout {
        out.insert("retry.linkerd.io/timeout".to_string(), per_try.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::target::{Options, Target};
    use crate::{Manifest, SourceMap};

    /// The (name, annotations) of each Linkerd HTTPRoute of a program.
    fn routes(text: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut sources = SourceMap::new();
        sources.add("web.mesh", text);
        let options = Options {
            target: Target::Linkerd,
            ..Options::default()
        };
        let compilation = crate::compile_with(&mut sources, options);
        assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
        compilation
            .manifests()
            .into_iter()
            .filter_map(|manifest| match manifest {
                Manifest::HttpRoute(route) => Some(route.metadata),
                _ => None,
            })
            .map(|m| (m.name, m.annotations.into_iter().collect()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn each_retry_policy_is_an_httproute_with_its_annotations() {
        let text = "namespace team1\nservice web { port 8080 }\n\
            route web when uri = \"/a\" timeout 5s retry 2 per try 1500ms on 5xx, gateway-error, 503\n\
            route web when uri = \"/b\" timeout 5s retry 0\n\
            route web when uri = \"/c\" timeout 5s\n\
            route web when uri = \"/d\" timeout 5s retry 2 per try 1500ms on 503, gateway-error, 5xx\n\
            route web when uri = \"/e\" timeout 5s retry 1 on 502\n";
        assert_eq!(
            routes(text),
            vec![
                (
                    "web".to_string(),
                    pairs(&[
                        ("retry.linkerd.io/limit", "2"),
                        ("retry.linkerd.io/http", "5xx,gateway-error,503"),
                        ("retry.linkerd.io/timeout", "1500ms"),
                    ])
                ),
                // `retry 0` and no retry: no retries, no annotations.
                ("web-2".to_string(), Vec::new()),
                (
                    "web-3".to_string(),
                    pairs(&[
                        ("retry.linkerd.io/limit", "1"),
                        ("retry.linkerd.io/http", "502")
                    ])
                ),
            ]
        );
    }

    #[test]
    fn a_service_without_retries_is_one_httproute_under_its_routes_name() {
        let text = "namespace team1\nservice web { port 8080 routes named web-routes }\n\
            route web when uri prefix \"/a\" timeout 5s\nroute web timeout 9s\n";
        assert_eq!(routes(text), vec![("web-routes".to_string(), Vec::new())]);
    }
}
