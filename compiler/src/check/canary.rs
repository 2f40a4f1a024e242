//! Canaries: `canary SERVICE { from v1 to v2 steps 10%, 50%, 100% ... }`, checked, and turned
//! into the service's routes for the step being compiled (`--step`).

use std::ops::Deref;

use super::{names, Checker, Declared, Seen};
use crate::ast::{self, CanarySetting};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::source::Span;
use crate::target::{Concept, Target};

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// Checks a canary declaration and attaches it to its service.
    pub(crate) fn canary(&mut self, canary: &ast::Canary, namespace: Option<&str>)
    where
        D: std::ops::DerefMut,
    {
        let Some(namespace) = namespace else { return };
        let Some(service) = self.resolve_service(&canary.service, namespace) else {
            return;
        };
        if let Some(first) = self.canary_spans.get(&service).copied() {
            self.defined_twice(
                format!("`{}` has two canaries", canary.service.node),
                canary.service.span,
                first,
                "roll out one version at a time: merge the two, or finish the first",
            );
            return;
        }
        self.canary_spans.insert(service, canary.service.span);
        let mut seen = Seen::default();
        let mut out = ir::Canary {
            from: String::new(),
            to: String::new(),
            steps: Vec::new(),
            mirror_first: None,
            beta: None,
            max_error_percent: None,
            max_p99: None,
            interval: None,
            failure_limit: None,
            prometheus: None,
        };
        let (mut from, mut to, mut steps) = (None, None, None);
        for setting in &canary.settings {
            let what = match &setting.node {
                CanarySetting::From(_) => "from",
                CanarySetting::To(_) => "to",
                CanarySetting::Steps(_) => "steps",
                CanarySetting::ErrorRate(_) => "check error rate",
                CanarySetting::Latency(_) => "check p99 latency",
                CanarySetting::Interval(_) => "every",
                CanarySetting::FailAfter(_) => "fail after",
                CanarySetting::Beta(_) => "beta",
                CanarySetting::MirrorFirst(_) => "mirror first",
                CanarySetting::Prometheus(_) => "prometheus",
                // Expanded before checking (crate::modules).
                CanarySetting::Use(_) => continue,
            };
            if !seen.first(&mut self.sink, what, setting.span) {
                continue;
            }
            let output = self.service_output();
            let concept = match &setting.node {
                CanarySetting::ErrorRate(_)
                | CanarySetting::Latency(_)
                | CanarySetting::Interval(_)
                | CanarySetting::FailAfter(_)
                | CanarySetting::Prometheus(_) => Some(Concept::CanaryChecks),
                CanarySetting::MirrorFirst(_) => Some(Concept::Mirroring),
                _ => None,
            };
            // Where subsets cannot be expressed, the canary was reported with them.
            if let Some(concept) = concept {
                if output.supports(Concept::Subsets).is_ok()
                    && !self.supported(concept, output, setting.span)
                {
                    continue;
                }
            }
            match &setting.node {
                CanarySetting::From(subset) => {
                    from = self
                        .resolve_subset(subset, service, false)
                        .map(|s| (s, subset.span))
                }
                CanarySetting::To(subset) => {
                    to = self
                        .resolve_subset(subset, service, false)
                        .map(|s| (s, subset.span))
                }
                CanarySetting::Steps(literals) => {
                    steps = Some((self.canary_steps(literals), setting.span))
                }
                CanarySetting::ErrorRate(rate) => {
                    out.max_error_percent = self.sink.percent(rate, "the error-rate limit", false)
                }
                CanarySetting::Latency(latency) => {
                    out.max_p99 = self.sink.duration(latency, "the latency limit")
                }
                CanarySetting::Interval(interval) => {
                    out.interval = self.sink.duration(interval, "the check interval")
                }
                CanarySetting::FailAfter(count) => {
                    out.failure_limit = self.sink.count(
                        count,
                        1,
                        1000,
                        "the failure limit",
                        "the number of failed checks before a rollback, at least 1",
                    )
                }
                CanarySetting::Beta(ast::Condition::Header { name, matcher }) => {
                    let name_ok =
                        self.name_rule(&name.node, name.span, "header name", names::header_name);
                    let matcher = self.string_match(matcher, "header");
                    if let (true, Some(matcher)) = (name_ok, matcher) {
                        out.beta = Some((name.node.clone(), matcher));
                    }
                }
                CanarySetting::Beta(_) | CanarySetting::Use(_) => {}
                CanarySetting::MirrorFirst(percent) => {
                    out.mirror_first = self.sink.percent(percent, "the mirrored share", false)
                }
                CanarySetting::Prometheus(url) => {
                    let valid = (url.node.starts_with("http://")
                        || url.node.starts_with("https://"))
                        && !url.node.contains(char::is_whitespace);
                    if valid {
                        out.prometheus = Some(url.node.clone());
                    } else {
                        self.sink.push(Diagnostic::new(
                            Code::E0205,
                            format!("invalid Prometheus address {:?}", url.node),
                            url.span,
                            "not an http or https URL",
                            "write the address of the Prometheus server, e.g. \"http://prometheus.istio-system:9090\"",
                        ));
                    }
                }
            }
        }
        let missing = |checker: &mut Checker<'_, D>, what: &str, example: &str| {
            checker.sink.push(Diagnostic::new(
                Code::E0308,
                format!("the canary of `{}` has no `{what}`", canary.service.node),
                canary.service.span,
                format!("no `{what}` line"),
                format!("add it, e.g. `{example}`"),
            ));
        };
        match (&from, &to) {
            (Some((from, _)), Some((to, span))) if from == to => self.sink.push(Diagnostic::new(
                Code::E0309,
                "a canary goes from one version to another",
                *span,
                format!("`from` is `{from}` too"),
                "name the subset of the new version after `to`",
            )),
            _ => {}
        }
        if !canary
            .settings
            .iter()
            .any(|s| matches!(s.node, CanarySetting::From(_)))
        {
            missing(self, "from", "from v1");
        }
        if !canary
            .settings
            .iter()
            .any(|s| matches!(s.node, CanarySetting::To(_)))
        {
            missing(self, "to", "to v2");
        }
        match steps {
            None => missing(self, "steps", "steps 10%, 50%, 100%"),
            Some((Some(steps), _)) => out.steps = steps,
            Some((None, _)) => {}
        }
        if self.options.target == Target::Flagger {
            self.flagger_needs(canary, &out, service);
        }
        if self.options.target == Target::ArgoRollouts {
            self.argo_needs(
                canary,
                &out,
                service,
                to.as_ref().map(|(to, _)| to.as_str()),
            );
        }
        let (Some((from, _)), Some((to, _))) = (from, to) else {
            return;
        };
        if from == to || out.steps.is_empty() {
            return;
        }
        out.from = from;
        out.to = to;
        self.decl.services[service].canary = Some(Box::new(out));
    }

    /// E0401 for the parts of a canary that a rollout tool does not run: a beta-tester route
    /// and a mirroring phase.
    fn tool_cannot(&mut self, canary: &ast::Canary, output: &str, help: &str, note: &str) {
        for setting in &canary.settings {
            let what = match setting.node {
                CanarySetting::Beta(_) => "a beta-tester route",
                CanarySetting::MirrorFirst(_) => "a mirroring phase",
                _ => continue,
            };
            self.sink.push(
                Diagnostic::new(
                    Code::E0401,
                    format!("{what} cannot be expressed in {output}"),
                    setting.span,
                    "not supported by this target",
                    help,
                )
                .with_note(note),
            );
        }
    }

    /// With `--target flagger`: what a Flagger `Canary` needs (an interval, a failure limit,
    /// the service's port), and what it cannot do (a beta route, a mirroring phase).
    fn flagger_needs(&mut self, canary: &ast::Canary, out: &ir::Canary, service: usize) {
        let head = canary.service.span;
        let needs = [
            (
                out.interval.is_none(),
                "every",
                "`every 1m` to the canary",
                "the time between checks (`analysis.interval`)",
            ),
            (
                out.failure_limit.is_none(),
                "fail after",
                "`fail after 5` to the canary",
                "failed checks before a rollback (`analysis.threshold`)",
            ),
            (
                self.decl.services[service].port.is_none(),
                "port",
                "`port 8080` to the service",
                "the service's port (`service.port`)",
            ),
        ];
        for (missing, what, example, why) in needs {
            if missing {
                self.sink.push(Diagnostic::new(
                    Code::E0308,
                    format!("a Flagger canary needs `{what}`"),
                    head,
                    format!("no `{what}`: Flagger requires {why}"),
                    format!("add {example}"),
                ));
            }
        }
        self.tool_cannot(canary, "a Flagger weighted canary", "Flagger runs either weights or header matching (A/B), not both: remove it, or use `--target istio` and apply the steps yourself", "with `--target flagger`, a service's canary becomes a Flagger `Canary`");
    }

    /// With `--target argo-rollouts`: what a `Rollout` and its `AnalysisTemplate` need (the
    /// new version's `deploy` block, a Prometheus address for the checks), and what this
    /// output does not do (a beta route, a mirroring phase).
    fn argo_needs(
        &mut self,
        canary: &ast::Canary,
        out: &ir::Canary,
        service: usize,
        to: Option<&str>,
    ) {
        let head = canary.service.span;
        let checks = out.max_error_percent.is_some() || out.max_p99.is_some();
        if checks && out.prometheus.is_none() {
            self.sink.push(Diagnostic::new(
                Code::E0308,
                "the checks of an Argo Rollouts canary need `prometheus`",
                head,
                "no `prometheus` line: the AnalysisTemplate queries it",
                "add `prometheus \"http://prometheus.istio-system:9090\"` (the address of your Prometheus) to the canary",
            ));
        }
        let deployed = to.is_some_and(|to| {
            self.decl.services[service]
                .deployments
                .iter()
                .any(|d| d.version == to)
        });
        if to.is_some() && !deployed {
            self.sink.push(Diagnostic::new(
                Code::E0308,
                "an Argo Rollouts canary needs the new version's `deploy` block",
                head,
                "the Rollout runs the pod template of the version it rolls out",
                "add `deploy VERSION { image \"...\" ... }` for the canary's `to` version to the service",
            ));
        }
        self.tool_cannot(canary, "this Argo Rollouts canary", "remove it, or use `--target istio` and apply the steps yourself", "with `--target argo-rollouts`, a service's canary becomes a Rollout that moves the weights of one named route");
    }

    /// With `--target flagger`, Flagger writes the routes of a service with a canary: only its
    /// catch-all route's timeout and retries carry over (to `service.timeout`, `.retries`).
    pub(crate) fn flagger_owned_routes(&mut self) {
        if self.options.target != Target::Flagger {
            return;
        }
        let mut found = Vec::new();
        for service in &self.decl.services {
            let Some(canary) = &service.canary else {
                continue;
            };
            let catch_all = service.routes.iter().position(|r| r.matches.is_empty());
            for (index, rule) in service.routes.iter().enumerate() {
                let extra = if Some(index) != catch_all {
                    Some("a route with `when`")
                } else if rule.fault.delay.is_some() || rule.fault.abort.is_some() {
                    Some("fault injection")
                } else if rule.mirror.is_some() {
                    Some("mirroring")
                } else if rule.redirect.is_some()
                    || rule.rewrite.path.is_some()
                    || rule.rewrite.authority.is_some()
                {
                    Some("a rewrite or redirect")
                } else if !rule.request_ops().is_empty() || !rule.response_ops().is_empty() {
                    Some("header changes")
                } else if rule.idempotent_only {
                    Some("`idempotent only`")
                } else if rule.destinations.iter().any(|d| {
                    d.service.name != service.name
                        || d.subset.as_ref().is_some_and(|s| *s != canary.from)
                }) {
                    Some("destinations other than the canary's")
                } else {
                    None
                };
                if let Some(what) = extra {
                    found.push((rule.span, what, service.name.clone()));
                }
            }
        }
        // Flagger's `service.trafficPolicy` has no TCP connection pool.
        let tcp: Vec<(Span, String)> = self
            .decl
            .services
            .iter()
            .filter(|s| s.canary.is_some())
            .filter(|s| {
                s.policy
                    .pool
                    .as_ref()
                    .is_some_and(|p| p.max_connections.is_some() || p.connect_timeout.is_some())
            })
            .map(|s| (s.span, s.name.clone()))
            .collect();
        for (span, name) in tcp {
            self.sink.push(
                Diagnostic::new(
                    Code::E0401,
                    format!("the TCP settings of `{name}`'s pool cannot be expressed in a Flagger canary"),
                    span,
                    "`max connections` or `connect timeout` in its `pool`",
                    "keep the HTTP limits (`max pending requests`, `max requests`, ...): Flagger's traffic policy has no TCP connection pool",
                )
                .with_note("with `--target flagger`, a service's canary becomes a Flagger `Canary`, whose `service.trafficPolicy` Flagger copies into its DestinationRules"),
            );
        }
        for (span, what, name) in found {
            self.sink.push(
                Diagnostic::new(
                    Code::E0404,
                    format!("Flagger writes the routes of `{name}`: {what} cannot be kept"),
                    span,
                    "Flagger's canary would replace this",
                    "keep only a route without `when` (its `timeout` and `retry` carry over), or use `--target istio`",
                )
                .with_note("with `--target flagger`, a service's canary becomes a Flagger `Canary`, which generates the VirtualService"),
            );
        }
    }

    /// `steps`: whole percentages, strictly increasing, ending at 100.
    fn canary_steps(&mut self, literals: &[ast::Literal]) -> Option<Vec<u32>> {
        let mut steps: Vec<u32> = Vec::new();
        let mut ok = true;
        for literal in literals {
            let Some(value) = self.sink.percent(literal, "a canary step", true) else {
                ok = false;
                continue;
            };
            let value = value as u32;
            let problem = if value == 0 {
                Some("a step of 0% sends nothing to the new version: start above 0%".to_string())
            } else {
                steps
                    .last()
                    .filter(|last| value <= **last)
                    .map(|last| format!("steps go up: {value}% after {last}%"))
            };
            if let Some(problem) = problem {
                self.sink.push(Diagnostic::new(
                    Code::E0309,
                    problem,
                    literal.span,
                    "out of order",
                    "list the shares of the new version in increasing order, e.g. `steps 10%, 50%, 100%`",
                ));
                ok = false;
            }
            steps.push(value);
        }
        if ok && steps.last() != Some(&100) {
            let last = literals.last().map_or(Span::default(), |l| l.span);
            self.sink.push(Diagnostic::new(
                Code::E0309,
                "a canary ends with all traffic on the new version",
                last,
                "the last step is not 100%",
                "end the steps with `100%`; to stop before, leave the canary out and write the weights as a route",
            ));
            ok = false;
        }
        ok.then_some(steps)
    }

    /// Applies every canary to its service's routes, for the step being compiled (1-based,
    /// the first by default; a canary with fewer steps stays at its last). The step's weights
    /// replace the destinations of the service's catch-all route (its timeouts and retries
    /// stay), or become a route of their own; a beta-tester route goes before it.
    pub(crate) fn canary_routes(&mut self)
    where
        D: std::ops::DerefMut,
    {
        // With Flagger, Flagger moves the weights.
        if self.options.target == Target::Flagger {
            return;
        }
        let step = self.options.step.unwrap_or(1).max(1);
        for (service_index, service) in self.decl.services.iter_mut().enumerate() {
            let Some(canary) = &service.canary else {
                continue;
            };
            let span = self
                .canary_spans
                .get(&service_index)
                .copied()
                .unwrap_or(service.span);
            let own = ir::ServiceRef {
                name: service.name.clone(),
                namespace: service.namespace.clone(),
                host: service.host.clone(),
                port: service.port,
            };
            let dest = |subset: &str, weight: u32| ir::Destination {
                service: own.clone(),
                subset: Some(subset.to_string()),
                weight: Some(weight),
            };
            let index = step.min(canary.step_count()) - 1;
            // The catch-all route stays where it was written (what follows it stays
            // unreachable, W0002); without one, the canary's route goes last.
            let position = service.routes.iter().position(|r| r.matches.is_empty());
            let position = position.unwrap_or_else(|| {
                service.routes.push(ir::RouteRule {
                    span,
                    ..ir::RouteRule::default()
                });
                service.routes.len() - 1
            });
            let mut weighted = service.routes.remove(position);
            // The route may name the service itself or the `from` version; anything else would
            // be silently replaced by the canary's weights.
            let replaced = weighted.destinations.len() > 1
                || weighted.destinations.iter().any(|d| {
                    d.service.name != service.name
                        || d.subset
                            .as_ref()
                            .is_some_and(|subset| *subset != canary.from)
                });
            if replaced {
                self.sink.push(
                    Diagnostic::new(
                        Code::E0404,
                        format!("the canary of `{}` decides where this route goes", service.name),
                        weighted.span,
                        "its destinations would be replaced by the canary's weights",
                        format!(
                            "write `-> {}` (or no `->`) on this route, and let the canary move the traffic",
                            canary.from
                        ),
                    )
                    .with_secondary(span, "the canary"),
                );
            }
            let argo = self.options.target == Target::ArgoRollouts;
            if argo && weighted.idempotent_only {
                self.sink.push(Diagnostic::new(
                    Code::E0404,
                    "Argo Rollouts moves the weights of one route: `idempotent only` would make it two",
                    weighted.span,
                    "split by method into two routes",
                    "remove `idempotent only` here, or use `--target istio`",
                ));
            }
            match (canary.mirror_first, index) {
                // Argo Rollouts starts from the stable version and moves the weights itself.
                _ if argo => {
                    weighted.name = Some(ir::ROLLOUT_ROUTE.to_string());
                    weighted.destinations = vec![dest(&canary.from, 100), dest(&canary.to, 0)];
                }
                (Some(percent), 0) => {
                    weighted.destinations = vec![dest(&canary.from, 100)];
                    weighted.mirror = Some(Box::new(ir::Mirror {
                        service: own.clone(),
                        subset: Some(canary.to.clone()),
                        percent,
                    }));
                }
                _ => {
                    let share = canary.steps[index - usize::from(canary.mirror_first.is_some())];
                    weighted.destinations = if share == 100 {
                        vec![dest(&canary.to, 100)]
                    } else {
                        vec![dest(&canary.from, 100 - share), dest(&canary.to, share)]
                    };
                }
            }
            let mut insert = position;
            if let Some((name, matcher)) = &canary.beta {
                let mut beta = weighted.clone();
                beta.matches = vec![ir::Match {
                    headers: [(name.clone(), matcher.clone())].into_iter().collect(),
                    ..ir::Match::default()
                }];
                beta.destinations = vec![dest(&canary.to, 100)];
                beta.mirror = None;
                service.routes.insert(insert, beta);
                insert += 1;
            }
            service.routes.insert(insert, weighted);
        }
    }
}
