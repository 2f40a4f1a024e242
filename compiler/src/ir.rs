//! The typed IR: what a program means, after names are resolved, values converted and
//! range-checked, and defaults filled in. Emitters read only this.
//!
//! **Architecture invariant:** nothing here refers to pest, the AST, or YAML field names; every
//! value in the IR is valid for Istio (the checker guarantees it), so emitters cannot fail.

use crate::hash::IndexMap;

use crate::source::Span;

/// Everything one compilation declares, in source order.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// Services, in the order of their files and then of their declarations.
    pub services: Vec<Service>,
    /// Ingresses, in the same order.
    pub ingresses: Vec<Ingress>,
}

/// Routes for traffic entering through Gateways (a Gateway API HTTPRoute).
#[derive(Debug, Clone)]
pub struct Ingress {
    /// The namespace of its file.
    pub namespace: String,
    /// The ingress name.
    pub name: String,
    /// Name of the emitted HTTPRoute.
    pub routes_name: String,
    /// The Gateways the routes attach to.
    pub gateways: Vec<GatewayRef>,
    /// Host names the routes answer for (empty: every host of the Gateway).
    pub hostnames: Vec<String>,
    /// Route rules in source order.
    pub routes: Vec<RouteRule>,
    /// `extra HTTPRoute` blocks, in source order.
    pub extras: Vec<Extra>,
    /// Where the ingress was declared.
    pub span: Span,
}

/// A Gateway an ingress attaches to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRef {
    /// Gateway name.
    pub name: String,
    /// Its namespace, when not the ingress's own.
    pub namespace: Option<String>,
    /// The listener (`sectionName`), if one is chosen.
    pub section: Option<String>,
}

/// A Kubernetes Service a route sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    /// Service name.
    pub name: String,
    /// Service namespace.
    pub namespace: String,
    /// Its host.
    pub host: String,
    /// Its port, if declared.
    pub port: Option<u16>,
}

/// A length of time, in whole milliseconds (≥ 1 ms: the checker rejects less).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    /// Milliseconds.
    pub millis: u64,
}

impl Duration {
    /// Gateway API's duration syntax (GEP-2257): `1h30m`, `1s500ms`, `0s`; units in
    /// descending order, each at most 99999. `None` when it does not fit (over 99999 hours).
    pub fn gep2257(self) -> Option<String> {
        let hours = self.millis / 3_600_000;
        if hours > 99_999 {
            return None;
        }
        let parts = [
            (hours, "h"),
            (self.millis / 60_000 % 60, "m"),
            (self.millis / 1000 % 60, "s"),
            (self.millis % 1000, "ms"),
        ];
        let text: String = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, unit)| format!("{n}{unit}"))
            .collect();
        Some(if text.is_empty() {
            "0s".to_string()
        } else {
            text
        })
    }
}

impl std::fmt::Display for Duration {
    /// The Go duration syntax Kubernetes expects: whole seconds as `30s`, otherwise `1500ms`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.millis % 1000 == 0 {
            write!(f, "{}s", self.millis / 1000)
        } else {
            write!(f, "{}ms", self.millis)
        }
    }
}

/// A service and everything declared about it.
#[derive(Debug, Clone)]
pub struct Service {
    /// The namespace of its file.
    pub namespace: String,
    /// The service name.
    pub name: String,
    /// The host that routes and policies apply to (default `<name>.<namespace>.svc.cluster.local`).
    pub host: String,
    /// The service port, if declared.
    pub port: Option<u16>,
    /// Subsets in source order.
    pub subsets: Vec<Subset>,
    /// Versions deployed as Deployments, in source order.
    pub deployments: Vec<Deployment>,
    /// A progressive rollout between two subsets, if declared.
    pub canary: Option<Box<Canary>>,
    /// Service-wide traffic policy.
    pub policy: TrafficPolicy,
    /// Route rules in source order, across every file.
    pub routes: Vec<RouteRule>,
    /// Name of the emitted routes resource.
    pub routes_name: String,
    /// Name of the emitted policy resource.
    pub policy_name: String,
    /// `extra` blocks: fields added to the emitted objects, in source order.
    pub extras: Vec<Extra>,
    /// Where the service was declared.
    pub span: Span,
}

/// An `extra KIND { ... }` block, checked: settings added to the service's objects of `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct Extra {
    /// The kind of object it extends.
    pub kind: crate::extra::Kind,
    /// Where the kind is named.
    pub span: Span,
    /// The settings, in source order, a group's path joined to its settings' paths.
    pub sets: Vec<ExtraSet>,
}

/// One `PATH = VALUE` of an `extra` block.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraSet {
    /// Where the value goes.
    pub path: Vec<crate::extra::Step>,
    /// Where each step of the path is written (a group's steps in the group's path).
    pub path_spans: Vec<Span>,
    /// The value.
    pub value: serde_json::Value,
    /// Where the value is written.
    pub value_span: Span,
    /// Where each item of a list value is written.
    pub item_spans: Vec<Span>,
}

/// The host of the Kubernetes Service `name` in `namespace`.
pub fn cluster_host(name: &str, namespace: &str) -> String {
    format!("{name}.{namespace}.svc.cluster.local")
}

impl Service {
    /// Whether the service is a Kubernetes Service of the cluster (no `host` of its own).
    pub fn is_cluster_service(&self) -> bool {
        self.host == cluster_host(&self.name, &self.namespace)
    }

    /// Whether `destinations` is this service alone, with no subset: all of its traffic,
    /// where it would go anyway.
    pub fn is_only_destination(&self, destinations: &[Destination]) -> bool {
        match destinations {
            [only] => {
                only.subset.is_none()
                    && only.service.name == self.name
                    && only.service.namespace == self.namespace
            }
            _ => false,
        }
    }
}

/// A progressive rollout from one subset to another.
#[derive(Debug, Clone)]
pub struct Canary {
    /// The version traffic moves away from.
    pub from: String,
    /// The version traffic moves to.
    pub to: String,
    /// Percentages of traffic on `to`, strictly increasing, the last 100.
    pub steps: Vec<u32>,
    /// A first step that only mirrors this percentage of traffic to `to`.
    pub mirror_first: Option<f64>,
    /// Beta testers: a header condition that always reaches `to`.
    pub beta: Option<(String, StringMatch)>,
    /// Highest acceptable share of 5xx responses of `to`, in percent.
    pub max_error_percent: Option<f64>,
    /// Highest acceptable p99 latency of `to`.
    pub max_p99: Option<Duration>,
    /// How often the checks run.
    pub interval: Option<Duration>,
    /// Failed checks before a rollback.
    pub failure_limit: Option<u32>,
    /// The Prometheus the checks read (for Argo Rollouts).
    pub prometheus: Option<String>,
}

impl Canary {
    /// How many static steps the rollout has (the mirroring phase counts as one).
    pub fn step_count(&self) -> usize {
        self.steps.len() + usize::from(self.mirror_first.is_some())
    }

    /// Whether the canary has checks (and so alerts, and an analysis under Argo Rollouts).
    pub fn has_checks(&self) -> bool {
        self.max_error_percent.is_some() || self.max_p99.is_some()
    }
}

/// The name of the VirtualService route whose weights Argo Rollouts moves: set by the checker,
/// named in the Rollout.
pub const ROLLOUT_ROUTE: &str = "primary";

/// A version of a service run as a Kubernetes Deployment.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The version (pod label `version`).
    pub version: String,
    /// The Deployment's name: `<service>-<version>`.
    pub name: String,
    /// Pod labels: `app` (the service) and `version`.
    pub labels: IndexMap<String, String>,
    /// Container image.
    pub image: String,
    /// Replicas, if written.
    pub replicas: Option<u32>,
    /// Container name.
    pub container: String,
    /// Container port, if written.
    pub port: Option<u16>,
    /// Readiness probe.
    pub readiness: Option<Readiness>,
    /// Resource requests (`cpu`, `memory`), as Kubernetes quantities.
    pub requests: IndexMap<String, String>,
    /// Resource limits.
    pub limits: IndexMap<String, String>,
    /// Environment variables.
    pub env: IndexMap<String, String>,
    /// Where the version was declared.
    pub span: Span,
}

/// An HTTP readiness probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// Path probed.
    pub path: String,
    /// Port probed.
    pub port: u16,
    /// Seconds before the first probe.
    pub initial_delay_seconds: Option<u32>,
    /// Seconds between probes.
    pub period_seconds: Option<u32>,
}

/// A named group of the service's pods.
#[derive(Debug, Clone)]
pub struct Subset {
    /// The subset name.
    pub name: String,
    /// Pod labels selecting the subset, in source order.
    pub labels: IndexMap<String, String>,
    /// Subset-level policy.
    pub policy: TrafficPolicy,
    /// Where its name was declared.
    pub span: Span,
}

/// Connection pool, outlier detection and load balancing; every part optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrafficPolicy {
    /// Connection limits.
    pub pool: Option<Box<Pool>>,
    /// Outlier detection.
    pub eject: Option<Box<Eject>>,
    /// Load balancing.
    pub balance: Option<Box<Balance>>,
}

impl TrafficPolicy {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.pool.is_none() && self.eject.is_none() && self.balance.is_none()
    }
}

/// Connection-pool limits (all counts ≥ 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pool {
    /// TCP: maximum connections.
    pub max_connections: Option<u32>,
    /// TCP: connect timeout.
    pub connect_timeout: Option<Duration>,
    /// HTTP/1.1: maximum pending requests.
    pub max_pending_requests: Option<u32>,
    /// HTTP/2: maximum concurrent requests.
    pub max_requests: Option<u32>,
    /// Maximum requests per connection.
    pub max_requests_per_connection: Option<u32>,
    /// Maximum concurrent retries.
    pub max_retries: Option<u32>,
    /// HTTP idle timeout.
    pub idle_timeout: Option<Duration>,
    /// HTTP/1.1 → HTTP/2 upgrade policy.
    pub h2_upgrade: Option<H2Upgrade>,
}

/// Istio's `h2UpgradePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H2Upgrade {
    /// `default`: the mesh-wide setting.
    Default,
    /// `off`.
    DoNotUpgrade,
    /// `on`.
    Upgrade,
}

/// Outlier detection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Eject {
    /// Consecutive 5xx responses before ejection.
    pub consecutive_5xx: Option<u32>,
    /// Consecutive gateway errors (502, 503, 504) before ejection.
    pub consecutive_gateway_errors: Option<u32>,
    /// Time between analysis sweeps.
    pub interval: Option<Duration>,
    /// Minimum ejection time.
    pub base_ejection_time: Option<Duration>,
    /// Maximum share of hosts ejected, 0–100.
    pub max_ejection_percent: Option<u32>,
    /// Minimum share of healthy hosts, 0–100.
    pub min_health_percent: Option<u32>,
}

/// A load-balancing algorithm.
#[derive(Debug, Clone, PartialEq)]
pub enum Balance {
    /// Round robin.
    RoundRobin,
    /// Least request (also what `least conn` means).
    LeastRequest,
    /// Random.
    Random,
    /// Forward to the address the caller asked for.
    Passthrough,
    /// Consistent hash on a header.
    HashHeader(String),
    /// Consistent hash on a cookie.
    HashCookie {
        name: String,
        ttl: Option<Duration>,
        path: Option<String>,
    },
    /// Consistent hash on the source IP.
    HashSourceIp,
    /// Consistent hash on a query parameter.
    HashQuery(String),
}

/// One rule of a service's routes.
#[derive(Debug, Clone, Default)]
pub struct RouteRule {
    /// Where the rule was written (for diagnostics about rule order).
    pub span: Span,
    /// The rule's name (`http[].name`), when a tool needs to find it (Argo Rollouts).
    pub name: Option<String>,
    /// `retry ... idempotent only`: split by method before emission (the checker does it).
    pub idempotent_only: bool,
    /// Alternatives (any may match), each a conjunction; empty matches everything.
    pub matches: Vec<Match>,
    /// Where traffic goes.
    pub destinations: Vec<Destination>,
    /// Retry policy, if written.
    pub retry: Option<Retry>,
    /// Whole-request timeout.
    pub timeout: Option<Duration>,
    /// Timeout of each call to a backend.
    pub backend_timeout: Option<Duration>,
    /// A redirect instead of destinations.
    pub redirect: Option<Box<Redirect>>,
    /// Fault injection.
    pub fault: Fault,
    /// Mirroring.
    pub mirror: Option<Box<Mirror>>,
    /// Rewrites.
    pub rewrite: Rewrite,
    /// Header operations on requests, if any were written (see [`RouteRule::request_ops`]).
    /// The rarely used parts of a rule are boxed: a rule is 320 bytes, not 824.
    pub request_headers: Option<Box<HeaderOps>>,
    /// Header operations on responses, if any were written.
    pub response_headers: Option<Box<HeaderOps>>,
}

impl RouteRule {
    /// The header operations on requests (none when none were written).
    pub fn request_ops(&self) -> &HeaderOps {
        self.request_headers.as_deref().unwrap_or(HeaderOps::none())
    }

    /// The header operations on responses (none when none were written).
    pub fn response_ops(&self) -> &HeaderOps {
        self.response_headers
            .as_deref()
            .unwrap_or(HeaderOps::none())
    }

    /// Whether the rule divides its traffic between several destinations (a single one, even
    /// weighted 100%, is no split).
    pub fn splits(&self) -> bool {
        self.destinations.len() > 1
    }
}

/// Conditions that must all hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// Header conditions by name, in source order.
    pub headers: IndexMap<String, StringMatch>,
    /// Query-parameter conditions by name.
    pub query: IndexMap<String, StringMatch>,
    /// The path condition.
    pub uri: Option<StringMatch>,
    /// The method condition.
    pub method: Option<StringMatch>,
}

/// A string comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StringMatch {
    /// Equal.
    Exact(String),
    /// Starts with.
    Prefix(String),
    /// RE2 regular expression.
    Regex(String),
}

/// A destination and its weight.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The destination service.
    pub service: ServiceRef,
    /// Subset, if any.
    pub subset: Option<String>,
    /// Weight, if written (the checker makes percentages total 100).
    pub weight: Option<u32>,
}

/// Rules grouped by their retry policy, in order of first appearance (no retry and `retry 0`
/// are one group). Linkerd reads retries per route object, so each group is an HTTPRoute of
/// its own, named by [`numbered_name`].
pub fn retry_groups(rules: &[RouteRule]) -> Vec<(Option<&Retry>, Vec<&RouteRule>)> {
    let mut groups: Vec<(Option<&Retry>, Vec<&RouteRule>)> = Vec::new();
    for rule in rules {
        let retry = rule.retry.as_ref().filter(|retry| retry.attempts > 0);
        let same = |other: Option<&Retry>| match (other, retry) {
            (Some(a), Some(b)) => a.same_policy(b),
            (a, b) => a.is_none() && b.is_none(),
        };
        match groups.iter_mut().find(|(r, _)| same(*r)) {
            Some((_, group)) => group.push(rule),
            None => groups.push((retry, vec![rule])),
        }
    }
    groups
}

/// The name of the `index`th (from 0) of several objects named `base`: `base`, `base-2`, ...
pub fn numbered_name(base: &str, index: usize) -> String {
    match index {
        0 => base.to_string(),
        _ => format!("{base}-{}", index + 1),
    }
}

impl Retry {
    /// Whether two policies retry alike: the conditions are a set (`on 502, 503` and `on 503,
    /// 502` are one policy).
    pub fn same_policy(&self, other: &Retry) -> bool {
        fn conditions(retry: &Retry) -> Vec<&str> {
            let mut on: Vec<&str> = retry.on.iter().map(String::as_str).collect();
            on.sort_unstable();
            on
        }
        self.attempts == other.attempts
            && self.per_try_timeout == other.per_try_timeout
            && self.remote_localities == other.remote_localities
            && conditions(self) == conditions(other)
    }
}

/// A retry policy.
#[derive(Debug, Clone)]
pub struct Retry {
    /// Retries after the first try.
    pub attempts: u32,
    /// Timeout of each try.
    pub per_try_timeout: Option<Duration>,
    /// Conditions, canonical spelling, in source order.
    pub on: Vec<String>,
    /// Whether retries may go to other localities.
    pub remote_localities: Option<bool>,
}

/// Fault injection: a delay, an abort, or both.
#[derive(Debug, Clone, Default)]
pub struct Fault {
    /// Delay and the percentage of requests delayed.
    pub delay: Option<(Duration, f64)>,
    /// Abort and the percentage of requests aborted.
    pub abort: Option<(AbortStatus, f64)>,
}

/// What an injected abort returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbortStatus {
    /// An HTTP status, 200–599.
    Http(u16),
    /// A gRPC status name.
    Grpc(String),
}

/// Traffic mirroring.
#[derive(Debug, Clone)]
pub struct Mirror {
    /// Where copies go.
    pub service: ServiceRef,
    /// Subset, if any.
    pub subset: Option<String>,
    /// Percentage of requests mirrored.
    pub percent: f64,
}

/// Request rewrites.
#[derive(Debug, Clone, Default)]
pub struct Rewrite {
    /// New path, or new prefix in place of the matched one.
    pub path: Option<PathRewrite>,
    /// New Host/:authority.
    pub authority: Option<String>,
}

/// How a path is rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRewrite {
    /// The whole path is replaced.
    Full(String),
    /// The prefix that a `uri prefix` condition matched is replaced.
    Prefix(String),
}

/// A redirect answered instead of routing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redirect {
    /// `http` or `https`.
    pub scheme: Option<String>,
    /// New host name.
    pub host: Option<String>,
    /// New port.
    pub port: Option<u16>,
    /// New path.
    pub path: Option<PathRewrite>,
    /// Status code (301, 302, 303, 307, 308).
    pub status: Option<u16>,
}

/// Header operations, each list in source order.
#[derive(Debug, Clone, Default)]
pub struct HeaderOps {
    /// Set (replace).
    pub set: IndexMap<String, String>,
    /// Add (append).
    pub add: IndexMap<String, String>,
    /// Remove.
    pub remove: Vec<String>,
}

impl HeaderOps {
    /// No operation.
    pub fn none() -> &'static HeaderOps {
        static NONE: std::sync::OnceLock<HeaderOps> = std::sync::OnceLock::new();
        NONE.get_or_init(HeaderOps::default)
    }

    /// Whether there is no operation.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}
