//! Consul: a service's routes and policy → Consul's config entries (`consul.hashicorp.com/
//! v1alpha1`), each named after the service: `ServiceDefaults` (`protocol: http`, which the
//! other entries need, and the limits and passive health checks of the services it calls),
//! `ServiceResolver` (subsets, load balancing, connect timeout), `ServiceSplitter` (the one
//! weighted split of the service) and `ServiceRouter` (the routes, first match wins).
//!
//! Consul keeps circuit breaking on the caller: a service's `pool` and `eject` become an
//! `upstreamConfig.overrides` entry in the ServiceDefaults of every other service of the
//! program (design/alternative-targets.md, D4).

use crate::hash::IndexMap;
use serde::Serialize;

use super::k8s;
use crate::ir;

/// The API version of Consul's config entries.
const API_VERSION: &str = "consul.hashicorp.com/v1alpha1";

/// What Istio retries on when a route says `retry N` without `on` (its documented default):
/// Consul retries on nothing unless told, so meshc says it.
pub const DEFAULT_RETRY_ON: [&str; 4] = [
    "connect-failure",
    "refused-stream",
    "unavailable",
    "cancelled",
];

/// `ServiceDefaults` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDefaultsSpec {
    /// Always `http`: routers, splitters and resolvers with subsets need it.
    pub protocol: &'static str,
    /// Limits and health checks of the services this one calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_config: Option<UpstreamConfig>,
}

/// Per-upstream settings of a caller.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UpstreamConfig {
    /// One entry per called service.
    pub overrides: Vec<UpstreamOverride>,
}

/// The settings for calls to one service.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamOverride {
    /// The called service.
    pub name: String,
    /// Its namespace (Consul Enterprise), when not the caller's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Connection and request limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// Passive health checks (outlier detection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passive_health_check: Option<PassiveHealthCheck>,
}

/// Connection and request limits.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Requests waiting for a connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pending_requests: Option<u32>,
    /// Requests in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_requests: Option<u32>,
}

/// Passive health checks.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PassiveHealthCheck {
    /// Time between sweeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Consecutive 5xx responses before ejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failures: Option<u32>,
    /// `0` turns ejection on consecutive 5xx off (`maxFailures: 0` would mean Envoy's 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcing_consecutive5xx: Option<u32>,
    /// Minimum ejection time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_ejection_time: Option<String>,
    /// Largest share of hosts ejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ejection_percent: Option<u32>,
}

/// `ServiceResolver` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceResolverSpec {
    /// Subsets by name.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub subsets: IndexMap<String, ResolverSubset>,
    /// Connect timeout (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<String>,
    /// Load balancing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancer>,
}

/// A subset: the instances whose service metadata pass a filter.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResolverSubset {
    /// `Service.Meta.version == "v1"`, conditions joined by ` and `.
    pub filter: String,
}

/// A load-balancing policy.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancer {
    /// `round_robin`, `least_request`, `random` or `ring_hash`.
    pub policy: &'static str,
    /// What a hash is taken of.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hash_policies: Vec<HashPolicy>,
}

/// One thing a consistent hash is taken of.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HashPolicy {
    /// `header`, `cookie` or `query_parameter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_value: Option<String>,
    /// A cookie's settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_config: Option<CookieConfig>,
    /// Hash the caller's address.
    #[serde(rename = "sourceIP", skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<bool>,
}

/// A hash cookie's settings.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CookieConfig {
    /// Lifetime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// `ServiceSplitter` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceSplitterSpec {
    /// The shares, summing to exactly 100.
    pub splits: Vec<Split>,
}

/// One share of a split.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Split {
    /// Percentage, written as a float (`90.0`), as Consul requires.
    pub weight: f64,
    /// Another service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// A subset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_subset: Option<String>,
    /// The other service's namespace, when not this one's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `ServiceRouter` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceRouterSpec {
    /// Routes, first match wins.
    pub routes: Vec<RouterRoute>,
}

/// A router's route: one match, one destination.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouterRoute {
    /// What requests it takes (every request without).
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<RouterMatch>,
    /// Where they go and how.
    pub destination: RouterDestination,
}

/// A router's match.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouterMatch {
    /// HTTP conditions.
    pub http: HttpMatch,
}

/// HTTP conditions, all of which must hold.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpMatch {
    /// Exact path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_exact: Option<String>,
    /// Path prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Path regular expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_regex: Option<String>,
    /// Header conditions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub header: Vec<ValueMatch>,
    /// Query-parameter conditions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query_param: Vec<ValueMatch>,
    /// Methods.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
}

/// A header or query-parameter condition.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ValueMatch {
    /// The name.
    pub name: String,
    /// Equal to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    /// Starts with (headers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// Where a route sends requests, and how.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouterDestination {
    /// Another service (the router's own, through its splitter, without).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// A subset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_subset: Option<String>,
    /// The other service's namespace, when not this one's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Replaces the matched prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_rewrite: Option<String>,
    /// Whole-request timeout, retries included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<String>,
    /// Retries after the first try.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_retries: Option<u32>,
    /// Named retry conditions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retry_on: Vec<String>,
    /// Status codes retried.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retry_on_status_codes: Vec<u16>,
    /// Request header changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<HeaderModifiers>,
    /// Response header changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<HeaderModifiers>,
}

/// Header changes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeaderModifiers {
    /// Appended.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub add: IndexMap<String, String>,
    /// Replaced.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub set: IndexMap<String, String>,
    /// Removed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

fn object<S>(kind: &'static str, service: &ir::Service, spec: S) -> k8s::Object<S> {
    k8s::Object {
        api_version: API_VERSION,
        kind,
        metadata: super::metadata(&service.name, &service.namespace),
        spec,
    }
}

/// The service's ServiceDefaults: `protocol: http`, and the limits and health checks of the
/// other services of the program that have a `pool` or an `eject`.
pub fn service_defaults(
    program: &ir::Program,
    service: &ir::Service,
) -> k8s::Object<ServiceDefaultsSpec> {
    let overrides: Vec<UpstreamOverride> = program
        .services
        .iter()
        .filter(|other| other.name != service.name || other.namespace != service.namespace)
        .filter_map(|other| upstream_override(service, other))
        .collect();
    object(
        "ServiceDefaults",
        service,
        ServiceDefaultsSpec {
            protocol: "http",
            upstream_config: (!overrides.is_empty()).then_some(UpstreamConfig { overrides }),
        },
    )
}

/// What a caller's ServiceDefaults says about calls to `upstream`, if anything.
fn upstream_override(caller: &ir::Service, upstream: &ir::Service) -> Option<UpstreamOverride> {
    let policy = &upstream.policy;
    let limits = policy.pool.as_deref().and_then(|pool| {
        let limits = Limits {
            max_connections: pool.max_connections,
            max_pending_requests: pool.max_pending_requests,
            max_concurrent_requests: pool.max_requests,
        };
        let set = limits.max_connections.is_some()
            || limits.max_pending_requests.is_some()
            || limits.max_concurrent_requests.is_some();
        set.then_some(limits)
    });
    let passive_health_check = policy.eject.as_deref().map(|eject| PassiveHealthCheck {
        interval: eject.interval.map(|d| d.to_string()),
        max_failures: eject.consecutive_5xx.filter(|&n| n > 0),
        enforcing_consecutive5xx: eject.consecutive_5xx.filter(|&n| n == 0),
        base_ejection_time: eject.base_ejection_time.map(|d| d.to_string()),
        max_ejection_percent: eject.max_ejection_percent,
    });
    if limits.is_none() && passive_health_check.is_none() {
        return None;
    }
    Some(UpstreamOverride {
        name: upstream.name.clone(),
        namespace: (upstream.namespace != caller.namespace).then(|| upstream.namespace.clone()),
        limits,
        passive_health_check,
    })
}

/// The service's ServiceResolver, if it has subsets, a connect timeout or load balancing.
pub fn service_resolver(service: &ir::Service) -> Option<k8s::Object<ServiceResolverSpec>> {
    let subsets: IndexMap<String, ResolverSubset> = service
        .subsets
        .iter()
        .map(|subset| {
            let conditions: Vec<String> = subset
                .labels
                .iter()
                .map(|(key, value)| format!("Service.Meta.{key} == {value:?}"))
                .collect();
            let filter = conditions.join(" and ");
            (subset.name.clone(), ResolverSubset { filter })
        })
        .collect();
    let connect_timeout = service
        .policy
        .pool
        .as_deref()
        .and_then(|pool| pool.connect_timeout)
        .map(|d| d.to_string());
    let load_balancer = service.policy.balance.as_deref().and_then(load_balancer);
    if subsets.is_empty() && connect_timeout.is_none() && load_balancer.is_none() {
        return None;
    }
    Some(object(
        "ServiceResolver",
        service,
        ServiceResolverSpec {
            subsets,
            connect_timeout,
            load_balancer,
        },
    ))
}

/// Consul's policy for a `balance` (none for passthrough, which the checker rejects).
fn load_balancer(balance: &ir::Balance) -> Option<LoadBalancer> {
    let hash = |policy: HashPolicy| LoadBalancer {
        policy: "ring_hash",
        hash_policies: vec![policy],
    };
    let field = |field: &'static str, value: &str| HashPolicy {
        field: Some(field),
        field_value: Some(value.to_string()),
        cookie_config: None,
        source_ip: None,
    };
    let simple = |policy| LoadBalancer {
        policy,
        hash_policies: Vec::new(),
    };
    Some(match balance {
        ir::Balance::RoundRobin => simple("round_robin"),
        ir::Balance::LeastRequest => simple("least_request"),
        ir::Balance::Random => simple("random"),
        ir::Balance::Passthrough => return None,
        ir::Balance::HashHeader(name) => hash(field("header", name)),
        ir::Balance::HashQuery(name) => hash(field("query_parameter", name)),
        ir::Balance::HashCookie { name, ttl, path } => hash(HashPolicy {
            cookie_config: (ttl.is_some() || path.is_some()).then(|| CookieConfig {
                ttl: ttl.map(|d| d.to_string()),
                path: path.clone(),
            }),
            ..field("cookie", name)
        }),
        ir::Balance::HashSourceIp => hash(HashPolicy {
            field: None,
            field_value: None,
            cookie_config: None,
            source_ip: Some(true),
        }),
    })
}

/// The service's ServiceSplitter: the shares of its rules with several destinations (the
/// checker makes sure they agree, E0410); none without such a rule.
pub fn service_splitter(service: &ir::Service) -> Option<k8s::Object<ServiceSplitterSpec>> {
    let weighted = service.routes.iter().find(|rule| rule.splits())?;
    // Consul rejects a destination split to twice: its shares are added up.
    let mut splits: Vec<Split> = Vec::new();
    for d in &weighted.destinations {
        let (target, service_subset, namespace) = target(service, d);
        let split = Split {
            weight: f64::from(d.weight.unwrap_or(0)),
            service: target,
            service_subset,
            namespace,
        };
        let same = |s: &&mut Split| {
            s.service == split.service
                && s.service_subset == split.service_subset
                && s.namespace == split.namespace
        };
        match splits.iter_mut().find(same) {
            Some(earlier) => earlier.weight += split.weight,
            None => splits.push(split),
        }
    }
    Some(object(
        "ServiceSplitter",
        service,
        ServiceSplitterSpec { splits },
    ))
}

/// The service's ServiceRouter: a route per alternative of each rule, in order (none without
/// rules). A rule whose traffic is split sends it to the service itself, whose splitter
/// divides it.
pub fn service_router(service: &ir::Service) -> Option<k8s::Object<ServiceRouterSpec>> {
    if service.routes.is_empty() {
        return None;
    }
    let mut routes = Vec::new();
    for rule in &service.routes {
        let destination = destination(service, rule);
        if rule.matches.is_empty() {
            routes.push(RouterRoute {
                matches: None,
                destination,
            });
            continue;
        }
        for http in merged_methods(rule.matches.iter().map(http_match)) {
            routes.push(RouterRoute {
                matches: Some(RouterMatch { http }),
                destination: destination.clone(),
            });
        }
    }
    Some(object(
        "ServiceRouter",
        service,
        ServiceRouterSpec { routes },
    ))
}

/// Where a split or route of `service` sends: (the service, unless it is `service` itself;
/// the subset; the namespace, unless it is `service`'s).
fn target(
    service: &ir::Service,
    d: &ir::Destination,
) -> (Option<String>, Option<String>, Option<String>) {
    let other_namespace = d.service.namespace != service.namespace;
    let own = d.service.name == service.name && !other_namespace;
    (
        (!own).then(|| d.service.name.clone()),
        d.subset.clone(),
        other_namespace.then(|| d.service.namespace.clone()),
    )
}

/// A router destination: the target (nothing for the service itself, split or not), and the
/// rule's timeout, retries, prefix rewrite and header changes.
fn destination(service: &ir::Service, rule: &ir::RouteRule) -> RouterDestination {
    let mut out = RouterDestination::default();
    if let [only] = rule.destinations.as_slice() {
        if only.weight.is_none() || only.weight == Some(100) {
            (out.service, out.service_subset, out.namespace) = target(service, only);
        }
    }
    out.request_timeout = rule.timeout.map(|d| d.to_string());
    if let Some(retry) = rule.retry.as_ref().filter(|retry| retry.attempts > 0) {
        out.num_retries = Some(retry.attempts);
        if retry.on.is_empty() {
            out.retry_on = DEFAULT_RETRY_ON.iter().map(|c| c.to_string()).collect();
        }
        for condition in &retry.on {
            match condition.parse::<u16>() {
                Ok(code) => out.retry_on_status_codes.push(code),
                Err(_) => out.retry_on.push(condition.clone()),
            }
        }
    }
    if let Some(ir::PathRewrite::Prefix(prefix)) = &rule.rewrite.path {
        out.prefix_rewrite = Some(prefix.clone());
    }
    out.request_headers = header_modifiers(rule.request_ops());
    out.response_headers = header_modifiers(rule.response_ops());
    out
}

fn header_modifiers(ops: &ir::HeaderOps) -> Option<HeaderModifiers> {
    (!ops.is_empty()).then(|| HeaderModifiers {
        add: ops.add.clone(),
        set: ops.set.clone(),
        remove: ops.remove.clone(),
    })
}

/// One alternative as a router match (the checker rejected query prefixes and method
/// patterns).
fn http_match(alternative: &ir::Match) -> HttpMatch {
    let mut out = HttpMatch::default();
    match &alternative.uri {
        Some(ir::StringMatch::Exact(path)) => out.path_exact = Some(path.clone()),
        Some(ir::StringMatch::Prefix(path)) => out.path_prefix = Some(path.clone()),
        Some(ir::StringMatch::Regex(path)) => out.path_regex = Some(path.clone()),
        None => {}
    }
    let value = |name: &String, matcher: &ir::StringMatch| {
        let mut out = ValueMatch {
            name: name.clone(),
            ..ValueMatch::default()
        };
        match matcher {
            ir::StringMatch::Exact(v) => out.exact = Some(v.clone()),
            ir::StringMatch::Prefix(v) => out.prefix = Some(v.clone()),
            ir::StringMatch::Regex(v) => out.regex = Some(v.clone()),
        }
        out
    };
    out.header = alternative
        .headers
        .iter()
        .map(|(n, m)| value(n, m))
        .collect();
    out.query_param = alternative.query.iter().map(|(n, m)| value(n, m)).collect();
    if let Some(ir::StringMatch::Exact(method)) = &alternative.method {
        out.methods.push(method.clone());
    }
    out
}

/// Consul filters subsets on service metadata, which consul-k8s takes from pod annotations
/// (`consul.hashicorp.com/service-meta-<key>`): each Deployment's pods carry the labels that
/// the service's subsets select on as such annotations.
pub fn annotate_service_meta(
    service: &ir::Service,
    deployment: &mut k8s::Object<k8s::DeploymentSpec>,
) {
    let pod = &mut deployment.spec.template.metadata;
    for subset in &service.subsets {
        for key in subset.labels.keys() {
            if let Some(value) = pod.labels.get(key) {
                pod.annotations.insert(
                    format!("consul.hashicorp.com/service-meta-{key}"),
                    value.clone(),
                );
            }
        }
    }
}

/// Adjacent matches that differ only in their method, one route each: `idempotent only` gives
/// six, for instance, which become one route with six `methods`.
fn merged_methods(matches: impl Iterator<Item = HttpMatch>) -> Vec<HttpMatch> {
    let mut out: Vec<HttpMatch> = Vec::new();
    for next in matches {
        if let Some(last) = out.last_mut() {
            let same_but_method = HttpMatch {
                methods: Vec::new(),
                ..last.clone()
            } == HttpMatch {
                methods: Vec::new(),
                ..next.clone()
            };
            if same_but_method && !last.methods.is_empty() && !next.methods.is_empty() {
                // Consul rejects a method listed twice.
                for method in next.methods {
                    if !last.methods.contains(&method) {
                        last.methods.push(method);
                    }
                }
                continue;
            }
        }
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tests_support::compile_all as compile;

    fn spec(yaml: &str) -> &str {
        &yaml[yaml.find("spec:").expect("a spec")..]
    }

    #[test]
    fn limits_go_to_the_callers_and_subsets_to_the_resolver() {
        let manifests = compile(
            "namespace team1\n\
             service api {\n  port 8080\n  subset v1 (version = v1)\n  subset v2 (version = v2)\n\
               pool { max connections 100  max requests 50  connect timeout 2s }\n\
               eject { after 5 consecutive 5xx  check every 10s  for 30s  at most 50% }\n\
               balance hash header x-session\n\
               deploy v1 { image \"api:1\" ready http \"/health\" }\n\
               deploy v2 { image \"api:2\" ready http \"/health\" }\n}\n\
             @allow(missing-circuit-breaker)\nservice web { port 8080 }\n\
             route api -> v1 90%, v2 10% timeout 5s retry 2\n",
        );
        let names: Vec<&str> = manifests.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Deployment/api-v1",
                "Deployment/api-v2",
                "Service/api",
                "ServiceDefaults/api",
                "ServiceResolver/api",
                "ServiceDefaults/web",
                "ServiceSplitter/api",
                "ServiceRouter/api",
            ]
        );
        let yaml = |name: &str| &manifests.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(yaml("Deployment/api-v1")
            .contains("annotations:\n        consul.hashicorp.com/service-meta-version: v1\n"));
        // The service's own defaults say nothing of its limits; its caller's do.
        assert_eq!(
            spec(yaml("ServiceDefaults/api")),
            "spec:\n  protocol: http\n"
        );
        assert_eq!(
            spec(yaml("ServiceDefaults/web")),
            "spec:\n  protocol: http\n  upstreamConfig:\n    overrides:\n    - name: api\n      \
             limits:\n        maxConnections: 100\n        maxConcurrentRequests: 50\n      \
             passiveHealthCheck:\n        interval: 10s\n        maxFailures: 5\n        \
             baseEjectionTime: 30s\n        maxEjectionPercent: 50\n"
        );
        assert_eq!(
            spec(yaml("ServiceResolver/api")),
            "spec:\n  subsets:\n    v1:\n      filter: Service.Meta.version == \"v1\"\n    v2:\n      \
             filter: Service.Meta.version == \"v2\"\n  connectTimeout: 2s\n  loadBalancer:\n    \
             policy: ring_hash\n    hashPolicies:\n    - field: header\n      fieldValue: x-session\n"
        );
        assert_eq!(
            spec(yaml("ServiceSplitter/api")),
            "spec:\n  splits:\n  - weight: 90.0\n    serviceSubset: v1\n  - weight: 10.0\n    \
             serviceSubset: v2\n"
        );
        // `retry 2` without `on`: Istio's default conditions, written out.
        assert_eq!(
            spec(yaml("ServiceRouter/api")),
            "spec:\n  routes:\n  - destination:\n      requestTimeout: 5s\n      numRetries: 2\n      \
             retryOn:\n      - connect-failure\n      - refused-stream\n      - unavailable\n      \
             - cancelled\n"
        );
    }
}

#[cfg(test)]
mod rules {
    use super::tests_support::compile_one;

    #[test]
    fn consul_takes_each_split_method_and_count_once() {
        let text = "namespace team1\n@allow(missing-circuit-breaker)\n\
             service api {\n  port 8080\n  subset v1 (version = v1)\n  subset v2 (version = v2)\n\
               eject { after 0 consecutive 5xx  for 30s }\n}\n\
             @allow(missing-circuit-breaker)\nservice web { port 8080 }\n\
             route api when header a = \"1\" and method GET or header a = \"1\" and method GET \
             or header a = \"1\" and method HEAD -> v1 timeout 5s\n\
             route api -> v1 50%, v1 40%, v2 10% timeout 5s\n";
        let splitter = compile_one(text, "ServiceSplitter/api");
        assert!(
            splitter.ends_with(
                "splits:\n  - weight: 90.0\n    serviceSubset: v1\n  - weight: 10.0\n    serviceSubset: v2\n"
            ),
            "{splitter}"
        );
        let router = compile_one(text, "ServiceRouter/api");
        assert!(
            router.contains("methods:\n        - GET\n        - HEAD\n    destination:"),
            "{router}"
        );
        let defaults = compile_one(text, "ServiceDefaults/web");
        assert!(
            defaults.contains("passiveHealthCheck:\n        enforcingConsecutive5xx: 0\n        baseEjectionTime: 30s\n"),
            "{defaults}"
        );
    }
}

#[cfg(test)]
mod tests_support {
    use crate::target::{Options, Target};

    /// The YAML of every manifest of a program compiled for Consul, by `kind/name`.
    pub fn compile_all(text: &str) -> Vec<(String, String)> {
        let options = Options {
            target: Target::Consul,
            ..Options::default()
        };
        let manifests = crate::testing::manifests_of(text, options);
        let named = manifests.iter().map(|m| {
            let name = m.metadata().map_or("", |d| d.name.as_str());
            let name = format!("{}/{name}", m.kind());
            (name, crate::emit::yaml::document(m))
        });
        named.collect()
    }

    /// The YAML of the manifest `kind/name` of a program compiled for Consul.
    pub fn compile_one(text: &str, wanted: &str) -> String {
        let all = compile_all(text);
        let found = all.into_iter().find(|(name, _)| name == wanted);
        found.expect("the manifest is emitted").1
    }
}
