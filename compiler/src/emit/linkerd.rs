//! Linkerd: a service's routes → `policy.linkerd.io/v1beta3` HTTPRoutes whose parent is the
//! Service, with retries as `retry.linkerd.io` annotations. Linkerd reads retries per route
//! object, not per rule, so rules with different retries go to HTTPRoutes of their own
//! ([`ir::retry_groups`]). Ingresses stay Gateway API HTTPRoutes (`gateway.rs`).

use crate::hash::IndexMap;

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

const PROFILE_API_VERSION: &str = "linkerd.io/v1alpha2";

/// The ServiceProfile of a service (none without routes).
pub fn service_profile(service: &ir::Service) -> Option<k8s::Object<k8s::ServiceProfileSpec>> {
    let first = service.routes.first()?;
    // Names are metric labels: a name already taken gets ` (2)`, ` (3)`, ...
    let mut taken = crate::hash::HashSet::default();
    let routes = service
        .routes
        .iter()
        .map(|rule| k8s::ProfileRoute {
            name: unique(route_name(rule), &mut taken),
            condition: condition(&rule.matches),
            is_retryable: rule
                .retry
                .as_ref()
                .filter(|retry| retry.attempts > 0)
                .map(|_| true),
            timeout: rule.timeout.map(|timeout| timeout.to_string()),
        })
        .collect();
    let dst_overrides = if service.is_only_destination(&first.destinations) {
        Vec::new()
    } else {
        first
            .destinations
            .iter()
            .map(|d| k8s::DstOverride {
                // The checker made sure every destination of a split has a port (E0405).
                authority: format!("{}:{}", d.service.host, d.service.port.unwrap_or(80)),
                weight: d.weight.unwrap_or(100),
            })
            .collect()
    };
    Some(k8s::Object {
        api_version: PROFILE_API_VERSION,
        kind: "ServiceProfile",
        metadata: super::metadata(&service.host, &service.namespace),
        spec: k8s::ServiceProfileSpec {
            routes,
            dst_overrides,
        },
    })
}

/// `name`, or `name (N)` with the first N from 2 that makes it unique among `taken`.
fn unique(name: String, taken: &mut crate::hash::HashSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{name} ({n})");
        n += 1;
    }
    candidate
}

/// A route's name, as Linkerd's metrics label it: the rule's own name if it has one, else
/// what it matches (`GET /api/*`, `/health`, `~/v[0-9]+/.*`, `HEAD`), alternatives joined by ` or `;
/// `default` for a rule without conditions.
fn route_name(rule: &ir::RouteRule) -> String {
    if let Some(name) = &rule.name {
        return name.clone();
    }
    if rule.matches.is_empty() {
        return "default".to_string();
    }
    let alternatives: Vec<String> = rule
        .matches
        .iter()
        .map(|m| {
            let path = m.uri.as_ref().map(|uri| match uri {
                ir::StringMatch::Exact(path) => path.clone(),
                ir::StringMatch::Prefix(path) => format!("{path}*"),
                ir::StringMatch::Regex(regex) => format!("~{regex}"),
            });
            let method = match &m.method {
                Some(ir::StringMatch::Exact(method)) => Some(method.as_str()),
                _ => None,
            };
            match (method, path) {
                (Some(method), Some(path)) => format!("{method} {path}"),
                (Some(method), None) => method.to_string(),
                (None, Some(path)) => path,
                (None, None) => "/*".to_string(),
            }
        })
        .collect();
    alternatives.join(" or ")
}

/// A ServiceProfile condition for alternatives of method and path (the checker rejects
/// header and query conditions, and method patterns). Linkerd anchors a `pathRegex` at both
/// ends, so an exact path is its escaped text and a prefix adds `.*`; a regular expression is
/// anchored in a group, to keep Istio's meaning (the whole path matches).
fn condition(matches: &[ir::Match]) -> k8s::RequestMatch {
    let one = |m: &ir::Match| {
        let path = m.uri.as_ref().map(|uri| match uri {
            ir::StringMatch::Exact(path) => regex_escape(path),
            ir::StringMatch::Prefix(path) => format!("{}.*", regex_escape(path)),
            // Linkerd adds `^` and `$` without a group, so `a|b` would become `^a|b$`;
            // a pattern anchored at both ends is left alone.
            ir::StringMatch::Regex(regex) => format!("^(?:{regex})$"),
        });
        let method = match &m.method {
            Some(ir::StringMatch::Exact(method)) => Some(method.clone()),
            _ => None,
        };
        match (path, method) {
            (Some(path), Some(method)) => k8s::RequestMatch {
                all: vec![
                    k8s::RequestMatch {
                        method: Some(method),
                        ..k8s::RequestMatch::default()
                    },
                    k8s::RequestMatch {
                        path_regex: Some(path),
                        ..k8s::RequestMatch::default()
                    },
                ],
                ..k8s::RequestMatch::default()
            },
            (path, method) => k8s::RequestMatch {
                // No condition at all matches every path.
                path_regex: path.or_else(|| method.is_none().then(|| ".*".to_string())),
                method,
                ..k8s::RequestMatch::default()
            },
        }
    };
    match matches {
        [] => one(&ir::Match::default()),
        [only] => one(only),
        several => k8s::RequestMatch {
            any: several.iter().map(one).collect(),
            ..k8s::RequestMatch::default()
        },
    }
}

/// `text` as a regular expression that matches exactly it.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `retry.linkerd.io` annotations of a retry policy: the number of retries, the
/// conditions (`5xx`, `gateway-error` or status codes, comma-separated with no spaces, as
/// Linkerd splits them) and the per-try timeout (one unit: `30s`, `1500ms`). Linkerd ignores
/// `limit: "0"` and then retries once, so no retry means no annotations.
fn retry_annotations(retry: Option<&ir::Retry>) -> IndexMap<String, String> {
    let mut out = IndexMap::default();
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
    use crate::target::{LinkerdFlavour, Options, Target};
    use crate::testing::manifests_of;
    use crate::Manifest;

    /// The (name, annotations) of each Linkerd HTTPRoute of a program.
    fn routes(text: &str) -> Vec<(String, Vec<(String, String)>)> {
        let options = Options {
            target: Target::Linkerd,
            ..Options::default()
        };
        manifests_of(text, options)
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
    fn a_profile_matches_paths_as_anchored_regular_expressions() {
        assert_eq!(super::regex_escape("/a.b/(c)+[d]"), r"/a\.b/\(c\)\+\[d\]");
        let text = "namespace team1\nservice web { port 8080 }\n\
             route web when uri = \"/v1.0\" or method HEAD timeout 5s\n\
             route web when uri prefix \"/api\" and method GET timeout 5s\n\
             route web when uri regex \"/x[0-9]+|/y\" timeout 5s\nroute web timeout 9s\n\
             route web when uri prefix \"/api\" and method GET timeout 5s\n";
        let options = Options {
            target: Target::Linkerd,
            linkerd: LinkerdFlavour::ServiceProfile,
            ..Options::default()
        };
        let Some(Manifest::ServiceProfile(profile)) = manifests_of(text, options).pop() else {
            panic!("no ServiceProfile");
        };
        let routes: Vec<(String, String)> = (profile.spec.routes.iter())
            .map(|r| {
                let mut yaml = String::new();
                crate::emit::yaml::write(&mut yaml, &r.condition).expect("writes");
                (r.name.clone(), yaml)
            })
            .collect();
        let expected = [
            (
                "/v1.0 or HEAD",
                "any:\n- pathRegex: /v1\\.0\n- method: HEAD\n",
            ),
            ("GET /api*", "all:\n- method: GET\n- pathRegex: /api.*\n"),
            ("~/x[0-9]+|/y", "pathRegex: ^(?:/x[0-9]+|/y)$\n"),
            ("default", "pathRegex: .*\n"),
            // Never reached (W0002), but named apart.
            (
                "GET /api* (2)",
                "all:\n- method: GET\n- pathRegex: /api.*\n",
            ),
        ];
        let expected: Vec<(String, String)> = (expected.iter())
            .map(|(n, c)| (n.to_string(), c.to_string()))
            .collect();
        assert_eq!(routes, expected);
        assert!(profile.spec.dst_overrides.is_empty());
    }

    #[test]
    fn a_service_without_retries_is_one_httproute_under_its_routes_name() {
        let text = "namespace team1\nservice web { port 8080 routes named web-routes }\n\
            route web when uri prefix \"/a\" timeout 5s\nroute web timeout 9s\n";
        assert_eq!(routes(text), vec![("web-routes".to_string(), Vec::new())]);
    }
}
