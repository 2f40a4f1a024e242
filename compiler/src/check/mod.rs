//! Checking: `ast::File`s → [`ir::Program`] plus every diagnostic.
//!
//! Never stops at the first problem: each check reports and moves on, so a program with several
//! mistakes gets all of them. The IR is only meaningful (and only emitted) when no error was
//! reported.
//!
//! Two passes: `declare` collects every service and ingress of every file (so a route may refer
//! to one declared later or in another file), then `route` resolves and checks every route,
//! against the output its owner compiles to (see [`crate::target`]).

mod canary;
mod consul;
mod extra;
mod ingress;
mod linkerd;
mod lints;
mod names;
mod policy;
mod resilience4j;
mod route;
mod shards;
mod values;
mod workloads;

use std::borrow::Cow;
use std::ops::Deref;

use crate::hash::{hash_one, HashMap, HashTable};

use crate::ast;
use crate::diagnostics::lints::Silenced;
use crate::diagnostics::{did_you_mean, Code, Diagnostic};
use crate::ir;
use crate::source::Span;
use crate::target::{ingress_alternative, Concept, LinkerdFlavour, Options, Output, Target};

/// Gateway API's limits on one HTTPRoute.
const MAX_RULES: usize = 16;
const MAX_TOTAL_MATCHES: usize = 128;

pub(crate) use values::{kind_name, Sink};

/// Checks parsed files (in the order given) and lowers them to the IR.
///
/// `incomplete` says that some file of the compilation could not be parsed: its services are
/// unknown, so a route naming an unknown service is not reported (it may be declared there).
///
/// `default_namespace` is the namespace of a file that declares none.
///
/// A lint that `silenced` silences is dropped as it is found: the other diagnostics still need
/// [`Silenced::apply`](crate::diagnostics::lints::Silenced::apply).
///
/// `threads` is how many threads declare services and check routes, each taking a run of
/// them; 0 for as many as there are cores when the program is large enough to be worth it.
/// The result is the same for any number (see `check::shards`).
pub fn check(
    files: Vec<ast::File>,
    incomplete: bool,
    options: Options,
    default_namespace: Option<&str>,
    silenced: &Silenced,
    threads: usize,
) -> (ir::Program, Vec<Diagnostic>) {
    let sink = Sink::new(silenced);
    let mut checker = Checker::new(Box::default(), sink, options, incomplete);
    let namespaces: Vec<Option<String>> = files
        .iter()
        .map(|f| checker.namespace(f, default_namespace))
        .collect();
    let (mut declarations, mut routes) = shards::plan(&files, &namespaces, threads);
    let mut canaries = Vec::new();
    for (file, namespace) in files.into_iter().zip(&namespaces) {
        let namespace = namespace.as_deref();
        for item in file.items {
            match item {
                ast::Item::Service(_) | ast::Item::Ingress(_) => {
                    declarations.push((item, namespace))
                }
                ast::Item::Route(route) => routes.push((route, namespace)),
                ast::Item::Canary(canary) => canaries.push((canary, namespace)),
            }
        }
    }
    // Each syntax tree is freed once it is checked, so that its memory is reused for the IR:
    // a large program is never held twice.
    shards::declare(&mut checker, declarations);
    shards::route(&mut checker, routes);
    for (canary, namespace) in canaries {
        checker.canary(&canary, namespace);
    }
    checker.flagger_owned_routes();
    checker.canary_routes();
    checker.split_idempotent_routes();
    shards::whole_program(&mut checker, threads);
    let program = ir::Program {
        services: checker.decl.services,
        ingresses: checker.decl.ingresses,
    };
    // What `extra` blocks do to the emitted objects, once these are right.
    if !incomplete && !checker.sink.diagnostics.iter().any(Diagnostic::is_error) {
        extra::check_extras(&program, options, &mut checker.sink);
    }
    (program, checker.sink.diagnostics)
}

/// A name as shown in a headline: at most 64 characters, then `…` (the label points at all of
/// it), so that a 100,000-character name does not fill the terminal.
fn abbreviated(name: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN: usize = 64;
    match name.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &name[..end]).into(),
        None => name.into(),
    }
}

/// E0407 for a service with a `host` of its own where the output names Services of the
/// cluster; `help` says why the output needs one.
pub(crate) fn not_a_service(name: &str, host: &str, span: Span, help: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0407,
        format!("`{name}` is not a Kubernetes Service of this cluster"),
        span,
        format!("its host is `{host}`"),
        help,
    )
}

/// Whether two rules send the same shares of traffic to the same services and subsets.
pub(crate) fn same_destinations(a: &[ir::Destination], b: &[ir::Destination]) -> bool {
    let key = |d: &ir::Destination| {
        (
            d.service.namespace.clone(),
            d.service.name.clone(),
            d.subset.clone(),
            d.weight.unwrap_or(100),
        )
    };
    let mut a: Vec<_> = a.iter().map(key).collect();
    let mut b: Vec<_> = b.iter().map(key).collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// Destinations as a label says them: `research-agent 90%, research-agent.v2 10%`.
pub(crate) fn destinations(list: &[ir::Destination]) -> String {
    let named: Vec<String> = list
        .iter()
        .map(|d| {
            let name = match &d.subset {
                Some(subset) => format!("`{}.{subset}`", d.service.name),
                None => format!("`{}`", d.service.name),
            };
            match d.weight {
                Some(weight) => format!("{name} {weight}%"),
                None => name,
            }
        })
        .collect();
    named.join(", ")
}

/// Pushes onto a vector of large items that usually holds one or two (a service's routes and
/// subsets), growing it from one item rather than std's four: 10,000 services of one route
/// each take 25 MB less.
pub(crate) fn push_compact<T>(items: &mut Vec<T>, item: T) {
    if items.len() == items.capacity() {
        items.reserve_exact(items.len().max(1));
    }
    items.push(item);
}

/// A concept's bit in a set of concepts held in a `u64`.
pub(crate) fn concept_bit(concept: Concept) -> u64 {
    const _: () = assert!(Concept::ALL.len() <= 64, "a concept per bit of a u64");
    1 << concept as u32
}

/// Whether `name` can be a namespace: `Err` says why not.
pub(crate) fn valid_namespace(name: &str) -> Result<(), String> {
    names::dns_label(name)
}

/// An object a service or ingress emits, for `resource_names`: kind, what names it
/// (`routes`/`policy`), name, namespace, owner's span, owner.
type Object<'s> = (&'s str, &'s str, &'s str, &'s str, Span, Cow<'s, str>);

/// What declaring services and ingresses finds: every later check reads it.
#[derive(Default)]
pub(crate) struct Declared {
    /// Services in declaration order.
    pub(crate) services: Vec<ir::Service>,
    /// (namespace, name) → index into `services`.
    by_name: ByName,
    /// Ingresses in declaration order.
    pub(crate) ingresses: Vec<ir::Ingress>,
    /// (namespace, name) → index into `ingresses`.
    pub(crate) ingress_by_name: ByName,
    /// Where `routes named` / `policy named` was written in an ingress, per ingress index.
    pub(crate) ingress_named_spans: HashMap<(usize, ast::NamedWhat), Span>,
    /// Which traffic-policy blocks each service (by index) wrote, valid or not: a bit per
    /// concept (`concept_bit`).
    pub(crate) policy_written: Vec<u64>,
    /// Where `routes named` / `policy named` was written, per service index.
    named_spans: HashMap<(usize, ast::NamedWhat), Span>,
}

/// What the checker knows while it walks the program.
///
/// `D` holds the declarations: owned (`Box<Declared>`) while services and ingresses are
/// declared and once routes are checked, shared (`&Declared`) by the threads that check the
/// routes. Methods that only read the declarations are written for any `D`; the compiler
/// keeps the others off the threads.
pub(crate) struct Checker<'a, D = Box<Declared>> {
    pub(crate) sink: Sink<'a>,
    /// The target and channel.
    pub(crate) options: Options,
    /// The route being checked belongs to an ingress (for E0401's advice).
    pub(crate) checking_ingress_route: bool,
    /// Services, ingresses and what was found declaring them.
    pub(crate) decl: D,
    /// (route namespace, backend namespace, service) of HTTPRoute backends in another
    /// namespace that were already noted (N0001), with the index of the note in `sink`
    /// (`None` when the note is silenced).
    pub(crate) granted: HashMap<(String, String, String), Option<usize>>,
    /// Some file failed to parse, so unknown services are not reported.
    incomplete: bool,
    /// Where each service's (by index) canary was declared.
    pub(crate) canary_spans: HashMap<usize, Span>,
    /// Where each concept was reported as not expressible (E0401): a policy applied with `use`
    /// puts all its settings at the `use`, where one report per concept is enough. With the
    /// index of the report in `sink` (`None` when silenced), as for `granted`.
    unsupported: HashMap<(Concept, Span), Option<usize>>,
    /// How many E0401 reports were not made again at a place that has one: an error found
    /// all the same.
    repeated_reports: usize,
}

impl<'a, D: Deref<Target = Declared>> Checker<'a, D> {
    /// A checker that reports to `sink`, with the declarations `decl`.
    pub(crate) fn new(decl: D, sink: Sink<'a>, options: Options, incomplete: bool) -> Self {
        Checker {
            sink,
            options,
            checking_ingress_route: false,
            decl,
            granted: HashMap::default(),
            incomplete,
            canary_spans: HashMap::default(),
            unsupported: HashMap::default(),
            repeated_reports: 0,
        }
    }
}

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// The file's one namespace; reports E0105 when there is none or more than one.
    /// A file that only imports and declares policies (a module) needs none.
    fn namespace(&mut self, file: &ast::File, default: Option<&str>) -> Option<String> {
        let module = file.items.is_empty() && file.defaults.is_empty();
        let Some(first) = file.namespaces.first() else {
            if module || default.is_some() {
                return default.map(str::to_string);
            }
            let start = Span {
                end: file.span.start,
                ..file.span
            };
            self.sink.push(Diagnostic::new(
                Code::E0105,
                "this file declares no namespace",
                start,
                "expected `namespace NAME` here",
                "start the file with the Kubernetes namespace its services live in, e.g. `namespace team1`, or set a default with `namespace = \"team1\"` in mesh.toml",
            ));
            return None;
        };
        for extra in &file.namespaces[1..] {
            self.sink.push(
                Diagnostic::new(
                    Code::E0105,
                    "a file declares one namespace",
                    extra.span,
                    "second namespace declaration",
                    "put the services of another namespace in a file of their own",
                )
                .with_secondary(first.span, "namespace declared here first"),
            );
        }
        self.name_rule(&first.node, first.span, "namespace name", names::dns_label);
        Some(first.node.clone())
    }

    /// E0103 when two services would emit objects of the same kind and name in one namespace:
    /// the second would silently replace the first in the cluster.
    ///
    /// Also E0103 when two services share a host: their routes and policies would be two
    /// VirtualServices and DestinationRules for one host, and Istio ignores all but one (IST0109).
    fn resource_names(&mut self) {
        let mut hosts: HashMap<&str, usize> = HashMap::default();
        hosts.reserve(self.decl.services.len());
        // With Linkerd, a service's routes are an HTTPRoute per retry policy (`routes_name`,
        // then `routes_name-2`, ...).
        let linkerd_names: Vec<Vec<String>> = match self.service_output() {
            Output::LinkerdHttpRoute => self
                .decl
                .services
                .iter()
                .map(|service| {
                    let groups = ir::retry_groups(&service.routes).len();
                    (0..groups)
                        .map(|index| ir::numbered_name(&service.routes_name, index))
                        .collect()
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut objects: Vec<Object> =
            Vec::with_capacity(2 * self.decl.services.len() + self.decl.ingresses.len());
        for ingress in &self.decl.ingresses {
            if !ingress.routes.is_empty() {
                objects.push((
                    "HTTPRoute",
                    "routes",
                    &ingress.routes_name,
                    &ingress.namespace,
                    ingress.span,
                    Cow::Borrowed(&ingress.name),
                ));
            }
        }
        for (index, service) in self.decl.services.iter().enumerate() {
            if let Some(&first) = hosts.get(service.host.as_str()) {
                let other = &self.decl.services[first];
                self.sink.push(
                    Diagnostic::new(
                        Code::E0103,
                        format!(
                            "services `{}` and `{}` have the same host `{}`",
                            other.name, service.name, service.host
                        ),
                        service.span,
                        "second service for this host",
                        "declare the host once, as one service holding all its subsets, policy and routes",
                    )
                    .with_secondary(other.span, "first service for this host"),
                );
            } else {
                hosts.insert(&service.host, index);
            }
            // Flagger writes the routes and policy of the services it rolls out itself.
            if self.options.target == Target::Flagger && service.canary.is_some() {
                continue;
            }
            // What the routes and the policy become, and the namespace their names must be
            // unique in: Resilience4j's instances are all in one application, whatever their
            // services' namespaces ("").
            let output = self.service_output();
            let (routes_kind, policy_kind, namespace) = match output {
                Output::Istio => (
                    Some("VirtualService"),
                    Some("DestinationRule"),
                    service.namespace.as_str(),
                ),
                Output::HttpRouteStandard
                | Output::HttpRouteExperimental
                | Output::LinkerdHttpRoute => (Some("HTTPRoute"), None, service.namespace.as_str()),
                // Named after the service's host (unique, above) or the service.
                Output::LinkerdServiceProfile | Output::Consul => (None, None, ""),
                Output::Resilience4j => (
                    Some("Resilience4j retry/time limiter instance"),
                    Some("Resilience4j circuit breaker/bulkhead instance"),
                    "",
                ),
            };
            let policy = !service.policy.is_empty()
                || (output == Output::Istio && !service.subsets.is_empty());
            // Across namespaces, an owner is named with its namespace.
            let owner: Cow<str> = match namespace {
                "" => format!("{}/{}", service.namespace, service.name).into(),
                _ => Cow::Borrowed(&service.name),
            };
            if let (Some(kind), true) = (policy_kind, policy) {
                objects.push((
                    kind,
                    "policy",
                    &service.policy_name,
                    namespace,
                    service.span,
                    owner.clone(),
                ));
            }
            if let (Some(kind), false) = (routes_kind, service.routes.is_empty()) {
                objects.push((
                    kind,
                    "routes",
                    &service.routes_name,
                    namespace,
                    service.span,
                    owner.clone(),
                ));
            }
            if let Some(names) = linkerd_names.get(index) {
                for name in names.iter().skip(1) {
                    objects.push((
                        "HTTPRoute",
                        "routes",
                        name,
                        &service.namespace,
                        service.span,
                        Cow::Borrowed(&service.name),
                    ));
                }
            }
        }
        // Ingresses were listed first; report clashes in source order of the second owner.
        objects.sort_by_key(|object| object.4);
        // The first object of each (namespace, kind, name), as its index in `objects`: a table
        // of indices, not of the keys and owners (about 90 bytes an object, 3 MB at 10,000
        // services, in a stage that runs on one core).
        fn key<'s>(object: &Object<'s>) -> (&'s str, &'s str, &'s str) {
            (object.3, object.0, object.2)
        }
        let mut first_of: HashTable<usize> = HashTable::with_capacity(objects.len());
        for (index, object) in objects.iter().enumerate() {
            let hash = hash_one(key(object));
            let same = |&first: &usize| key(&objects[first]) == key(object);
            let Some(&first) = first_of.find(hash, same) else {
                let rehash = |&first: &usize| hash_one(key(&objects[first]));
                first_of.insert_unique(hash, index, rehash);
                continue;
            };
            let (kind, what, name, namespace, span, owner) = object;
            let (.., first_span, first_owner) = &objects[first];
            let place = match *namespace {
                "" => String::new(),
                namespace => format!(" in namespace `{namespace}`"),
            };
            self.sink.push(
                Diagnostic::new(
                    Code::E0103,
                    format!("`{first_owner}` and `{owner}` both emit {kind} `{name}`{place}"),
                    *span,
                    format!("this one's {kind} is named `{name}`"),
                    format!("give one of them another name with `{what} named NAME`"),
                )
                .with_secondary(*first_span, "the other one"),
            );
        }
    }

    /// The output a service's routes compile to under the chosen target.
    pub(crate) fn service_output(&self) -> Output {
        match self.options.target {
            Target::Istio => Output::Istio,
            Target::GatewayApi => Output::http_route(self.options.channel),
            Target::Flagger | Target::ArgoRollouts => Output::Istio,
            Target::Linkerd => match self.options.linkerd {
                LinkerdFlavour::HttpRoute => Output::LinkerdHttpRoute,
                LinkerdFlavour::ServiceProfile => Output::LinkerdServiceProfile,
            },
            Target::Consul => Output::Consul,
            Target::Resilience4j => Output::Resilience4j,
        }
    }

    /// `true` when `output` can express `concept`; otherwise reports E0401 at `span`.
    pub(crate) fn supported(&mut self, concept: Concept, output: Output, span: Span) -> bool {
        let Err(alternative) = output.supports(concept) else {
            return true;
        };
        if self.unsupported.contains_key(&(concept, span)) {
            self.repeated_reports += 1;
            return false;
        }
        // `--target` does not change what an ingress route compiles to: suggest what works
        // on an ingress instead.
        let (alternative, note) = if self.checking_ingress_route {
            (
                ingress_alternative(concept, self.service_output()).unwrap_or(alternative),
                "ingress routes always compile to Gateway API HTTPRoutes, whatever the `--target`",
            )
        } else {
            (alternative, output.service_route_note())
        };
        let report = self.sink.push_kept(
            Diagnostic::new(
                Code::E0401,
                format!(
                    "{} cannot be expressed in {}",
                    concept.name(),
                    output.name()
                ),
                span,
                "not supported by this target",
                alternative,
            )
            .with_note(note),
        );
        self.unsupported.insert((concept, span), report);
        false
    }

    /// E0402: the rule limits of one HTTPRoute (16 rules, 128 alternatives in all).
    fn route_limits(&mut self) {
        let split_ingress =
            "split the routes over two ingresses: each becomes an HTTPRoute of its own";
        let merge =
            "merge routes that go to the same place into one, with `or` between their conditions";
        let gateway_api = Output::HttpRouteStandard.limits_name();
        let mut routes: Vec<(Vec<&ir::RouteRule>, &str, &str)> = self
            .decl
            .ingresses
            .iter()
            .map(|i| (i.routes.iter().collect(), split_ingress, gateway_api))
            .collect();
        for service in &self.decl.services {
            match self.options.target {
                Target::GatewayApi => {
                    routes.push((service.routes.iter().collect(), merge, gateway_api))
                }
                // An HTTPRoute per retry policy: each has the limits.
                Target::Linkerd if self.service_output() == Output::LinkerdHttpRoute => routes
                    .extend(
                        ir::retry_groups(&service.routes)
                            .into_iter()
                            .map(|(_, rules)| {
                                (rules, merge, Output::LinkerdHttpRoute.limits_name())
                            }),
                    ),
                Target::Linkerd
                | Target::Consul
                | Target::Resilience4j
                | Target::Istio
                | Target::Flagger
                | Target::ArgoRollouts => {}
            }
        }
        let mut over: Vec<(Span, &str, usize, &str, &str)> = Vec::new();
        for (rules, help, who) in routes {
            if let Some(rule) = rules.get(MAX_RULES) {
                over.push((rule.span, "routes for one HTTPRoute", MAX_RULES, help, who));
            }
            let mut total = 0;
            for rule in rules {
                total += rule.matches.len().max(1);
                if total > MAX_TOTAL_MATCHES {
                    over.push((
                        rule.span,
                        "alternatives across the routes of one HTTPRoute",
                        MAX_TOTAL_MATCHES,
                        help,
                        who,
                    ));
                    break;
                }
            }
        }
        for (span, what, max, help, who) in over {
            self.limit_of(who, span, what, max, help);
        }
    }

    /// W0002 for every rule after a rule without `when`: the earlier rule takes all traffic
    /// (Istio's IST0130). Rules are ordered by file path, then by position in the file.
    ///
    /// Only for VirtualServices: Gateway API orders rules by how specific their matches are,
    /// not by position, so a catch-all rule there hides nothing.
    fn unreachable_routes(&mut self) {
        if !self.service_output().first_match_wins() {
            return;
        }
        for service in &self.decl.services {
            let Some(catch_all) = service.routes.iter().position(|r| r.matches.is_empty()) else {
                continue;
            };
            for rule in &service.routes[catch_all + 1..] {
                self.sink.push(
                    Diagnostic::new(
                        Code::W0002,
                        format!("this route of `{}` can never match", service.name),
                        rule.span,
                        "unreachable",
                        "move it before the route without `when`, or give that route a condition",
                    )
                    .with_secondary(
                        service.routes[catch_all].span,
                        "this earlier route takes every request",
                    )
                    .with_note(
                        "rules are tried in order: by file path, then by position in the file",
                    ),
                );
            }
        }
    }

    /// W0003 for `routes named` / `policy named` on a service that emits no such object.
    fn unused_names(&mut self) {
        let mut unused: Vec<(Span, &str, &str, &str)> = Vec::new();
        for (&(index, what), &span) in &self.decl.ingress_named_spans {
            match what {
                ast::NamedWhat::Routes if self.decl.ingresses[index].routes.is_empty() => {
                    unused.push((span, "routes", "the ingress has no `route`", ""));
                }
                ast::NamedWhat::Policy => {
                    unused.push((
                        span,
                        "policy",
                        "an ingress has no policy: policy belongs to services",
                        "remove the line",
                    ));
                }
                _ => {}
            }
        }
        // Where the emitted objects' names are fixed, `routes named` (and for Consul `policy
        // named`) names nothing.
        let fixed = match self.service_output() {
            Output::LinkerdServiceProfile => {
                Some("a ServiceProfile is named after the service's host")
            }
            Output::Consul => Some("Consul's config entries are named after the service"),
            _ => None,
        };
        let consul = self.service_output() == Output::Consul;
        for (&(index, what), &span) in &self.decl.named_spans {
            let service = &self.decl.services[index];
            match what {
                ast::NamedWhat::Routes if service.routes.is_empty() => {
                    unused.push((span, "routes", "it has no `route`", ""));
                }
                ast::NamedWhat::Routes if fixed.is_some() => {
                    unused.push((
                        span,
                        "routes",
                        fixed.unwrap_or_default(),
                        "remove the line (or allow the lint, to keep the name for other targets)",
                    ));
                }
                ast::NamedWhat::Policy if consul => {
                    unused.push((
                        span,
                        "policy",
                        fixed.unwrap_or_default(),
                        "remove the line (or allow the lint, to keep the name for other targets)",
                    ));
                }
                ast::NamedWhat::Policy
                    if service.subsets.is_empty() && service.policy.is_empty() =>
                {
                    unused.push((
                        span,
                        "policy",
                        "it has no subset, `pool`, `eject` or `balance`",
                        "",
                    ));
                }
                _ => {}
            }
        }
        // An empty help: the usual one.
        for (span, what, reason, help) in unused {
            let help = match help {
                "" => format!("remove the line, or add the {what} it should name"),
                help => help.to_string(),
            };
            self.sink.push(Diagnostic::new(
                Code::W0003,
                format!("`{what} named` names nothing"),
                span,
                format!("nothing is emitted under this name: {reason}"),
                help,
            ));
        }
    }

    /// Reports E0205 when `check` rejects `name`.
    pub(crate) fn name_rule(
        &mut self,
        name: &str,
        span: Span,
        what: &str,
        check: fn(&str) -> Result<(), String>,
    ) -> bool {
        match check(name) {
            Ok(()) => true,
            Err(reason) => {
                self.sink.push(Diagnostic::new(
                    Code::E0205,
                    format!("invalid {what} `{}`", abbreviated(name)),
                    span,
                    format!("{what} {reason}"),
                    if what.starts_with("header")
                        || what.ends_with("parameter name")
                        || what.starts_with("cookie")
                    {
                        format!("Istio rejects this {what}: change it as the label says")
                    } else {
                        format!("rename it: Kubernetes and Istio reject this {what}")
                    },
                ));
                false
            }
        }
    }

    /// Declares a service: its host, port, names, subsets and policy.
    fn declare(&mut self, service: &ast::Service, namespace: Option<&str>)
    where
        D: std::ops::DerefMut,
    {
        let name = &service.name;
        self.name_rule(&name.node, name.span, "service name", names::dns_label);
        let namespace = namespace.unwrap_or("default").to_string();
        if self.name_taken(&namespace, name) {
            return;
        }
        let mut ir_service = ir::Service {
            host: ir::cluster_host(&name.node, &namespace),
            namespace,
            name: name.node.clone(),
            port: None,
            subsets: Vec::new(),
            deployments: Vec::new(),
            canary: None,
            policy: ir::TrafficPolicy::default(),
            routes: Vec::new(),
            routes_name: name.node.clone(),
            policy_name: name.node.clone(),
            extras: Vec::new(),
            span: name.span,
        };
        let index = self.decl.services.len();
        let mut seen = Seen::default();
        let mut deploys = Vec::new();
        let mut policy_items = Vec::new();
        let mut written = 0;
        let mut extras = Vec::new();
        for item in &service.items {
            match item {
                ast::ServiceItem::Host(host) => {
                    if seen.first(&mut self.sink, "host", host.span)
                        && self.name_rule(&host.node, host.span, "host", names::host)
                    {
                        ir_service.host = host.node.clone();
                    }
                }
                ast::ServiceItem::Port(port) => {
                    if seen.first(&mut self.sink, "port", port.span) {
                        ir_service.port = self
                            .sink
                            .count(port, 1, 65535, "a port", "ports are 1 to 65535")
                            .map(|p| p as u16);
                    }
                }
                ast::ServiceItem::Named { what, name } => {
                    let (label, slot) = match what.node {
                        ast::NamedWhat::Routes => ("routes named", &mut ir_service.routes_name),
                        ast::NamedWhat::Policy => ("policy named", &mut ir_service.policy_name),
                    };
                    if seen.first(&mut self.sink, label, what.span.to(name.span))
                        && self.name_rule(
                            &name.node,
                            name.span,
                            "resource name",
                            names::dns_subdomain,
                        )
                    {
                        *slot = name.node.clone();
                        self.decl
                            .named_spans
                            .insert((index, what.node), what.span.to(name.span));
                    }
                }
                ast::ServiceItem::Subset(subset) => {
                    let output = self.service_output();
                    self.supported(Concept::Subsets, output, subset.name.span);
                    if let Some(ir_subset) = self.subset(subset, &ir_service.subsets) {
                        push_compact(&mut ir_service.subsets, ir_subset);
                    }
                }
                ast::ServiceItem::Deploy(deploy) => deploys.push(deploy),
                ast::ServiceItem::Extra(extra) => extras.push(extra),
                // Expanded before checking (crate::modules).
                ast::ServiceItem::Use(_) => {}
                ast::ServiceItem::Policy(policy) => {
                    let (concept, span) = match policy {
                        ast::PolicyItem::Pool(block) => (Concept::ConnectionPool, block.keyword),
                        ast::PolicyItem::Eject(block) => (Concept::OutlierDetection, block.keyword),
                        ast::PolicyItem::Balance(balance) => (Concept::LoadBalancing, balance.span),
                    };
                    let output = self.service_output();
                    self.supported(concept, output, span);
                    written |= concept_bit(concept);
                    policy_items.push(policy);
                }
            }
        }
        ir_service.policy = self.policy(policy_items);
        ir_service.deployments = self.deployments(&ir_service, &deploys);
        ir_service.extras = self.extras(&extras);
        self.decl.policy_written.push(written);
        self.decl
            .by_name
            .insert(&ir_service.namespace, &ir_service.name, index);
        self.decl.services.push(ir_service);
    }

    fn subset(&mut self, subset: &ast::Subset, earlier: &[ir::Subset]) -> Option<ir::Subset> {
        let name = &subset.name;
        self.name_rule(&name.node, name.span, "subset name", names::subset_name);
        if let Some(first) = earlier.iter().find(|s| s.name == name.node) {
            self.defined_twice(
                format!("subset `{}` is defined twice", name.node),
                name.span,
                first.span,
                "give each subset a distinct name",
            );
            return None;
        }
        let mut labels = crate::hash::IndexMap::with_capacity_and_hasher(
            subset.labels.len(),
            Default::default(),
        );
        let mut label_spans: HashMap<&str, Span> = HashMap::default();
        for label in &subset.labels {
            self.name_rule(
                &label.key.node,
                label.key.span,
                "label key",
                names::label_key,
            );
            self.name_rule(
                &label.value.node,
                label.value.span,
                "label value",
                names::label_value,
            );
            if let Some(first) = label_spans.insert(&label.key.node, label.key.span) {
                self.defined_twice(
                    format!("label `{}` is given twice", label.key.node),
                    label.key.span,
                    first,
                    "a pod label has one value: keep one of the two",
                );
                continue;
            }
            labels.insert(label.key.node.clone(), label.value.node.clone());
        }
        if let Some(same) = earlier.iter().find(|s| s.labels == labels) {
            let diagnostic = Diagnostic::new(
                Code::E0103,
                format!(
                    "subsets `{}` and `{}` select the same pods",
                    same.name, name.node
                ),
                subset.span,
                "same labels as an earlier subset",
                "give each subset the labels of a different version",
            )
            .with_secondary(same.span, "the earlier subset");
            self.sink.push(diagnostic);
        }
        // Where subsets exist but cannot have a policy of their own (Consul), each policy
        // block is reported; where subsets cannot be expressed, they were reported already,
        // and their policy is not looked at.
        let output = self.service_output();
        let subsets = output.supports(Concept::Subsets).is_ok();
        let own_policy = subsets && output.supports(Concept::SubsetPolicy).is_ok();
        if subsets && !own_policy {
            for item in &subset.policy {
                let span = match item {
                    ast::PolicyItem::Pool(block) => block.keyword,
                    ast::PolicyItem::Eject(block) => block.keyword,
                    ast::PolicyItem::Balance(balance) => balance.span,
                };
                self.supported(Concept::SubsetPolicy, output, span);
            }
        }
        // A policy reported as a whole is not checked part by part.
        let policy = if own_policy {
            self.policy(subset.policy.iter().collect())
        } else {
            ir::TrafficPolicy::default()
        };
        Some(ir::Subset {
            name: name.node.clone(),
            labels,
            policy,
            span: name.span,
        })
    }

    /// E0103: the second definition of something defined once, with the first as a secondary
    /// label.
    pub(crate) fn defined_twice(&mut self, message: String, span: Span, first: Span, help: &str) {
        self.sink.push(
            Diagnostic::new(Code::E0103, message, span, "defined again here", help)
                .with_secondary(first, "first defined here"),
        );
    }

    /// E0103 when a service or ingress of `namespace` already has this name.
    pub(crate) fn name_taken(&mut self, namespace: &str, name: &ast::Text) -> bool {
        let earlier = self
            .decl
            .by_name
            .get(namespace, &name.node)
            .map(|i| self.decl.services[i].span);
        let earlier = earlier.or_else(|| {
            self.decl
                .ingress_by_name
                .get(namespace, &name.node)
                .map(|i| self.decl.ingresses[i].span)
        });
        let Some(first) = earlier else {
            return false;
        };
        self.defined_twice(
            format!("`{}` is defined twice in namespace `{namespace}`", name.node),
            name.span,
            first,
            "services and ingresses of a namespace share one set of names: merge the two declarations, or rename one",
        );
        true
    }

    /// A reference to a declared service, for destinations and mirrors.
    pub(crate) fn service_ref(&self, index: usize) -> ir::ServiceRef {
        let service = &self.decl.services[index];
        ir::ServiceRef {
            name: service.name.clone(),
            namespace: service.namespace.clone(),
            host: service.host.clone(),
            port: service.port,
        }
    }

    /// The index of a declared service, if there is one.
    pub(crate) fn service_index(&self, namespace: &str, name: &str) -> Option<usize> {
        self.decl.by_name.get(namespace, name)
    }

    /// Resolves the service a route names, in the route's namespace.
    pub(crate) fn resolve_service(&mut self, name: &ast::Text, namespace: &str) -> Option<usize> {
        if let Some(index) = self.service_index(namespace, &name.node) {
            return Some(index);
        }
        if self.incomplete {
            return None;
        }
        let candidates: Vec<&str> = self
            .decl
            .services
            .iter()
            .filter(|s| s.namespace == namespace)
            .map(|s| s.name.as_str())
            .collect();
        // The name is shown abbreviated: the label points at all of it.
        let shown = abbreviated(&name.node);
        let help = match did_you_mean(&name.node, candidates.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => {
                format!("declare it with `service {shown} {{ ... }}` in namespace `{namespace}`")
            }
        };
        self.sink.push(Diagnostic::new(
            Code::E0101,
            format!("unknown service `{shown}`"),
            name.span,
            format!("no service `{shown}` in namespace `{namespace}`"),
            help,
        ));
        None
    }
}

/// Remembers which one-per-block settings were seen, to report the second as E0304.
#[derive(Default)]
pub(crate) struct Seen {
    spans: Vec<(&'static str, Span)>,
}

impl Seen {
    /// Records `what`; returns false (after reporting E0304) when it was already there.
    pub(crate) fn first(&mut self, sink: &mut Sink, what: &'static str, span: Span) -> bool {
        if let Some((_, first)) = self.spans.iter().find(|(seen, _)| *seen == what) {
            sink.push(
                Diagnostic::new(
                    Code::E0304,
                    format!("`{what}` is given twice"),
                    span,
                    "given again here",
                    "keep one of the two",
                )
                .with_secondary(*first, "first given here"),
            );
            return false;
        }
        self.spans.push((what, span));
        true
    }

    /// Where `what` was first given, if it was.
    pub(crate) fn span(&self, what: &str) -> Option<Span> {
        self.spans
            .iter()
            .find(|(seen, _)| *seen == what)
            .map(|(_, span)| *span)
    }
}

/// Indices of declarations by namespace, then name; looked up without building a key.
#[derive(Default)]
pub(crate) struct ByName(HashMap<String, HashMap<String, usize>>);

impl ByName {
    pub(crate) fn get(&self, namespace: &str, name: &str) -> Option<usize> {
        self.0.get(namespace)?.get(name).copied()
    }

    pub(crate) fn insert(&mut self, namespace: &str, name: &str, index: usize) {
        match self.0.get_mut(namespace) {
            Some(names) => names.insert(name.to_string(), index),
            None => self
                .0
                .entry(namespace.to_string())
                .or_default()
                .insert(name.to_string(), index),
        };
    }
}
