//! Serde models of the Kubernetes objects meshc emits, with the exact field names of the
//! upstream CRDs. Optional fields are skipped when unset; maps keep insertion order.

use crate::hash::IndexMap;
use serde::Serialize;

/// Object metadata.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metadata {
    /// Object name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Labels.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    /// Annotations (Linkerd's retry settings).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub annotations: IndexMap<String, String>,
}

/// A top-level Kubernetes object.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Object<S> {
    /// `group/version`.
    pub api_version: &'static str,
    /// The kind.
    pub kind: &'static str,
    /// Name, namespace, labels.
    pub metadata: Metadata,
    /// The spec.
    pub spec: S,
}

/// Istio `VirtualService` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VirtualServiceSpec {
    /// Hosts the routes apply to.
    pub hosts: Vec<String>,
    /// HTTP rules, first match wins.
    pub http: Vec<HttpRoute>,
}

/// One HTTP rule.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpRoute {
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Alternatives.
    #[serde(rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<HttpMatch>,
    /// Fault injection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// Destinations (none when the rule redirects).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<RouteDestination>,
    /// A redirect instead of destinations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<Redirect>,
    /// Mirror destination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<Destination>,
    /// Share mirrored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror_percentage: Option<Percent>,
    /// Rewrite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<Rewrite>,
    /// Timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<Retries>,
    /// Header operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Headers>,
}

/// `match[]` entry.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpMatch {
    /// Path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<StringMatch>,
    /// Method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<StringMatch>,
    /// Headers.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, StringMatch>,
    /// Query parameters.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub query_params: IndexMap<String, StringMatch>,
}

/// Exactly one of exact, prefix, regex.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum StringMatch {
    /// Equal.
    Exact(String),
    /// Prefix.
    Prefix(String),
    /// RE2.
    Regex(String),
}

/// `route[]` entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouteDestination {
    /// Where.
    pub destination: Destination,
    /// Relative weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

/// A destination host and subset.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Destination {
    /// Host.
    pub host: String,
    /// Subset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
}

/// `{value: double}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Percent {
    /// 0–100.
    pub value: f64,
}

/// Fault injection.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fault {
    /// Delay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<FaultDelay>,
    /// Abort.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort: Option<FaultAbort>,
}

/// Injected delay.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FaultDelay {
    /// Share delayed (always emitted: omitted means 0 %).
    pub percentage: Percent,
    /// The delay.
    pub fixed_delay: String,
}

/// Injected abort.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FaultAbort {
    /// Share aborted (always emitted: omitted means 0 %).
    pub percentage: Percent,
    /// HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// gRPC status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<String>,
}

/// Rewrite.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rewrite {
    /// Path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Authority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
}

/// Retries.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Retries {
    /// Retries after the first try.
    pub attempts: u32,
    /// Per-try timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_try_timeout: Option<String>,
    /// Comma-separated conditions, no spaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<String>,
    /// Retry in other localities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_remote_localities: Option<bool>,
}

/// A VirtualService redirect.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Redirect {
    /// New path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// New prefix in place of the matched one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_rewrite: Option<String>,
    /// New host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// New port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// New scheme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_code: Option<u16>,
}

/// Request and response header operations.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Headers {
    /// On requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<HeaderOperations>,
    /// On responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<HeaderOperations>,
}

/// set / add / remove.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeaderOperations {
    /// Replace.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub set: IndexMap<String, String>,
    /// Append.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub add: IndexMap<String, String>,
    /// Remove.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// Istio `DestinationRule` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DestinationRuleSpec {
    /// Host.
    pub host: String,
    /// Service-wide policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
    /// Subsets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subsets: Vec<Subset>,
}

/// A subset.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subset {
    /// Name.
    pub name: String,
    /// Pod labels.
    pub labels: IndexMap<String, String>,
    /// Subset policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
}

/// Traffic policy.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPolicy {
    /// Load balancing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancer>,
    /// Connection pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_pool: Option<ConnectionPool>,
    /// Outlier detection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierDetection>,
}

/// Load balancer: `simple` or `consistentHash`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum LoadBalancer {
    /// Named algorithm.
    Simple(&'static str),
    /// Hash-based affinity.
    ConsistentHash(ConsistentHash),
}

/// Consistent-hash key (exactly one field set).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConsistentHash {
    /// Header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_header_name: Option<String>,
    /// Cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_cookie: Option<HttpCookie>,
    /// Source IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_source_ip: Option<bool>,
    /// Query parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_query_parameter_name: Option<String>,
}

/// Hash cookie.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HttpCookie {
    /// Name.
    pub name: String,
    /// Path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Lifetime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// Connection pool.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConnectionPool {
    /// TCP limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpSettings>,
    /// HTTP limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpSettings>,
}

/// TCP pool settings.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TcpSettings {
    /// Max connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Connect timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<String>,
}

/// HTTP pool settings.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpSettings {
    /// HTTP/1.1 pending.
    #[serde(
        rename = "http1MaxPendingRequests",
        skip_serializing_if = "Option::is_none"
    )]
    pub http1_max_pending_requests: Option<u32>,
    /// HTTP/2 requests.
    #[serde(rename = "http2MaxRequests", skip_serializing_if = "Option::is_none")]
    pub http2_max_requests: Option<u32>,
    /// Per connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests_per_connection: Option<u32>,
    /// Retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Idle timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
    /// Upgrade policy.
    #[serde(rename = "h2UpgradePolicy", skip_serializing_if = "Option::is_none")]
    pub h2_upgrade_policy: Option<&'static str>,
}

/// Outlier detection.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct OutlierDetection {
    /// 5xx count.
    #[serde(
        rename = "consecutive5xxErrors",
        skip_serializing_if = "Option::is_none"
    )]
    pub consecutive_5xx_errors: Option<u32>,
    /// Gateway error count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_gateway_errors: Option<u32>,
    /// Interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Base ejection time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_ejection_time: Option<String>,
    /// Max ejection percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ejection_percent: Option<u32>,
    /// Min health percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_health_percent: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// Linkerd ServiceProfile (linkerd.io/v1alpha2)

/// Linkerd `ServiceProfile` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProfileSpec {
    /// Routes, tried in order.
    pub routes: Vec<ProfileRoute>,
    /// The service's traffic split.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dst_overrides: Vec<DstOverride>,
}

/// A ServiceProfile route.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProfileRoute {
    /// Name (the `route` label of Linkerd's metrics).
    pub name: String,
    /// Which requests the route is.
    pub condition: RequestMatch,
    /// Whether failed requests may be retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_retryable: Option<bool>,
    /// Whole-request timeout (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// A ServiceProfile request match: exactly one field is set.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RequestMatch {
    /// A regular expression the whole path must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_regex: Option<String>,
    /// The method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Matches that must all hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<RequestMatch>,
    /// Matches of which one must hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<RequestMatch>,
}

/// A share of a ServiceProfile's traffic.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DstOverride {
    /// `host:port`.
    pub authority: String,
    /// Relative weight.
    pub weight: u32,
}

// Gateway API (gateway.networking.k8s.io)

/// Gateway API `HTTPRoute` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// Gateways (ingress) or the Service (GAMMA) the routes attach to.
    pub parent_refs: Vec<ParentRef>,
    /// Host names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// Rules.
    pub rules: Vec<HttpRouteRule>,
}

/// A parent reference.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    /// API group: `""` for a Service; omitted for a Gateway (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<&'static str>,
    /// `Service`; omitted for a Gateway (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// Name.
    pub name: String,
    /// Namespace, when not the route's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// One HTTPRoute rule.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    /// Alternatives.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<HttpRouteMatch>,
    /// Filters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Backends.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<BackendRef>,
    /// Timeouts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,
    /// Retries (experimental channel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<HttpRouteRetry>,
}

/// One alternative.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteMatch {
    /// Path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
    /// Headers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<NameMatch>,
    /// Query parameters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query_params: Vec<NameMatch>,
    /// Method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// A path match.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PathMatch {
    /// `Exact`, `PathPrefix` or `RegularExpression`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The path or pattern.
    pub value: String,
}

/// A header or query-parameter match.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NameMatch {
    /// `RegularExpression`; omitted for `Exact` (the default).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// Name.
    pub name: String,
    /// Value or pattern.
    pub value: String,
}

/// A filter: `type` and the payload of that type.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// The filter type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `RequestHeaderModifier`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HeaderModifier>,
    /// `ResponseHeaderModifier`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_header_modifier: Option<HeaderModifier>,
    /// `URLRewrite`.
    #[serde(rename = "urlRewrite", skip_serializing_if = "Option::is_none")]
    pub url_rewrite: Option<UrlRewrite>,
    /// `RequestRedirect`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_redirect: Option<RequestRedirect>,
    /// `RequestMirror`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_mirror: Option<RequestMirror>,
}

impl Filter {
    /// A filter of `kind` with no payload yet.
    pub fn new(kind: &'static str) -> Filter {
        Filter {
            kind,
            request_header_modifier: None,
            response_header_modifier: None,
            url_rewrite: None,
            request_redirect: None,
            request_mirror: None,
        }
    }
}

/// Header modifications.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeaderModifier {
    /// Replace.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<NameValue>,
    /// Append.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<NameValue>,
    /// Remove.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// `{name, value}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NameValue {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// URL rewrite.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UrlRewrite {
    /// New host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// New path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifier>,
}

/// `ReplaceFullPath` or `ReplacePrefixMatch`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PathModifier {
    /// The type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// For `ReplaceFullPath`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_full_path: Option<String>,
    /// For `ReplacePrefixMatch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_prefix_match: Option<String>,
}

/// Redirect.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestRedirect {
    /// Scheme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifier>,
    /// Port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

/// Mirror.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestMirror {
    /// Where copies go.
    pub backend_ref: BackendRef,
    /// Whole percentage mirrored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<u32>,
    /// Fractional share mirrored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction: Option<Fraction>,
}

/// `numerator / denominator`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fraction {
    /// Numerator.
    pub numerator: u32,
    /// Denominator.
    pub denominator: u32,
}

/// A Service backend.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BackendRef {
    /// Service name.
    pub name: String,
    /// Namespace, when not the route's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Service port.
    pub port: u16,
    /// Weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// Filters for this backend only (Linkerd's response header changes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
}

/// Timeouts (GEP-2257 durations).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Timeouts {
    /// Whole request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Each backend call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_request: Option<String>,
}

/// Retries (experimental channel).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HttpRouteRetry {
    /// Retries after the first try.
    pub attempts: u32,
    /// Status codes to retry on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<u16>,
}

/// Gateway API `ReferenceGrant` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReferenceGrantSpec {
    /// Who may refer.
    pub from: Vec<GrantFrom>,
    /// What may be referred to.
    pub to: Vec<GrantTo>,
}

/// A ReferenceGrant `from` entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GrantFrom {
    /// API group of the referring kind.
    pub group: &'static str,
    /// Referring kind.
    pub kind: &'static str,
    /// Referring namespace.
    pub namespace: String,
}

/// A ReferenceGrant `to` entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GrantTo {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Name.
    pub name: String,
}

// ---------------------------------------------------------------------------------------------
// Workloads (apps/v1 Deployment, v1 Service)

/// apps/v1 `Deployment` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeploymentSpec {
    /// Replicas, if written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Pod selector.
    pub selector: LabelSelector,
    /// Pod template.
    pub template: PodTemplate,
}

/// `matchLabels`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels.
    pub match_labels: IndexMap<String, String>,
}

/// A pod template.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PodTemplate {
    /// Pod labels.
    pub metadata: PodMetadata,
    /// Pod spec.
    pub spec: PodSpec,
}

/// Pod metadata.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PodMetadata {
    /// Labels.
    pub labels: IndexMap<String, String>,
    /// Annotations (Consul's service metadata).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub annotations: IndexMap<String, String>,
}

/// Pod spec: one container.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PodSpec {
    /// Containers.
    pub containers: Vec<Container>,
}

/// A container.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Name.
    pub name: String,
    /// Image.
    pub image: String,
    /// Ports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// Environment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<NameValue>,
    /// Readiness probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    /// Resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// A container port.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// Name (`http`: Istio picks the protocol from it).
    pub name: &'static str,
    /// Port.
    pub container_port: u16,
}

/// An HTTP probe.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// The request.
    pub http_get: HttpGet,
    /// Seconds before the first probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<u32>,
    /// Seconds between probes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u32>,
}

/// `httpGet`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HttpGet {
    /// Path.
    pub path: String,
    /// Port.
    pub port: u16,
}

/// Requests and limits.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Resources {
    /// Requests.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub requests: IndexMap<String, String>,
    /// Limits.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub limits: IndexMap<String, String>,
}

/// v1 `Service` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceSpec {
    /// Pod selector.
    pub selector: IndexMap<String, String>,
    /// Ports.
    pub ports: Vec<ServicePort>,
}

/// A Service port.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    /// Name (`http`).
    pub name: &'static str,
    /// Port.
    pub port: u16,
    /// Container port: a number, or the name of the containers' port.
    pub target_port: IntOrName,
}

/// Kubernetes' int-or-string.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum IntOrName {
    /// A port number.
    Int(u16),
    /// A port name.
    Name(&'static str),
}

// ---------------------------------------------------------------------------------------------
// Monitoring (monitoring.coreos.com/v1 PrometheusRule)

/// `PrometheusRule` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PrometheusRuleSpec {
    /// Rule groups.
    pub groups: Vec<RuleGroup>,
}

/// A group of rules.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleGroup {
    /// Group name.
    pub name: String,
    /// Alerting rules.
    pub rules: Vec<AlertRule>,
}

/// An alerting rule.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertRule {
    /// Alert name.
    pub alert: String,
    /// PromQL expression.
    pub expr: String,
    /// How long the condition must hold.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// Labels.
    pub labels: IndexMap<String, String>,
    /// Annotations.
    pub annotations: IndexMap<String, String>,
}

// ---------------------------------------------------------------------------------------------
// Flagger (flagger.app/v1beta1)

/// Flagger `Canary` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FlaggerCanarySpec {
    /// The mesh Flagger drives.
    pub provider: &'static str,
    /// The Deployment Flagger rolls out.
    pub target_ref: TargetRef,
    /// The service Flagger generates routes for.
    pub service: FlaggerService,
    /// How the rollout is judged.
    pub analysis: FlaggerAnalysis,
}

/// `targetRef`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TargetRef {
    /// `apps/v1`.
    pub api_version: &'static str,
    /// `Deployment`.
    pub kind: &'static str,
    /// Name.
    pub name: String,
}

/// `service`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FlaggerService {
    /// Port.
    pub port: u16,
    /// Request timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<Retries>,
    /// Istio traffic policy for the generated DestinationRules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
}

/// `analysis`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FlaggerAnalysis {
    /// Time between checks.
    pub interval: String,
    /// Failed checks before a rollback.
    pub threshold: u32,
    /// Weights before promotion.
    pub step_weights: Vec<u32>,
    /// Built-in metrics.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<FlaggerMetric>,
}

/// A built-in Flagger metric.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FlaggerMetric {
    /// `request-success-rate` or `request-duration`.
    pub name: &'static str,
    /// Bounds.
    pub threshold_range: ThresholdRange,
    /// Query window.
    pub interval: String,
}

/// `thresholdRange`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ThresholdRange {
    /// Lower bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Upper bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// Argo Rollouts (argoproj.io/v1alpha1)

/// `Rollout` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RolloutSpec {
    /// Replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Pod selector.
    pub selector: LabelSelector,
    /// Pod template.
    pub template: PodTemplate,
    /// The rollout strategy.
    pub strategy: RolloutStrategy,
}

/// `strategy`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RolloutStrategy {
    /// The canary strategy.
    pub canary: CanaryStrategy,
}

/// `strategy.canary`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStrategy {
    /// How traffic is split.
    pub traffic_routing: TrafficRouting,
    /// The steps.
    pub steps: Vec<RolloutStep>,
}

/// `trafficRouting`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrafficRouting {
    /// Istio subset-level routing.
    pub istio: IstioRouting,
}

/// `trafficRouting.istio`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IstioRouting {
    /// The VirtualService and its route.
    pub virtual_service: RoutedVirtualService,
    /// The DestinationRule and its subsets.
    pub destination_rule: RoutedDestinationRule,
}

/// `virtualService`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoutedVirtualService {
    /// Name.
    pub name: String,
    /// Route names.
    pub routes: Vec<String>,
}

/// `destinationRule`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutedDestinationRule {
    /// Name.
    pub name: String,
    /// The new version's subset.
    pub canary_subset_name: String,
    /// The stable version's subset.
    pub stable_subset_name: String,
}

/// One step.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum RolloutStep {
    /// Send this percentage to the new version.
    SetWeight(u32),
    /// Wait (`{}`: until promoted by hand).
    Pause(Pause),
    /// Run an analysis.
    Analysis(AnalysisStep),
}

/// `pause`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pause {
    /// How long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// `analysis`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnalysisStep {
    /// Templates.
    pub templates: Vec<TemplateRef>,
}

/// A template reference.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRef {
    /// Name.
    pub template_name: String,
}

/// `AnalysisTemplate` spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnalysisTemplateSpec {
    /// Metrics.
    pub metrics: Vec<AnalysisMetric>,
}

/// An analysis metric.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisMetric {
    /// Name.
    pub name: &'static str,
    /// Time between measurements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Measurements to take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Failed measurements before the analysis fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_limit: Option<u32>,
    /// Condition of success.
    pub success_condition: String,
    /// Where the measurement comes from.
    pub provider: MetricProvider,
}

/// `provider`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricProvider {
    /// Prometheus.
    pub prometheus: PrometheusQuery,
}

/// `provider.prometheus`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PrometheusQuery {
    /// Server address.
    pub address: String,
    /// PromQL.
    pub query: String,
}
