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
//!   are added in source order once every shard is done. The one note given once per program,
//!   N0001 (a ReferenceGrant), is dropped from a later shard when an earlier one gave it.
//!
//! Diagnostics are sorted by position afterwards, as always.

use super::{push_compact, route::Owner, ByName, Checker, Declared};
use crate::ast;
use crate::diagnostics::Diagnostic;
use crate::hash::{HashMap, HashSet};
use crate::ir;
use crate::source::Span;
use crate::target::Concept;
use std::collections::hash_map::Entry;
use std::hash::Hash;

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

/// `items` cut into `shards` runs of consecutive items, of about the same length.
fn split<T>(mut items: Vec<T>, shards: usize) -> Vec<Vec<T>> {
    let size = items.len().div_ceil(shards.max(1)).max(1);
    let mut runs = Vec::with_capacity(shards);
    while items.len() > size {
        let rest = items.split_off(size);
        runs.push(std::mem::replace(&mut items, rest));
    }
    runs.push(items);
    runs
}

/// `work` applied to each run, the first on this thread and each other on a thread of its
/// own; the results in the order of the runs.
fn run<T: Send, R: Send>(runs: Vec<Vec<T>>, work: impl Fn(Vec<T>) -> R + Sync) -> Vec<R> {
    let mut runs = runs.into_iter();
    let Some(first) = runs.next() else {
        return Vec::new();
    };
    std::thread::scope(|scope| {
        let work = &work;
        let others: Vec<_> = runs.map(|run| scope.spawn(move || work(run))).collect();
        let mut results = vec![work(first)];
        for other in others {
            results.push(
                other
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
        }
        results
    })
}

/// Whether two declarations of `items` have the same name in the same namespace.
fn names_clash(items: &[(ast::Item, Option<&str>)]) -> bool {
    let mut seen = HashSet::default();
    seen.reserve(items.len());
    items.iter().any(|(item, namespace)| {
        let name = match item {
            ast::Item::Service(service) => &service.name.node,
            ast::Item::Ingress(ingress) => &ingress.name.node,
            ast::Item::Route(_) | ast::Item::Canary(_) => return false,
        };
        !seen.insert((namespace.unwrap_or("default"), name.as_str()))
    })
}

/// Declares the services and ingresses of `items` (in source order) into `checker`.
pub(super) fn declare<'a>(
    checker: &mut Checker<'a>,
    items: Vec<(ast::Item, Option<&str>)>,
    threads: usize,
) {
    let mut shards = count(threads, items.len());
    if shards > 1 && names_clash(&items) {
        shards = 1;
    }
    let services = |run: &[(ast::Item, Option<&str>)]| {
        let is_service = |(item, _): &&(ast::Item, _)| matches!(item, ast::Item::Service(_));
        run.iter().filter(is_service).count()
    };
    // Sized once: a doubling vector of large items is briefly held twice as it grows.
    checker.decl.services.reserve_exact(services(&items));
    let declare_all = |checker: &mut Checker<'a>, run: Vec<(ast::Item, Option<&str>)>| {
        for (item, namespace) in run {
            match item {
                ast::Item::Service(service) => checker.declare(&service, namespace),
                ast::Item::Ingress(ingress) => checker.declare_ingress(&ingress, namespace),
                ast::Item::Route(_) | ast::Item::Canary(_) => {}
            }
        }
    };
    let mut runs = split(items, shards).into_iter();
    let first = runs.next().unwrap_or_default();
    let (sink, options, incomplete) = (checker.sink.like(), checker.options, checker.incomplete);
    let others = std::thread::scope(|scope| {
        let (declare_all, sink) = (&declare_all, &sink);
        let handles: Vec<_> = runs
            .map(|run| {
                scope.spawn(move || {
                    let mut decl = Box::<Declared>::default();
                    decl.services.reserve_exact(services(&run));
                    let mut shard = Checker::new(decl, sink.like(), options, incomplete);
                    declare_all(&mut shard, run);
                    shard
                })
            })
            .collect();
        declare_all(checker, first);
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
            })
            .collect::<Vec<_>>()
    });
    for shard in others {
        let reports = (shard.sink.diagnostics, shard.unsupported, shard.granted);
        absorb_reports(checker, reports);
        checker.decl.append(*shard.decl);
    }
}

/// Checks the routes of `routes` (in source order) against `checker`'s declarations, and adds
/// each rule to its service or ingress.
pub(super) fn route(
    checker: &mut Checker<'_>,
    routes: Vec<(ast::Route, Option<&str>)>,
    threads: usize,
) {
    let shards = count(threads, routes.len());
    let results = {
        let checker = &*checker;
        run(split(routes, shards), |run| {
            let sink = checker.sink.like();
            let mut shard = Checker::new(&*checker.decl, sink, checker.options, checker.incomplete);
            // What was reported already is not reported again (and not by this shard).
            let reported = checker.unsupported.keys().map(|&key| (key, None));
            shard.unsupported = reported.collect();
            // Each rule goes in a vector of its own, which becomes its owner's `routes` when
            // that owner has one rule (most have): the rule is moved once, not twice.
            let mut rules: Vec<(Owner, Vec<ir::RouteRule>)> = Vec::with_capacity(run.len());
            for (route, namespace) in run {
                if let Some((owner, rule)) = shard.route(&route, namespace) {
                    rules.push((owner, vec![rule]));
                }
            }
            let reports = (shard.sink.diagnostics, shard.unsupported, shard.granted);
            (rules, reports)
        })
    };
    for (rules, reports) in results {
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
        let mut index = 0;
        diagnostics.retain(|_| {
            index += 1;
            !repeated.contains(&(index - 1))
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
