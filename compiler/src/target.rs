//! Targets and what each can express: the capability matrix, defined once.
//!
//! The checker asks [`Output::supports`] before accepting a construct, and reports E0401 with
//! the alternative when the answer is no. The book's target matrix is generated from
//! [`Concept::ALL`] and [`Output::ALL`] (and a test keeps it in sync).

/// What the user asked to compile for (`--target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// Service routes → Istio VirtualService + DestinationRule; ingress → HTTPRoute.
    #[default]
    Istio,
    /// Service routes → GAMMA HTTPRoutes (parent: the Service); ingress → HTTPRoute.
    GatewayApi,
    /// Like Istio, except that a service with a canary gets a Flagger `Canary`, and Flagger
    /// writes its routes, Services and DestinationRules.
    Flagger,
    /// Like Istio, except that a service with a canary runs as an Argo `Rollout` that moves
    /// the weights of its VirtualService.
    ArgoRollouts,
    /// Service routes → Linkerd's HTTPRoutes (`policy.linkerd.io`, parent: the Service), with
    /// retries as `retry.linkerd.io` annotations; ingress → HTTPRoute.
    Linkerd,
    /// Service routes and policy → Consul's config entries (ServiceRouter, ServiceSplitter,
    /// ServiceResolver, ServiceDefaults); ingress → HTTPRoute.
    Consul,
    /// Each service's retries, timeouts, circuit breaker and bulkhead → Resilience4j
    /// instances in a Spring Boot `application.yaml`, for the applications that call it.
    Resilience4j,
}

/// The Gateway API release channel whose HTTPRoute fields may be used (`--gateway-channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Channel {
    /// Standard: no retries, no session persistence.
    #[default]
    Standard,
    /// Experimental: adds `retry`.
    Experimental,
}

/// What Linkerd's service routes compile to (`--linkerd-flavour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkerdFlavour {
    /// Linkerd's HTTPRoutes (`policy.linkerd.io`) with `retry.linkerd.io` annotations.
    #[default]
    HttpRoute,
    /// The older `ServiceProfile` (`linkerd.io/v1alpha2`), one per service: per-route
    /// timeouts and retries, and a service-wide traffic split. Linkerd ignores retry
    /// annotations on a service that has one, so meshc never writes both.
    ServiceProfile,
}

/// Compilation options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// The target.
    pub target: Target,
    /// The Gateway API channel.
    pub channel: Channel,
    /// Linkerd's flavour (only read with `--target linkerd`).
    pub linkerd: LinkerdFlavour,
    /// Which step of the canaries to emit, 1-based (`--step`); the first when `None`.
    pub step: Option<usize>,
}

/// The names a setting's values are written with, on the command line and in `mesh.toml`.
pub trait Named: Copy + 'static {
    /// Every value with its name.
    const NAMES: &'static [(&'static str, Self)];

    /// The value written `name`.
    fn named(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The name of `self` (every value has one: `NAMES` lists them all).
    fn name(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::NAMES
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(n, _)| n)
    }

    /// Every name, quoted and joined: `"a", "b"`.
    fn names() -> String {
        let quoted: Vec<String> = Self::NAMES.iter().map(|(n, _)| format!("{n:?}")).collect();
        quoted.join(", ")
    }
}

impl Named for Target {
    const NAMES: &'static [(&'static str, Target)] = &[
        ("istio", Target::Istio),
        ("gateway-api", Target::GatewayApi),
        ("flagger", Target::Flagger),
        ("argo-rollouts", Target::ArgoRollouts),
        ("linkerd", Target::Linkerd),
        ("consul", Target::Consul),
        ("resilience4j", Target::Resilience4j),
    ];
}

impl Named for Channel {
    const NAMES: &'static [(&'static str, Channel)] = &[
        ("standard", Channel::Standard),
        ("experimental", Channel::Experimental),
    ];
}

impl Named for LinkerdFlavour {
    const NAMES: &'static [(&'static str, LinkerdFlavour)] = &[
        ("http-route", LinkerdFlavour::HttpRoute),
        ("service-profile", LinkerdFlavour::ServiceProfile),
    ];
}

impl Options {
    /// Options written as the command line's flags, `--target gateway-api --gateway-channel
    /// experimental --step 2`, as test fixtures and fuzz inputs give them (in a
    /// `// options:` line). An unknown flag or value is an error naming it.
    pub fn from_flags(line: &str) -> Result<Options, String> {
        let mut options = Options::default();
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.chunks(2) {
            let unknown = || format!("unknown option `{}`", pair.join(" "));
            match pair {
                ["--target", name] => options.target = Target::named(name).ok_or_else(unknown)?,
                ["--gateway-channel", name] => {
                    options.channel = Channel::named(name).ok_or_else(unknown)?
                }
                ["--linkerd-flavour", name] => {
                    options.linkerd = LinkerdFlavour::named(name).ok_or_else(unknown)?
                }
                // As the command line: 1 ..= 65535.
                ["--step", k] => match k.parse::<u16>() {
                    Ok(k) if k > 0 => options.step = Some(usize::from(k)),
                    _ => return Err(format!("`--step {k}` is not a step number")),
                },
                _ => return Err(format!("unknown option `{}`", pair.join(" "))),
            }
        }
        Ok(options)
    }
}

/// The kind of object a route or policy becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Istio `VirtualService` (routes) and `DestinationRule` (subsets and policy).
    Istio,
    /// Gateway API `HTTPRoute`, standard channel.
    HttpRouteStandard,
    /// Gateway API `HTTPRoute`, experimental channel.
    HttpRouteExperimental,
    /// Linkerd's `HTTPRoute` (`policy.linkerd.io/v1beta3`) with `retry.linkerd.io` annotations.
    LinkerdHttpRoute,
    /// Linkerd's `ServiceProfile` (`linkerd.io/v1alpha2`).
    LinkerdServiceProfile,
    /// Consul's config entries (`consul.hashicorp.com/v1alpha1`).
    Consul,
    /// Resilience4j's Spring Boot properties (`application.yaml`).
    Resilience4j,
}

/// A construct of the language whose support differs between outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Concept {
    /// `subset` and routing to subsets.
    Subsets,
    /// `pool { ... }`.
    ConnectionPool,
    /// `eject { ... }`.
    OutlierDetection,
    /// `balance ...`.
    LoadBalancing,
    /// `retry N`.
    Retries,
    /// `retry ... on 5xx, reset, ...` (named retry policies, not status codes).
    RetryPolicies,
    /// `retry ... remote localities on|off`.
    RetryLocalities,
    /// `retry ... per try D`.
    PerTryTimeout,
    /// `backend timeout D`.
    BackendTimeout,
    /// `fault delay ...`.
    FaultDelay,
    /// `fault abort ...`.
    FaultAbort,
    /// `header NAME prefix "..."` and `query NAME prefix "..."`.
    PrefixMatch,
    /// `method regex "..."` or `method prefix "..."`.
    MethodPattern,
    /// `mirror ...`.
    Mirroring,
    /// `rewrite path ...`, `rewrite prefix ...`, `rewrite authority ...`.
    Rewrites,
    /// Retry conditions that are not HTTP status codes, except `5xx` and `gateway-error`
    /// (`reset`, `connect-failure`, `refused-stream`, ...).
    ConnectionRetryPolicies,
    /// `retry N` without `on`: the output's default conditions.
    DefaultRetryConditions,
    /// `retry ... on 502, 503` or `on gateway-error`: retries on some statuses only.
    RetryStatusCodes,
    /// `header NAME ...` and `query NAME ...` conditions.
    HeaderQueryMatch,
    /// `redirect ...`.
    Redirects,
    /// `request set|add|remove ...` and `response set|add|remove ...`.
    HeaderOps,
    /// `query NAME prefix "..."`.
    QueryPrefixMatch,
    /// `max requests per connection`, `max retries`, `idle timeout`, `h2 upgrade` in a `pool`.
    PoolTuning,
    /// `after N consecutive gateway errors` and `keep N% healthy` in an `eject`.
    EjectTuning,
    /// `balance passthrough`.
    PassthroughBalancing,
    /// `rewrite path ...` and `rewrite authority ...` (a whole path or the host).
    FullRewrites,
    /// `on reset-before-request`, `retriable-status-codes`, `retriable-headers`,
    /// `http3-post-connect-failure`: Envoy's conditions that not every mesh has.
    EnvoyRetryConditions,
    /// A canary's `check`s (alerts on the mesh's metrics).
    CanaryChecks,
    /// `pool`, `eject` or `balance` inside a `subset`.
    SubsetPolicy,
    /// `max connections`, `max pending requests` and `connect timeout` in a `pool`.
    ConnectionLimits,
    /// `check every` and `at most N%` in an `eject`.
    EjectionSweep,
    /// A route's `when` conditions.
    Conditions,
    /// A route to another service, or split between destinations (`-> ...`).
    Rerouting,
    /// `retry ... idempotent only`.
    IdempotentOnly,
    /// `ingress ...`.
    Ingress,
    /// `deploy ...` (Deployments and the Service in front of them).
    Workloads,
    /// `retry ... on ...`: choosing what to retry on.
    RetryConditions,
}

impl Concept {
    /// Every concept, in the order of the book's matrix.
    pub const ALL: [Concept; 37] = [
        Concept::Subsets,
        Concept::ConnectionPool,
        Concept::OutlierDetection,
        Concept::LoadBalancing,
        Concept::Retries,
        Concept::RetryPolicies,
        Concept::RetryLocalities,
        Concept::PerTryTimeout,
        Concept::BackendTimeout,
        Concept::FaultDelay,
        Concept::FaultAbort,
        Concept::PrefixMatch,
        Concept::MethodPattern,
        Concept::Mirroring,
        Concept::Rewrites,
        Concept::ConnectionRetryPolicies,
        Concept::DefaultRetryConditions,
        Concept::RetryStatusCodes,
        Concept::HeaderQueryMatch,
        Concept::Redirects,
        Concept::HeaderOps,
        Concept::QueryPrefixMatch,
        Concept::PoolTuning,
        Concept::EjectTuning,
        Concept::PassthroughBalancing,
        Concept::FullRewrites,
        Concept::EnvoyRetryConditions,
        Concept::CanaryChecks,
        Concept::SubsetPolicy,
        Concept::ConnectionLimits,
        Concept::EjectionSweep,
        Concept::Conditions,
        Concept::Rerouting,
        Concept::IdempotentOnly,
        Concept::Ingress,
        Concept::Workloads,
        Concept::RetryConditions,
    ];

    /// How the concept is named in messages and in the book.
    pub fn name(self) -> &'static str {
        match self {
            Concept::Subsets => "subsets",
            Concept::ConnectionPool => "a connection pool (`pool`)",
            Concept::OutlierDetection => "outlier detection (`eject`)",
            Concept::LoadBalancing => "a load-balancing algorithm (`balance`)",
            Concept::Retries => "retries (`retry`)",
            Concept::RetryPolicies => "named retry conditions (`on 5xx, reset, ...`)",
            Concept::RetryLocalities => "`remote localities`",
            Concept::PerTryTimeout => "a per-try timeout (`per try`)",
            Concept::BackendTimeout => "a backend timeout (`backend timeout`)",
            Concept::FaultDelay => "fault injection (`fault delay`)",
            Concept::FaultAbort => "fault injection (`fault abort`)",
            Concept::PrefixMatch => "a header `prefix` match",
            Concept::MethodPattern => "a method `prefix` or `regex` match",
            Concept::Mirroring => "mirroring (`mirror`)",
            Concept::Rewrites => "rewriting the path or authority (`rewrite`)",
            Concept::ConnectionRetryPolicies => {
                "retry conditions other than status codes, `5xx` and `gateway-error` (`on reset, ...`)"
            }
            Concept::DefaultRetryConditions => "retries without `on` (the default conditions)",
            Concept::RetryStatusCodes => {
                "retries on some statuses only (`on 502, 503`, `on gateway-error`)"
            }
            Concept::HeaderQueryMatch => "a `header` or `query` condition",
            Concept::Redirects => "a redirect (`redirect`)",
            Concept::HeaderOps => "changing headers (`request set ...`, `response set ...`)",
            Concept::QueryPrefixMatch => "a query `prefix` match",
            Concept::PoolTuning => {
                "`max requests per connection`, `max retries`, `idle timeout` or `h2 upgrade` in a `pool`"
            }
            Concept::EjectTuning => {
                "`after N consecutive gateway errors` or `keep N% healthy` in an `eject`"
            }
            Concept::PassthroughBalancing => "`balance passthrough`",
            Concept::FullRewrites => "rewriting the whole path or the authority",
            Concept::EnvoyRetryConditions => {
                "`on reset-before-request`, `retriable-status-codes`, `retriable-headers` or `http3-post-connect-failure`"
            }
            Concept::CanaryChecks => "a canary's checks (`check`, `every`, `fail after`, `prometheus`)",
            Concept::SubsetPolicy => "a subset's own `pool`, `eject` or `balance`",
            Concept::ConnectionLimits => {
                "`max connections`, `max pending requests` or `connect timeout` in a `pool`"
            }
            Concept::EjectionSweep => "`check every` or `at most N%` in an `eject`",
            Concept::Conditions => "a route condition (`when ...`)",
            Concept::Rerouting => {
                "a route to another service, or a split between destinations (`-> ...`)"
            }
            Concept::IdempotentOnly => "retrying idempotent methods only (`idempotent only`)",
            Concept::Ingress => "an ingress (`ingress ...`)",
            Concept::Workloads => "a Deployment (`deploy ...`)",
            Concept::RetryConditions => "choosing what to retry on (`on ...`)",
        }
    }
}

impl Output {
    /// Every output, in the order of the book's matrix.
    pub const ALL: [Output; 7] = [
        Output::Istio,
        Output::HttpRouteStandard,
        Output::HttpRouteExperimental,
        Output::LinkerdHttpRoute,
        Output::LinkerdServiceProfile,
        Output::Consul,
        Output::Resilience4j,
    ];

    /// The HTTPRoute output of a channel.
    pub fn http_route(channel: Channel) -> Output {
        match channel {
            Channel::Standard => Output::HttpRouteStandard,
            Channel::Experimental => Output::HttpRouteExperimental,
        }
    }

    /// How the output is named in messages and in the book.
    pub fn name(self) -> &'static str {
        match self {
            Output::Istio => "Istio (VirtualService, DestinationRule)",
            Output::HttpRouteStandard => "a Gateway API HTTPRoute (standard channel)",
            Output::HttpRouteExperimental => "a Gateway API HTTPRoute (experimental channel)",
            Output::LinkerdHttpRoute => "a Linkerd HTTPRoute (policy.linkerd.io)",
            Output::LinkerdServiceProfile => "a Linkerd ServiceProfile",
            Output::Consul => "Consul's config entries",
            Output::Resilience4j => "Resilience4j's Spring Boot properties",
        }
    }

    /// A column title for the book's matrix.
    pub fn short_name(self) -> &'static str {
        match self {
            Output::Istio => "Istio",
            Output::HttpRouteStandard => "HTTPRoute (standard)",
            Output::HttpRouteExperimental => "HTTPRoute (experimental)",
            Output::LinkerdHttpRoute => "Linkerd",
            Output::LinkerdServiceProfile => "Linkerd (ServiceProfile)",
            Output::Consul => "Consul",
            Output::Resilience4j => "Resilience4j",
        }
    }

    /// Whether the output is a Gateway API HTTPRoute: it then has Gateway API's limits (rules,
    /// matches, backends, header operations), needs a port on every backend, and writes
    /// durations in GEP-2257 syntax.
    pub fn is_http_route(self) -> bool {
        match self {
            Output::Istio
            | Output::LinkerdServiceProfile
            | Output::Consul
            | Output::Resilience4j => false,
            Output::HttpRouteStandard
            | Output::HttpRouteExperimental
            | Output::LinkerdHttpRoute => true,
        }
    }

    /// Whether the first rule that matches a request wins, so that rule order is source order
    /// (VirtualServices, ServiceProfiles); HTTPRoutes prefer the most specific match.
    pub fn first_match_wins(self) -> bool {
        !self.is_http_route()
    }

    /// The most alternatives (`or`) one rule may have, if the output limits them.
    pub fn max_matches(self) -> Option<usize> {
        match self {
            Output::Istio
            | Output::LinkerdServiceProfile
            | Output::Consul
            | Output::Resilience4j => None,
            Output::HttpRouteStandard | Output::HttpRouteExperimental => Some(64),
            Output::LinkerdHttpRoute => Some(8),
        }
    }

    /// Who sets the output's list limits, for E0402's message (Istio sets none that meshc
    /// checks).
    pub fn limits_name(self) -> &'static str {
        match self {
            Output::Istio => "Istio",
            Output::HttpRouteStandard | Output::HttpRouteExperimental => "Gateway API",
            Output::LinkerdHttpRoute => "Linkerd's HTTPRoute",
            Output::LinkerdServiceProfile => "Linkerd's ServiceProfile",
            Output::Consul => "Consul",
            Output::Resilience4j => "Resilience4j",
        }
    }

    /// What service routes compile to for this output, as a diagnostic's note.
    pub fn service_route_note(self) -> &'static str {
        match self {
            Output::Istio => "service routes compile to Istio with `--target istio` (the default)",
            Output::HttpRouteStandard | Output::HttpRouteExperimental => {
                "with `--target gateway-api`, service routes compile to GAMMA HTTPRoutes (their parent is the Service)"
            }
            Output::LinkerdHttpRoute => {
                "with `--target linkerd`, service routes compile to Linkerd HTTPRoutes (their parent is the Service)"
            }
            Output::LinkerdServiceProfile => {
                "with `--linkerd-flavour service-profile`, a service's routes compile to one Linkerd ServiceProfile"
            }
            Output::Consul => {
                "with `--target consul`, a service's routes and policy compile to Consul's config entries"
            }
            Output::Resilience4j => {
                "with `--target resilience4j`, a service's routes and policy compile to Resilience4j instances for the applications that call it, in a Spring Boot `application.yaml`"
            }
        }
    }

    /// `Ok` when the output can express the concept; otherwise what would work instead.
    pub fn supports(self, concept: Concept) -> Result<(), &'static str> {
        match self {
            Output::Istio => istio_supports(concept),
            Output::HttpRouteStandard => http_route_supports(concept, Channel::Standard),
            Output::HttpRouteExperimental => http_route_supports(concept, Channel::Experimental),
            Output::LinkerdHttpRoute => linkerd_supports(concept),
            Output::LinkerdServiceProfile => service_profile_supports(concept),
            Output::Consul => consul_supports(concept),
            Output::Resilience4j => resilience4j_supports(concept),
        }
    }
}

/// Istio's column of the matrix. Every concept is named (no `_` arm), here and in each
/// output's column, so that a new concept needs a decision for every output.
fn istio_supports(concept: Concept) -> Result<(), &'static str> {
    use Concept::*;
    match concept {
        BackendTimeout => Err(
            "Istio limits each try with `retry N per try D`; for a single call, write `retry 0` and a `timeout`",
        ),
        Subsets | ConnectionPool | OutlierDetection | LoadBalancing | Retries | RetryPolicies
        | RetryLocalities | PerTryTimeout | FaultDelay | FaultAbort | PrefixMatch
        | MethodPattern | Mirroring | Rewrites | ConnectionRetryPolicies
        | DefaultRetryConditions | RetryStatusCodes | HeaderQueryMatch | Redirects | HeaderOps
        | QueryPrefixMatch | PoolTuning | EjectTuning | PassthroughBalancing | FullRewrites
        | EnvoyRetryConditions | CanaryChecks | SubsetPolicy | ConnectionLimits | EjectionSweep
        | Conditions | Rerouting | IdempotentOnly | Ingress | Workloads | RetryConditions => Ok(()),
    }
}

/// A Gateway API HTTPRoute's column, for a channel.
fn http_route_supports(concept: Concept, channel: Channel) -> Result<(), &'static str> {
    use Concept::*;
    Err(match concept {
        Subsets | SubsetPolicy => {
            "Gateway API routes to Services, not subsets: declare a Service per version (e.g. `service research-agent-v2`) and route to it, or use `--target istio`"
        }
        ConnectionPool | OutlierDetection | LoadBalancing => {
            "Gateway API has no traffic policy: use `--target istio`, which emits it as a DestinationRule"
        }
        Retries => match channel {
            Channel::Standard => {
                "retries are in the experimental channel (`--gateway-channel experimental`); on the standard channel, `backend timeout D` at least bounds each call"
            }
            Channel::Experimental => return Ok(()),
        },
        PerTryTimeout => {
            "write `backend timeout D`: Gateway API bounds each call to a backend, retried or not"
        }
        RetryPolicies | ConnectionRetryPolicies => {
            "Gateway API retries on HTTP status codes only: list them, e.g. `on 500, 502, 503, 504`"
        }
        RetryLocalities => "remove it: Gateway API has no locality-aware retries",
        FaultDelay | FaultAbort => {
            "fault injection needs `--target istio` (the guide injects faults in test environments only)"
        }
        PrefixMatch | QueryPrefixMatch => {
            "use `regex \"^...\"`: Gateway API matches headers and query parameters exactly or by regular expression"
        }
        PoolTuning | EjectTuning | PassthroughBalancing | ConnectionLimits | EjectionSweep => {
            "Gateway API has no traffic policy: use `--target istio`, which emits it as a DestinationRule"
        }
        EnvoyRetryConditions => {
            "Gateway API retries on HTTP status codes only: list them, e.g. `on 500, 502, 503, 504`"
        }
        CanaryChecks => CANARY_CHECKS,
        MethodPattern => "match each method with `method GET or method HEAD ...`",
        BackendTimeout | Mirroring | Rewrites | DefaultRetryConditions | RetryStatusCodes
        | HeaderQueryMatch | Redirects | HeaderOps | FullRewrites | Conditions | Rerouting
        | IdempotentOnly | Ingress | Workloads | RetryConditions => return Ok(()),
    })
}

/// Linkerd's column (its `policy.linkerd.io/v1beta3` HTTPRoute and retry annotations).
fn linkerd_supports(concept: Concept) -> Result<(), &'static str> {
    use Concept::*;
    Err(match concept {
        Subsets | SubsetPolicy => {
            "Linkerd routes to Services, not subsets: declare a Service per version (e.g. `service research-agent-v2`) and route to it, or use `--target istio`"
        }
        ConnectionPool => "Linkerd has no connection limits: use `--target istio`",
        OutlierDetection => {
            "annotate the Service with `balancer.linkerd.io/failure-accrual: consecutive` (Linkerd's failure accrual), or use `--target istio`"
        }
        LoadBalancing => "remove it: Linkerd always balances by latency (EWMA)",
        BackendTimeout => {
            "Linkerd does not apply `backendRequest` timeouts: limit each try with `retry N per try D`"
        }
        RetryLocalities => "remove it: Linkerd has no locality-aware retries",
        FaultDelay | FaultAbort => {
            "fault injection needs `--target istio` (the guide injects faults in test environments only)"
        }
        PrefixMatch | QueryPrefixMatch => {
            "use `regex \"^...\"`: Linkerd matches headers and query parameters exactly or by regular expression"
        }
        MethodPattern => "match each method with `method GET or method HEAD ...`",
        Mirroring => "Linkerd's HTTPRoute cannot mirror: use `--target istio`",
        Rewrites | FullRewrites => "Linkerd's HTTPRoute cannot rewrite requests: use `--target istio`",
        PoolTuning | ConnectionLimits => "Linkerd has no connection limits: use `--target istio`",
        EjectTuning | EjectionSweep => {
            "annotate the Service with `balancer.linkerd.io/failure-accrual: consecutive` (Linkerd's failure accrual), or use `--target istio`"
        }
        PassthroughBalancing => "remove it: Linkerd always balances by latency (EWMA)",
        CanaryChecks => CANARY_CHECKS,
        ConnectionRetryPolicies | EnvoyRetryConditions => {
            "Linkerd retries on HTTP statuses only: list them (`on 502, 503`), or write `on 5xx` or `on gateway-error`"
        }
        DefaultRetryConditions => {
            "say what Linkerd retries on: `on 5xx`, or status codes such as `on 502, 503` (Istio's default conditions, connection failures, are not Linkerd's)"
        }
        Retries | PerTryTimeout | RetryPolicies | RetryStatusCodes | HeaderQueryMatch
        | Redirects | HeaderOps | Conditions | Rerouting | IdempotentOnly | Ingress
        | Workloads | RetryConditions => return Ok(()),
    })
}

/// Linkerd's ServiceProfile column: routes that match methods and paths, each with a timeout
/// and "retry or not"; one traffic split for the whole service.
fn service_profile_supports(concept: Concept) -> Result<(), &'static str> {
    use Concept::*;
    const HTTP_ROUTE: &str = "a ServiceProfile matches methods and paths and changes nothing in a request: use Linkerd's HTTPRoutes (drop `--linkerd-flavour service-profile`)";
    Err(match concept {
        Subsets | SubsetPolicy => {
            "Linkerd routes to Services, not subsets: declare a Service per version (e.g. `service research-agent-v2`) and route to it, or use `--target istio`"
        }
        ConnectionPool | PoolTuning | ConnectionLimits => {
            "Linkerd has no connection limits: use `--target istio`"
        }
        OutlierDetection | EjectTuning | EjectionSweep => {
            "annotate the Service with `balancer.linkerd.io/failure-accrual: consecutive` (Linkerd's failure accrual), or use `--target istio`"
        }
        LoadBalancing | PassthroughBalancing => {
            "remove it: Linkerd always balances by latency (EWMA)"
        }
        CanaryChecks => CANARY_CHECKS,
        PerTryTimeout | BackendTimeout => {
            "a ServiceProfile times whole requests only: keep `timeout`, or use Linkerd's HTTPRoutes (drop `--linkerd-flavour service-profile`) for `per try`"
        }
        RetryLocalities => "remove it: Linkerd has no locality-aware retries",
        FaultDelay | FaultAbort => {
            "fault injection needs `--target istio` (the guide injects faults in test environments only)"
        }
        MethodPattern => "match each method with `method GET or method HEAD ...`",
        Mirroring => "Linkerd cannot mirror: use `--target istio`",
        ConnectionRetryPolicies | RetryStatusCodes | DefaultRetryConditions
        | EnvoyRetryConditions => {
            "write `on 5xx`: a ServiceProfile retries the responses it counts as failures, 5xx"
        }
        PrefixMatch | QueryPrefixMatch | HeaderQueryMatch | Redirects | HeaderOps | Rewrites
        | FullRewrites => HTTP_ROUTE,
        Retries | RetryPolicies | Conditions | Rerouting | IdempotentOnly | Ingress | Workloads
        | RetryConditions => return Ok(()),
    })
}

/// What a canary's checks need.
const CANARY_CHECKS: &str = "a canary's checks alert on Istio's metrics: roll out with `--target istio`, `flagger` or `argo-rollouts`, or remove the `check`s";

/// Consul's column: its ServiceRouter, ServiceSplitter, ServiceResolver and ServiceDefaults.
fn consul_supports(concept: Concept) -> Result<(), &'static str> {
    use Concept::*;
    Err(match concept {
        RetryLocalities => "remove it: Consul has no locality-aware retries",
        PerTryTimeout | BackendTimeout => {
            "Consul limits the whole request (retries included): keep `timeout`, and remove `per try` or `backend timeout`"
        }
        FaultDelay | FaultAbort => {
            "fault injection needs `--target istio` (the guide injects faults in test environments only)"
        }
        QueryPrefixMatch => {
            "use `regex \"^...\"`: Consul matches query parameters exactly or by regular expression"
        }
        MethodPattern => "match each method with `method GET or method HEAD ...`",
        Mirroring => "Consul cannot mirror traffic: use `--target istio`",
        Redirects => "Consul cannot answer with a redirect: redirect at the ingress, or use `--target istio`",
        FullRewrites => "Consul rewrites only a matched prefix: use `rewrite prefix` with a `uri prefix` condition",
        PoolTuning => {
            "Consul limits connections, pending and concurrent requests only: remove the other `pool` settings"
        }
        EjectTuning => {
            "Consul ejects on consecutive 5xx: write `after N consecutive 5xx`, and remove `keep N% healthy`"
        }
        PassthroughBalancing => {
            "Consul balances by `round robin`, `least request`, `random` or a hash"
        }
        EnvoyRetryConditions => {
            "Consul retries on `5xx`, `gateway-error`, `reset`, `connect-failure`, `refused-stream`, `retriable-4xx`, `envoy-ratelimited` and the gRPC statuses, and on status codes"
        }
        CanaryChecks => CANARY_CHECKS,
        SubsetPolicy => {
            "Consul's limits, health checks and load balancing are per service: move the block from the subset to the service"
        }
        Subsets | ConnectionPool | OutlierDetection | LoadBalancing | Retries | RetryPolicies
        | PrefixMatch | Rewrites | ConnectionRetryPolicies | DefaultRetryConditions
        | RetryStatusCodes | HeaderQueryMatch | HeaderOps | ConnectionLimits | EjectionSweep
        | Conditions | Rerouting | IdempotentOnly | Ingress | Workloads | RetryConditions => {
            return Ok(())
        }
    })
}

/// Resilience4j's column: instances that an application binds its calls to (`@Retry`,
/// `@TimeLimiter`, `@CircuitBreaker`, `@Bulkhead`). It configures the caller, so it has no
/// routing, no subsets, no request changes and no Kubernetes objects.
fn resilience4j_supports(concept: Concept) -> Result<(), &'static str> {
    use Concept::*;
    const ROUTING: &str = "Resilience4j does not route: the application picks the instance (`@Retry(name = \"SERVICE\")`), so give each service one route without `when` or `->`, or use a mesh target";
    const MESH: &str = "Resilience4j configures the calling application: use a mesh target (`--target istio`, `linkerd`, `consul`) for this";
    Err(match concept {
        Subsets | SubsetPolicy => {
            "Resilience4j calls a service, not a version of it: route to versions with a mesh target (`--target istio`, `consul`)"
        }
        ConnectionLimits | PoolTuning => {
            "Resilience4j limits concurrent calls only: write `max requests N` (a bulkhead), and set connection limits on the HTTP client"
        }
        EjectTuning | EjectionSweep => {
            "a Resilience4j circuit breaker opens for the whole service after failed calls: keep `after N consecutive 5xx` and `for D` only"
        }
        LoadBalancing | PassthroughBalancing => {
            "Resilience4j does not balance: the HTTP client does (e.g. Spring Cloud LoadBalancer)"
        }
        RetryConditions | RetryPolicies | RetryStatusCodes | ConnectionRetryPolicies
        | EnvoyRetryConditions => {
            "Resilience4j retries on exceptions, not statuses: remove `on ...`, and list the exceptions in the application's `retryExceptions`"
        }
        RetryLocalities => "remove it: Resilience4j has no localities",
        FaultDelay | FaultAbort => {
            "fault injection needs `--target istio` (the guide injects faults in test environments only)"
        }
        PrefixMatch | QueryPrefixMatch | MethodPattern | HeaderQueryMatch | Conditions
        | Rerouting => ROUTING,
        IdempotentOnly => {
            "put `@Retry` only on the application's idempotent calls, and remove `idempotent only`"
        }
        Mirroring | Rewrites | FullRewrites | Redirects | HeaderOps | Ingress | Workloads => MESH,
        CanaryChecks => CANARY_CHECKS,
        ConnectionPool | OutlierDetection | Retries | PerTryTimeout | BackendTimeout
        | DefaultRetryConditions => return Ok(()),
    })
}

/// What to do instead on an ingress route, where `--target` changes nothing; `None` when the
/// general advice of [`Output::supports`] fits. `services` is what service routes compile to.
pub fn ingress_alternative(concept: Concept, services: Output) -> Option<&'static str> {
    match concept {
        Concept::Subsets => Some(
            "an ingress routes to Services: declare a Service per version (e.g. `service research-agent-v2`) and route to it",
        ),
        Concept::FaultDelay | Concept::FaultAbort if services.supports(concept).is_ok() => Some(
            "inject faults on the service's own route (`route research-agent fault ...`), which compiles to Istio",
        ),
        _ => None,
    }
}

/// The capability matrix as a Markdown table: a row per concept, a column per output, and
/// what to do instead where an output cannot express a concept. The book includes it
/// (`book/src/reference/targets.md`), and a test keeps the two equal.
pub fn matrix_markdown() -> String {
    let mut out = String::from("| construct |");
    for output in Output::ALL {
        out.push_str(&format!(" {} |", output.short_name()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Output::ALL.len()));
    out.push('\n');
    let mut notes = Vec::new();
    for concept in Concept::ALL {
        out.push_str(&format!("| {} |", concept.name()));
        for output in Output::ALL {
            match output.supports(concept) {
                Ok(()) => out.push_str(" yes |"),
                Err(alternative) => {
                    let index = match notes.iter().position(|n| *n == alternative) {
                        Some(index) => index,
                        None => {
                            notes.push(alternative);
                            notes.len() - 1
                        }
                    };
                    out.push_str(&format!(" no ({}) |", index + 1));
                }
            }
        }
        out.push('\n');
    }
    out.push('\n');
    for (index, note) in notes.iter().enumerate() {
        out.push_str(&format!("{}. {note}\n", index + 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_value_has_its_name() {
        for &(name, target) in Target::NAMES {
            assert_eq!(target.name(), name);
            assert_eq!(Target::named(name), Some(target));
        }
        assert_eq!(Channel::Experimental.name(), "experimental");
    }

    #[test]
    fn options_are_read_from_flags() {
        let options =
            Options::from_flags("--target gateway-api --gateway-channel experimental --step 3");
        assert_eq!(
            options,
            Ok(Options {
                target: Target::GatewayApi,
                channel: Channel::Experimental,
                linkerd: LinkerdFlavour::HttpRoute,
                step: Some(3),
            })
        );
        assert_eq!(
            Options::from_flags("--target linkerd --linkerd-flavour service-profile")
                .map(|o| o.linkerd),
            Ok(LinkerdFlavour::ServiceProfile)
        );
        assert_eq!(Options::from_flags(""), Ok(Options::default()));
        assert_eq!(
            Options::from_flags("--target linkerd").map(|o| o.target),
            Ok(Target::Linkerd)
        );
        assert_eq!(
            Options::from_flags("--target kuma"),
            Err("unknown option `--target kuma`".to_string())
        );
        assert_eq!(
            Options::from_flags("--step 0"),
            Err("`--step 0` is not a step number".to_string())
        );
        assert!(Options::from_flags("--target").is_err());
    }

    #[test]
    fn istio_expresses_everything_but_backend_timeouts() {
        for concept in Concept::ALL {
            let supported = Output::Istio.supports(concept).is_ok();
            assert_eq!(supported, concept != Concept::BackendTimeout, "{concept:?}");
        }
    }

    #[test]
    fn resilience4j_expresses_retries_time_limits_breakers_and_bulkheads_only() {
        let supported: Vec<Concept> = Concept::ALL
            .into_iter()
            .filter(|&c| Output::Resilience4j.supports(c).is_ok())
            .collect();
        assert_eq!(
            supported,
            [
                Concept::ConnectionPool,
                Concept::OutlierDetection,
                Concept::Retries,
                Concept::PerTryTimeout,
                Concept::BackendTimeout,
                Concept::DefaultRetryConditions,
            ]
        );
    }

    #[test]
    fn the_experimental_channel_adds_retries_only() {
        for concept in Concept::ALL {
            let standard = Output::HttpRouteStandard.supports(concept).is_ok();
            let experimental = Output::HttpRouteExperimental.supports(concept).is_ok();
            assert_eq!(
                experimental,
                standard || concept == Concept::Retries,
                "{concept:?}"
            );
        }
    }
}
