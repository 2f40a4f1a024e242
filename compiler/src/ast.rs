//! The untyped syntax tree: exactly what the user wrote, every node with its [`Span`].
//!
//! Nothing here is resolved or range-checked; literals keep their source text so that the
//! checker can say precisely what is wrong with them. Produced by `syntax::parse`, consumed by
//! `check::check`.

use crate::source::{Span, Spanned};

/// A name or other piece of text as written, with its span.
pub type Text = Spanned<String>;

/// One parsed `.mesh` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Every `namespace` declaration (the checker insists on exactly one).
    pub namespaces: Vec<Text>,
    /// Services and routes, in source order.
    pub items: Vec<Item>,
    /// `@allow(...)` attributes, each with the span of the declaration it applies to.
    pub allows: Vec<Allow>,
    /// `import` declarations, in source order.
    pub imports: Vec<Import>,
    /// `policy` declarations, in source order.
    pub policies: Vec<Policy>,
    /// `defaults { ... }` blocks (the checker allows one per namespace).
    pub defaults: Vec<Defaults>,
    /// The whole file, for diagnostics about the file as a whole.
    pub span: Span,
}

/// `import "./x.mesh" as x` or `import std/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// What is imported.
    pub path: ImportPath,
    /// `as NAME`, if written.
    pub alias: Option<Text>,
    /// The whole declaration.
    pub span: Span,
}

/// The module an `import` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportPath {
    /// A file, by a path relative to the importing file (the string's content).
    File(Text),
    /// `std/NAME`: a module of the standard policy library (the name after `std/`).
    Std(Text),
}

/// `policy NAME(params) { ... }`: reusable route clauses and traffic policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The policy name.
    pub name: Text,
    /// The parameters in order.
    pub params: Vec<Param>,
    /// What applying the policy adds, in source order.
    pub body: Vec<PolicyPart>,
    /// The `///` lines before the declaration, without the slashes, joined by newlines.
    pub doc: String,
    /// The whole declaration.
    pub span: Span,
}

/// `NAME: TYPE = DEFAULT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The parameter name.
    pub name: Text,
    /// The type as written (`duration`, `percent`, `count`, `string`, `word`).
    pub ty: Text,
    /// The default value, if any.
    pub default: Option<Literal>,
    /// The whole parameter.
    pub span: Span,
}

/// One part of a policy or `defaults` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyPart {
    /// `use OTHER(...)`.
    Use(Use),
    /// `pool`, `eject` or `balance`.
    Policy(PolicyItem),
    /// A route clause.
    Clause(Spanned<Clause>),
    /// A canary setting.
    Canary(Spanned<CanarySetting>),
}

/// `defaults { ... }`: policy for every service of the file's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    /// The parts in source order.
    pub body: Vec<PolicyPart>,
    /// The `defaults` keyword.
    pub keyword: Span,
    /// The whole block.
    pub span: Span,
}

/// `use MODULE.NAME(args)`: applies a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// The import alias before the dot, if any.
    pub module: Option<Text>,
    /// The policy name.
    pub name: Text,
    /// The arguments in order.
    pub args: Vec<Arg>,
    /// The whole clause.
    pub span: Span,
}

/// `NAME = VALUE` or a positional `VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The parameter named, for a named argument.
    pub name: Option<Text>,
    /// The value.
    pub value: Literal,
    /// The whole argument.
    pub span: Span,
}

/// `@allow(lint, ...)` before a declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    /// The lint names as written.
    pub lints: Vec<Text>,
    /// The attribute itself.
    pub span: Span,
    /// The whole declaration that follows, if one does.
    pub target: Option<Span>,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `service NAME { ... }`.
    Service(Service),
    /// `ingress NAME { ... }`.
    Ingress(Ingress),
    /// `canary SERVICE { ... }`.
    Canary(Canary),
    /// `route NAME ...`.
    Route(Route),
}

/// `service NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The service name.
    pub name: Text,
    /// The declarations inside the braces, in source order.
    pub items: Vec<ServiceItem>,
    /// The whole declaration.
    pub span: Span,
}

/// `canary SERVICE { ... }`: a progressive rollout between two subsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    /// The service rolled out.
    pub service: Text,
    /// The settings in source order.
    pub settings: Vec<Spanned<CanarySetting>>,
    /// The whole declaration.
    pub span: Span,
}

/// One line of a `canary` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanarySetting {
    /// `from SUBSET`.
    From(Text),
    /// `to SUBSET`.
    To(Text),
    /// `steps P, P, ...`.
    Steps(Vec<Literal>),
    /// `check error rate below P`.
    ErrorRate(Literal),
    /// `check p99 latency below D`.
    Latency(Literal),
    /// `every D`.
    Interval(Literal),
    /// `fail after N`.
    FailAfter(Literal),
    /// `beta header NAME = "v"`.
    Beta(Condition),
    /// `mirror P first`.
    MirrorFirst(Literal),
    /// `prometheus "URL"`.
    Prometheus(Text),
    /// `use POLICY(...)`: replaced by the policy's canary settings before checking.
    Use(Use),
}

/// `ingress NAME { ... }`: routes for traffic entering through Gateways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    /// The ingress name (the HTTPRoute's default name).
    pub name: Text,
    /// The declarations inside the braces, in source order.
    pub items: Vec<IngressItem>,
    /// The whole declaration.
    pub span: Span,
}

/// One declaration inside an ingress block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngressItem {
    /// `gateway NAME [in NAMESPACE] [section LISTENER]`.
    Gateway {
        name: Text,
        namespace: Option<Text>,
        section: Option<Text>,
        span: Span,
    },
    /// `hostname NAME`.
    Hostname(Text),
    /// `routes named NAME` (or, meaninglessly, `policy named NAME`).
    Named {
        what: Spanned<NamedWhat>,
        name: Text,
    },
    /// `extra HTTPRoute { ... }`: the escape hatch.
    Extra(Extra),
}

/// One declaration inside a service block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceItem {
    /// `host NAME`.
    Host(Text),
    /// `port N`.
    Port(Literal),
    /// `routes named NAME` / `policy named NAME`.
    Named {
        what: Spanned<NamedWhat>,
        name: Text,
    },
    /// `subset NAME (labels) { policy }`.
    Subset(Subset),
    /// `deploy VERSION { ... }`.
    Deploy(Deploy),
    /// `pool`, `eject` or `balance`.
    Policy(PolicyItem),
    /// `use POLICY(...)`: replaced by the policy's parts before checking.
    Use(Use),
    /// `extra KIND { ... }`: the escape hatch.
    Extra(Extra),
}

/// `extra KIND { PATH = VALUE ... }`: fields meshc does not model, added to the service's emitted
/// objects of kind `KIND` (the escape hatch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extra {
    /// The Kubernetes kind, as written (`VirtualService`).
    pub kind: Text,
    /// Settings and groups in source order.
    pub entries: Vec<ExtraEntry>,
    /// The whole declaration.
    pub span: Span,
}

/// One line (or group) of an `extra` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraEntry {
    /// `PATH = VALUE`.
    Set(ExtraSet),
    /// `PATH { PATH = VALUE ... }`: settings under a common path.
    Group {
        /// The common path.
        path: ExtraPath,
        /// The settings, their paths relative to `path`.
        sets: Vec<ExtraSet>,
        /// The whole group.
        span: Span,
    },
}

/// `PATH = VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraSet {
    /// Where the value goes.
    pub path: ExtraPath,
    /// The value.
    pub value: ExtraValue,
    /// The whole setting.
    pub span: Span,
}

/// `spec.http[0].corsPolicy`: keys and list indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraPath {
    /// The segments, each with its span (a bracketed one spans its brackets).
    pub segments: Vec<Spanned<PathSegment>>,
    /// The whole path.
    pub span: Span,
}

/// One step of an [`ExtraPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// `.key` (or the first key).
    Key(String),
    /// `["key"]`: a key that is not a word (`example.com/owner`), unescaped.
    Quoted(String),
    /// `[0]`: a list index, its digits as written.
    Index(String),
}

/// The value of an [`ExtraSet`]: flat, so the grammar stays non-recursive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraValue {
    /// A string, number, duration, `true`/`false` or word.
    Literal(Literal),
    /// `[a, b]`.
    List(Vec<Literal>, Span),
    /// `{}`.
    EmptyObject(Span),
}

impl ExtraValue {
    /// Where the value is written.
    pub fn span(&self) -> Span {
        match self {
            ExtraValue::Literal(literal) => literal.span,
            ExtraValue::List(_, span) | ExtraValue::EmptyObject(span) => *span,
        }
    }
}

/// Which emitted resource a `named` declaration names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedWhat {
    /// The service's routes (an Istio VirtualService).
    Routes,
    /// The service's policy (an Istio DestinationRule).
    Policy,
}

/// `deploy v2 { ... }`: a version of the service as a Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deploy {
    /// The version name (label `version`, Deployment `<service>-<version>`).
    pub version: Text,
    /// The settings in source order.
    pub settings: Vec<Spanned<DeploySetting>>,
    /// The whole declaration.
    pub span: Span,
}

/// One line of a `deploy` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploySetting {
    /// `image "..."`.
    Image(Text),
    /// `replicas N`.
    Replicas(Literal),
    /// `container NAME`.
    Container(Text),
    /// `port N`.
    Port(Literal),
    /// `ready http "/path" port N after D every D`.
    Ready {
        path: Text,
        port: Vec<Literal>,
        after: Vec<Literal>,
        every: Vec<Literal>,
    },
    /// `requests cpu "..." memory "..."`.
    Requests(Vec<(Spanned<Resource>, Text)>),
    /// `limits cpu "..." memory "..."`.
    Limits(Vec<(Spanned<Resource>, Text)>),
    /// `env NAME = "value"`.
    Env(Text, Text),
}

/// A compute resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `cpu`.
    Cpu,
    /// `memory`.
    Memory,
}

/// `subset v1 (version = v1) { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subset {
    /// The subset name.
    pub name: Text,
    /// The pod labels that select the subset, in source order.
    pub labels: Vec<Label>,
    /// Policy that applies to this subset only.
    pub policy: Vec<PolicyItem>,
    /// The whole declaration.
    pub span: Span,
}

/// `key = value` inside a subset's label list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The label key.
    pub key: Text,
    /// The label value.
    pub value: Text,
}

/// A traffic-policy block: allowed on services and subsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyItem {
    /// `pool { ... }`.
    Pool(Block<PoolKey>),
    /// `eject { ... }`.
    Eject(Block<EjectKey>),
    /// `balance ...`.
    Balance(Balance),
}

/// A `{ ... }` block of settings, each a key and one literal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<K> {
    /// The settings in source order.
    pub settings: Vec<Setting<K>>,
    /// The keyword that opens the block.
    pub keyword: Span,
    /// The whole block.
    pub span: Span,
}

/// One line of a settings block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<K> {
    /// Which setting.
    pub key: K,
    /// Its value.
    pub value: Literal,
    /// The whole line.
    pub span: Span,
}

/// The settings of a `pool` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKey {
    /// `max connections N`.
    MaxConnections,
    /// `connect timeout D`.
    ConnectTimeout,
    /// `max pending requests N`.
    MaxPendingRequests,
    /// `max requests N`.
    MaxRequests,
    /// `max requests per connection N`.
    MaxRequestsPerConnection,
    /// `max retries N`.
    MaxRetries,
    /// `idle timeout D`.
    IdleTimeout,
    /// `h2 upgrade on|off|default`.
    H2Upgrade,
}

/// The settings of an `eject` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EjectKey {
    /// `after N consecutive 5xx`.
    Consecutive5xx,
    /// `after N consecutive gateway errors`.
    ConsecutiveGatewayErrors,
    /// `after N consecutive errors`: the guide's deprecated spelling.
    ConsecutiveErrors,
    /// `check every D`.
    Interval,
    /// `for D`.
    BaseEjectionTime,
    /// `at most P`.
    MaxEjectionPercent,
    /// `keep P healthy`.
    MinHealthPercent,
}

/// `balance ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The algorithm.
    pub kind: BalanceKind,
    /// The whole declaration.
    pub span: Span,
}

/// A load-balancing algorithm as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BalanceKind {
    /// `round robin`.
    RoundRobin,
    /// `least request`.
    LeastRequest,
    /// `least conn`: the guide's (deprecated) spelling of least request.
    LeastConn,
    /// `random`.
    Random,
    /// `passthrough`.
    Passthrough,
    /// `hash header NAME`.
    HashHeader(Text),
    /// `hash cookie NAME ttl D path "/"`.
    /// Each option is a list: written twice, it is reported (E0304).
    HashCookie {
        name: Text,
        ttl: Vec<Literal>,
        path: Vec<Text>,
    },
    /// `hash source ip`.
    HashSourceIp,
    /// `hash query NAME`.
    HashQuery(Text),
}

/// `route SERVICE when ... -> dests clauses`: one rule of a service's routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The service whose traffic this rule routes.
    pub service: Text,
    /// Alternatives (OR) of conditions (AND); empty when there is no `when`.
    pub matches: Vec<MatchAlt>,
    /// Destinations after `->`; empty when there is no arrow (the service itself).
    pub destinations: Vec<Destination>,
    /// Everything after the destinations, in source order.
    pub clauses: Vec<Spanned<Clause>>,
    /// The whole rule.
    pub span: Span,
}

/// Conditions joined by `and`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchAlt {
    /// The conditions, all of which must hold.
    pub conditions: Vec<Spanned<Condition>>,
    /// The whole alternative.
    pub span: Span,
}

/// One request condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `header NAME = "v"` (or `prefix`, `regex`).
    Header { name: Text, matcher: StringMatch },
    /// `query NAME = "v"`.
    Query { name: Text, matcher: StringMatch },
    /// `uri prefix "/v1"`.
    Uri(StringMatch),
    /// `method GET` or `method regex "GET|HEAD"`.
    Method(StringMatch),
}

/// How a string is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`.
    Exact,
    /// `prefix`.
    Prefix,
    /// `regex`.
    Regex,
}

/// An operator and the string it compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringMatch {
    /// The operator.
    pub op: MatchOp,
    /// The value (unescaped).
    pub value: Text,
}

/// `v2 10%`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Where to.
    pub target: DestRef,
    /// The share of traffic, if written.
    pub weight: Option<Literal>,
    /// The whole destination.
    pub span: Span,
}

/// `v2`, `billing`, `billing.v2` or `team2/billing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestRef {
    /// The namespace before a `/`, if any.
    pub namespace: Option<Text>,
    /// The first name (after the namespace).
    pub first: Text,
    /// The subset after the dot, if any.
    pub second: Option<Text>,
    /// The whole reference.
    pub span: Span,
}

/// A clause of a route after its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// `retry N per try D on c1, c2 remote localities on|off`.
    Retry(Retry),
    /// `timeout D`.
    Timeout(Literal),
    /// `fault delay D for P`.
    FaultDelay { delay: Literal, percent: Literal },
    /// `fault abort CODE for P`.
    FaultAbort {
        status: AbortStatus,
        percent: Literal,
    },
    /// `mirror DEST P`.
    Mirror { target: DestRef, percent: Literal },
    /// `rewrite prefix|path|authority "..."`.
    Rewrite {
        what: Spanned<RewriteWhat>,
        value: Text,
    },
    /// `backend timeout D`.
    BackendTimeout(Literal),
    /// `redirect ...`.
    Redirect(Vec<Spanned<RedirectPart>>),
    /// `request ...` / `response ...` header operations.
    Headers {
        dir: Spanned<HeaderDir>,
        op: HeaderOp,
    },
    /// `use POLICY(...)`: replaced by the policy's clauses before checking.
    Use(Use),
}

/// `retry ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// The number of retries (Envoy attempts).
    pub attempts: Literal,
    /// `per try D`.
    pub per_try: Vec<Literal>,
    /// `on c1, c2`: retry conditions as written.
    pub on: Vec<Text>,
    /// `remote localities on|off`.
    pub remote_localities: Vec<Literal>,
    /// `idempotent only`, where written.
    pub idempotent_only: Vec<Span>,
}

/// What a `fault abort` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbortStatus {
    /// An HTTP status literal.
    Http(Literal),
    /// `grpc NAME`.
    Grpc(Text),
}

/// What a `rewrite` rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewriteWhat {
    /// The part of the path a `uri prefix` condition matched.
    Prefix,
    /// The whole path.
    Path,
    /// The Host/:authority header.
    Authority,
}

/// One part of a `redirect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectPart {
    /// `scheme http|https`.
    Scheme(Literal),
    /// `host NAME`.
    Host(Text),
    /// `port N`.
    Port(Literal),
    /// `path "/x"`: the whole path.
    Path(Text),
    /// `prefix "/x"`: the matched prefix.
    Prefix(Text),
    /// `status N`.
    Status(Literal),
}

/// Whether header operations apply to requests or responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderDir {
    /// `request`.
    Request,
    /// `response`.
    Response,
}

/// A header operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderOp {
    /// `set NAME = "v"`.
    Set(Text, Text),
    /// `add NAME = "v"`.
    Add(Text, Text),
    /// `remove NAME, NAME`.
    Remove(Vec<Text>),
}

/// A literal as written: its kind and source text. Conversion and range checks are the
/// checker's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    /// What kind of literal the text is.
    pub kind: LiteralKind,
    /// The source text (for strings: the unescaped content).
    pub text: String,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of literal the grammar knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    /// `42`.
    Int,
    /// `2.5`.
    Float,
    /// `90%`.
    Percent,
    /// `15s`.
    Duration,
    /// `"text"`.
    String,
    /// `on`, `GET`.
    Word,
}
