//! Declaring services and checking routes on several threads.
//!
//! A large program is checked in runs ("shards") of consecutive declarations, then of
//! consecutive routes, one thread each; what each shard found is then appended in order, so
//! the result is what one thread checking everything in order would give:
//!
//! - Declaring a service or ingress reads nothing another declaration writes except the names
//!   taken so far (E0103). So declarations are only split when no two share a name; otherwise
//!   one thread declares them all, in order, and the second of each pair is reported.
//!   A shard numbers its services and ingresses from 0: [`Declared::append`] renumbers them.
//! - Checking a route reads the declarations (shared, read-only: a shard holds a
//!   `Checker<&Declared>`) and returns its rule instead of adding it to its owner; the rules
//!   are added in source order once every shard is done.
//! - A few reports are made once per key, not once per occurrence: E0401 once per concept and
//!   place (a policy applied with `use` or `defaults` puts the settings of many services and
//!   routes at one place), N0001 once per route namespace and backend. A shard records the
//!   index of each such report; a later shard's report of a key an earlier shard reported is
//!   dropped, so the first in source order stands.
//!
//! Diagnostics are sorted by position afterwards, as always. `tests/diagnostics.rs` and
//! `tests/examples.rs` check every fixture and example on one thread and on three and compare,
//! and so does the `compile` fuzz target for every program it makes.

use std::collections::hash_map::Entry;
use std::hash::Hash;

use super::{push_compact, route::Owner, ByName, Checker, Declared};
use crate::ast;
use crate::diagnostics::Diagnostic;
use crate::hash::{HashMap, HashSet};
use crate::ir;
use crate::source::Span;
use crate::target::Concept;
use crate::threads::run;

/// Below this many items per thread, a thread costs more than it saves.
const PER_THREAD: usize = 1024;

/// How many shards `items` items are checked in for a `threads` setting (see [`super::check`]).
fn count(threads: usize, items: usize) -> usize {
    let shards = match threads {
        0 => {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            cores.min(items / PER_THREAD)
        }
        n => n,
    };
    shards.clamp(1, items.max(1))
}

/// Items in runs of consecutive items, of about the same length, each sized exactly: a
/// program's items are moved once, into their run, and never copied as a vector grows.
pub(super) struct Runs<T> {
    runs: Vec<Vec<T>>,
    /// Items per run (the last may have fewer).
    size: usize,
    /// Items still to come.
    left: usize,
}

impl<T> Runs<T> {
    /// Room for `items` items in `shards` runs.
    fn new(items: usize, shards: usize) -> Runs<T> {
        Runs {
            runs: Vec::with_capacity(shards),
            size: items.div_ceil(shards.max(1)).max(1),
            left: items,
        }
    }

    /// Appends an item, to the last run or to a new one when that is full.
    pub(super) fn push(&mut self, item: T) {
        match self.runs.last_mut() {
            Some(run) if run.len() < self.size => run.push(item),
            _ => {
                let mut run = Vec::with_capacity(self.size.min(self.left).max(1));
                run.push(item);
                self.runs.push(run);
            }
        }
        self.left = self.left.saturating_sub(1);
    }
}

/// A service or ingress to declare, with its file's namespace.
type Declaration<'n> = (ast::Item, Option<&'n str>);

/// A route to check, with its file's namespace.
type Route<'n> = (ast::Route, Option<&'n str>);

/// Empty runs for the declarations and the routes of `files` (whose namespaces are
/// `namespaces`), as many as `threads` says for each (see [`super::check`]); one run of
/// declarations when two share a name.
pub(super) fn plan<'n>(
    files: &[ast::File],
    namespaces: &'n [Option<String>],
    threads: usize,
) -> (Runs<Declaration<'n>>, Runs<Route<'n>>) {
    let items = || {
        let files = files.iter().zip(namespaces);
        files.flat_map(|(file, namespace)| file.items.iter().map(move |item| (item, namespace)))
    };
    let (mut declarations, mut routes) = (0, 0);
    for (item, _) in items() {
        match item {
            ast::Item::Service(_) | ast::Item::Ingress(_) => declarations += 1,
            ast::Item::Route(_) => routes += 1,
            ast::Item::Canary(_) => {}
        }
    }
    let mut shards = count(threads, declarations);
    if shards > 1 {
        let mut seen = HashSet::default();
        seen.reserve(declarations);
        let clash = items().any(|(item, namespace)| {
            let name = match item {
                ast::Item::Service(service) => &service.name.node,
                ast::Item::Ingress(ingress) => &ingress.name.node,
                ast::Item::Route(_) | ast::Item::Canary(_) => return false,
            };
            !seen.insert((namespace.as_deref().unwrap_or("default"), name.as_str()))
        });
        if clash {
            shards = 1;
        }
    }
    let route_shards = count(threads, routes);
    (
        Runs::new(declarations, shards),
        Runs::new(routes, route_shards),
    )
}

/// Declares the services and ingresses of `runs` (in source order) into `checker`.
pub(super) fn declare<'a>(checker: &mut Checker<'a>, runs: Runs<Declaration<'_>>) {
    let services = |run: &[Declaration]| {
        let is_service = |(item, _): &&Declaration| matches!(item, ast::Item::Service(_));
        run.iter().filter(is_service).count()
    };
    // Sized once: a doubling vector of large items is briefly held twice as it grows.
    let all: usize = runs.runs.iter().map(|run| services(run)).sum();
    checker.decl.services.reserve_exact(all);
    let declare_all = |checker: &mut Checker<'a>, run: Vec<Declaration>| {
        for (item, namespace) in run {
            match item {
                ast::Item::Service(service) => checker.declare(&service, namespace),
                ast::Item::Ingress(ingress) => checker.declare_ingress(&ingress, namespace),
                ast::Item::Route(_) | ast::Item::Canary(_) => {}
            }
        }
    };
    let (sink, options, incomplete) = (checker.sink.like(), checker.options, checker.incomplete);
    // The first run is declared into `checker` itself; each other into a checker of its own.
    let ((), others) = run(
        runs.runs,
        |run| declare_all(checker, run),
        |run| {
            let mut decl = Box::<Declared>::default();
            decl.services.reserve_exact(services(&run));
            let mut shard = Checker::new(decl, sink.like(), options, incomplete);
            declare_all(&mut shard, run);
            shard
        },
    );
    for shard in others {
        let (decl, reports) = shard.into_parts();
        absorb_reports(checker, reports);
        checker.decl.append(*decl);
    }
}

/// Checks the routes of `runs` (in source order) against `checker`'s declarations, and adds
/// each rule to its service or ingress.
pub(super) fn route(checker: &mut Checker<'_>, runs: Runs<Route<'_>>) {
    let (first, rest) = {
        let checker = &*checker;
        let check_all = |run: Vec<Route>| {
            let mut shard = checker.reader();
            // Each rule goes in a vector of its own, which becomes its owner's `routes` when
            // that owner has one rule (most have): the rule is moved once, not twice.
            let mut rules: Vec<(Owner, Vec<ir::RouteRule>)> = Vec::with_capacity(run.len());
            for (route, namespace) in run {
                if let Some((owner, rule)) = shard.route(&route, namespace) {
                    rules.push((owner, vec![rule]));
                }
            }
            (rules, shard.into_parts().1)
        };
        run(runs.runs, check_all, check_all)
    };
    for (rules, reports) in std::iter::once(first).chain(rest) {
        for (owner, rule) in rules {
            let routes = match owner {
                Owner::Service(index) => &mut checker.decl.services[index].routes,
                Owner::Ingress(index) => &mut checker.decl.ingresses[index].routes,
            };
            if routes.is_empty() {
                *routes = rule;
            } else {
                rule.into_iter().for_each(|rule| push_compact(routes, rule));
            }
        }
        absorb_reports(checker, reports);
    }
}

/// The whole-program checks, which read the program and report: `resource_names` (the longest)
/// on a thread of its own beside the others, when `threads` allows (as for the routes); its
/// reports come first, as on one thread.
pub(super) fn whole_program(checker: &mut Checker<'_>, threads: usize) {
    if count(threads, checker.decl.services.len()) < 2 {
        checker.resource_names();
        later_checks(checker);
        return;
    }
    let (names, later) = {
        let checker = &*checker;
        std::thread::scope(|scope| {
            let names = scope.spawn(|| {
                let mut names = checker.reader();
                names.resource_names();
                names.into_parts().1
            });
            let mut later = checker.reader();
            later_checks(&mut later);
            let names = names
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (names, later.into_parts().1)
        })
    };
    absorb_reports(checker, names);
    absorb_reports(checker, later);
}

/// The whole-program checks after `resource_names`, in order.
fn later_checks<D: std::ops::Deref<Target = Declared>>(checker: &mut Checker<'_, D>) {
    checker.unreachable_routes();
    checker.unused_names();
    checker.route_limits();
    checker.linkerd_route_order();
    checker.service_profile_destinations();
    checker.consul_splits();
    checker.circuit_breaking();
    checker.subsets_select_deployments();
    checker.shadowed_matches();
}

impl<'a> Checker<'a> {
    /// A checker for a shard that reads these declarations and reports on its own: it knows
    /// what was reported already (and does not report it again) and where each canary is.
    fn reader(&self) -> Checker<'a, &Declared> {
        let mut shard = Checker::new(&*self.decl, self.sink.like(), self.options, self.incomplete);
        shard.unsupported = self.unsupported.keys().map(|&key| (key, None)).collect();
        shard.canary_spans.clone_from(&self.canary_spans);
        shard
    }
}

impl<D> Checker<'_, D> {
    /// A shard's declarations, and what it reported (for [`absorb_reports`]).
    fn into_parts(self) -> (D, Reports) {
        (
            self.decl,
            (self.sink.diagnostics, self.unsupported, self.granted),
        )
    }
}

/// A shard's diagnostics, with the reports it made once per key: E0401 per concept and
/// place (`Checker::unsupported`), N0001 per route namespace and backend (`granted`).
type Reports = (
    Vec<Diagnostic>,
    HashMap<(Concept, Span), Option<usize>>,
    HashMap<(String, String, String), Option<usize>>,
);

/// Adds a later shard's diagnostics to `checker`'s, except the once-per-key reports that an
/// earlier shard made already: the first in source order stands, as on one thread.
fn absorb_reports(checker: &mut Checker<'_>, (mut diagnostics, unsupported, granted): Reports) {
    let mut repeated = Vec::new();
    keep_first(&mut checker.unsupported, unsupported, &mut repeated);
    keep_first(&mut checker.granted, granted, &mut repeated);
    if !repeated.is_empty() {
        repeated.sort_unstable();
        let mut index = 0;
        diagnostics.retain(|_| {
            index += 1;
            repeated.binary_search(&(index - 1)).is_err()
        });
    }
    checker.sink.diagnostics.extend(diagnostics);
}

/// Adds the keys of `found` to `seen`; the reports (indices) of those already there go to
/// `repeated`.
fn keep_first<K: Eq + Hash>(
    seen: &mut HashMap<K, Option<usize>>,
    found: HashMap<K, Option<usize>>,
    repeated: &mut Vec<usize>,
) {
    for (key, report) in found {
        match seen.entry(key) {
            Entry::Occupied(_) => repeated.extend(report),
            Entry::Vacant(entry) => {
                entry.insert(None);
            }
        }
    }
}

impl Declared {
    /// Appends the declarations of a shard that numbered its services and ingresses from 0.
    pub(super) fn append(&mut self, other: Declared) {
        let (services, ingresses) = (self.services.len(), self.ingresses.len());
        self.by_name.append(other.by_name, services);
        self.ingress_by_name
            .append(other.ingress_by_name, ingresses);
        let renumber = |((index, what), span)| ((index + services, what), span);
        self.named_spans
            .extend(other.named_spans.into_iter().map(renumber));
        let renumber = |((index, what), span)| ((index + ingresses, what), span);
        let named = other.ingress_named_spans.into_iter().map(renumber);
        self.ingress_named_spans.extend(named);
        self.policy_written.extend(other.policy_written);
        self.services.extend(other.services);
        self.ingresses.extend(other.ingresses);
    }
}

impl ByName {
    /// Adds `other`'s names, their indices moved up by `offset`.
    fn append(&mut self, other: ByName, offset: usize) {
        for (namespace, names) in other.0 {
            let into = self.0.entry(namespace).or_default();
            into.reserve(names.len());
            into.extend(
                names
                    .into_iter()
                    .map(|(name, index)| (name, index + offset)),
            );
        }
    }
}
