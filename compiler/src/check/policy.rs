//! Traffic policy: `pool`, `eject` and `balance` on services and subsets.

use std::ops::Deref;

use super::{names, Checker, Declared, Seen};
use crate::ast::{self, EjectKey, PoolKey};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::source::Span;
use crate::target::Concept;

/// The largest value of Istio's int32 counters.
const INT32_MAX: u64 = i32::MAX as u64;

/// Help for a connection-pool `0`, which Envoy reads as "no limit".
const POOL_ZERO_HELP: &str =
    "0 does not mean zero in Istio: it means \"use Envoy's default\" (effectively unlimited); write the limit you want, or leave the setting out";

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// Checks the policy items of one service or subset and merges them.
    pub(crate) fn policy(&mut self, items: Vec<&ast::PolicyItem>) -> ir::TrafficPolicy {
        let mut policy = ir::TrafficPolicy::default();
        let mut seen = Seen::default();
        for item in items {
            match item {
                ast::PolicyItem::Pool(block) => {
                    if seen.first(&mut self.sink, "pool", block.keyword)
                        && self.not_empty(block, "pool")
                    {
                        policy.pool = Some(Box::new(self.pool(block)));
                    }
                }
                ast::PolicyItem::Eject(block) => {
                    if seen.first(&mut self.sink, "eject", block.keyword)
                        && self.not_empty(block, "eject")
                    {
                        policy.eject = Some(Box::new(self.eject(block)));
                    }
                }
                ast::PolicyItem::Balance(balance) => {
                    if seen.first(&mut self.sink, "balance", balance.span) {
                        policy.balance = self.balance(balance).map(Box::new);
                    }
                }
            }
        }
        policy
    }

    /// Whether a part (`part`) of a block (`block`) can be expressed: `false`, with E0401, when
    /// the block can but the part cannot. A block that cannot be expressed was reported
    /// already (on its keyword), and its parts are not reported again.
    fn within(&mut self, block: Concept, part: Concept, span: Span) -> bool {
        let output = self.service_output();
        output.supports(block).is_err() || self.supported(part, output, span)
    }

    fn not_empty<K>(&mut self, block: &ast::Block<K>, what: &str) -> bool {
        if !block.settings.is_empty() {
            return true;
        }
        self.sink.push(Diagnostic::new(
            Code::E0305,
            format!("empty `{what}` block"),
            block.span,
            "no settings",
            format!("add at least one setting, or remove the `{what}` block (Istio rejects an empty one)"),
        ));
        false
    }

    fn pool(&mut self, block: &ast::Block<PoolKey>) -> ir::Pool {
        let mut pool = ir::Pool::default();
        let mut seen = Seen::default();
        for setting in &block.settings {
            let (what, label) = match setting.key {
                PoolKey::MaxConnections => ("max connections", "the connection limit"),
                PoolKey::ConnectTimeout => ("connect timeout", "the connect timeout"),
                PoolKey::MaxPendingRequests => {
                    ("max pending requests", "the pending-request limit")
                }
                PoolKey::MaxRequests => ("max requests", "the request limit"),
                PoolKey::MaxRequestsPerConnection => (
                    "max requests per connection",
                    "the per-connection request limit",
                ),
                PoolKey::MaxRetries => ("max retries", "the retry limit"),
                PoolKey::IdleTimeout => ("idle timeout", "the idle timeout"),
                PoolKey::H2Upgrade => ("h2 upgrade", "the HTTP/2 upgrade policy"),
            };
            if !seen.first(&mut self.sink, what, setting.span) {
                continue;
            }
            let part = match setting.key {
                PoolKey::MaxRequestsPerConnection
                | PoolKey::MaxRetries
                | PoolKey::IdleTimeout
                | PoolKey::H2Upgrade => Some(Concept::PoolTuning),
                PoolKey::MaxConnections | PoolKey::MaxPendingRequests | PoolKey::ConnectTimeout => {
                    Some(Concept::ConnectionLimits)
                }
                PoolKey::MaxRequests => None,
            };
            if part.is_some_and(|part| !self.within(Concept::ConnectionPool, part, setting.span)) {
                continue;
            }
            let value = &setting.value;
            let count =
                |sink: &mut super::Sink| sink.count(value, 1, INT32_MAX, label, POOL_ZERO_HELP);
            match setting.key {
                PoolKey::MaxConnections => pool.max_connections = count(&mut self.sink),
                PoolKey::MaxPendingRequests => pool.max_pending_requests = count(&mut self.sink),
                PoolKey::MaxRequests => pool.max_requests = count(&mut self.sink),
                PoolKey::MaxRequestsPerConnection => {
                    pool.max_requests_per_connection = count(&mut self.sink)
                }
                PoolKey::MaxRetries => pool.max_retries = count(&mut self.sink),
                PoolKey::ConnectTimeout => pool.connect_timeout = self.sink.duration(value, label),
                PoolKey::IdleTimeout => pool.idle_timeout = self.sink.duration(value, label),
                PoolKey::H2Upgrade => {
                    pool.h2_upgrade = self.sink.keyword(
                        value,
                        label,
                        &[
                            ("on", ir::H2Upgrade::Upgrade),
                            ("off", ir::H2Upgrade::DoNotUpgrade),
                            ("default", ir::H2Upgrade::Default),
                        ],
                    )
                }
            }
        }
        pool
    }

    fn eject(&mut self, block: &ast::Block<EjectKey>) -> ir::Eject {
        let mut eject = ir::Eject::default();
        let mut seen = Seen::default();
        let mut deprecated = None;
        for setting in &block.settings {
            let what = match setting.key {
                EjectKey::Consecutive5xx => "after N consecutive 5xx",
                EjectKey::ConsecutiveGatewayErrors => "after N consecutive gateway errors",
                EjectKey::ConsecutiveErrors => "after N consecutive errors",
                EjectKey::Interval => "check every",
                EjectKey::BaseEjectionTime => "for",
                EjectKey::MaxEjectionPercent => "at most",
                EjectKey::MinHealthPercent => "keep N healthy",
            };
            if !seen.first(&mut self.sink, what, setting.span) {
                continue;
            }
            let part = match setting.key {
                EjectKey::ConsecutiveGatewayErrors | EjectKey::MinHealthPercent => {
                    Some(Concept::EjectTuning)
                }
                EjectKey::Interval | EjectKey::MaxEjectionPercent => Some(Concept::EjectionSweep),
                EjectKey::Consecutive5xx
                | EjectKey::ConsecutiveErrors
                | EjectKey::BaseEjectionTime => None,
            };
            if part.is_some_and(|part| !self.within(Concept::OutlierDetection, part, setting.span))
            {
                continue;
            }
            let value = &setting.value;
            let errors_help = "a count of consecutive errors: 0 turns this check off";
            // Resilience4j's window of calls is a Java `int`.
            let max_errors = match self.service_output() {
                crate::target::Output::Resilience4j => INT32_MAX,
                _ => u64::from(u32::MAX),
            };
            match setting.key {
                EjectKey::Consecutive5xx => {
                    eject.consecutive_5xx =
                        self.sink
                            .count(value, 0, max_errors, "the error count", errors_help)
                }
                EjectKey::ConsecutiveGatewayErrors => {
                    eject.consecutive_gateway_errors =
                        self.sink
                            .count(value, 0, max_errors, "the error count", errors_help)
                }
                EjectKey::ConsecutiveErrors => {
                    deprecated = self
                        .sink
                        .count(value, 0, max_errors, "the error count", errors_help)
                        .map(|n| (n, setting.span));
                }
                EjectKey::Interval => {
                    eject.interval = self.sink.duration(value, "the check interval")
                }
                EjectKey::BaseEjectionTime => {
                    eject.base_ejection_time = self.sink.duration(value, "the ejection time")
                }
                EjectKey::MaxEjectionPercent => {
                    eject.max_ejection_percent = self
                        .sink
                        .percent(value, "the ejection limit", true)
                        .map(|p| p as u32)
                }
                EjectKey::MinHealthPercent => {
                    eject.min_health_percent = self
                        .sink
                        .percent(value, "the healthy minimum", true)
                        .map(|p| p as u32)
                }
            }
        }
        if eject.max_ejection_percent == Some(100) && eject.min_health_percent.unwrap_or(0) == 0 {
            let span = block
                .settings
                .iter()
                .find(|s| s.key == EjectKey::MaxEjectionPercent)
                .map_or(block.keyword, |s| s.span);
            self.sink.push(
                Diagnostic::new(
                    Code::W0107,
                    "this outlier detection can eject every instance",
                    span,
                    "nothing stays in the load-balancing pool when all instances fail",
                    // Where `keep N% healthy` cannot be written (Consul), only `at most` helps.
                    if self.service_output().supports(Concept::EjectTuning).is_ok() {
                        "keep some capacity: lower `at most`, or add `keep 25% healthy`"
                    } else {
                        "keep some capacity: lower `at most`"
                    },
                )
                .with_note("when every instance is ejected, every request fails until the ejections expire"),
            );
        }
        if let Some((count, span)) = deprecated {
            let diagnostic = Diagnostic::new(
                Code::W0001,
                "`consecutive errors` is Istio's deprecated `consecutiveErrors`, ignored since Istio 1.7",
                span,
                "deprecated",
                format!("write `after {count} consecutive 5xx` (or `consecutive gateway errors` for 502, 503 and 504 only)"),
            );
            if eject.consecutive_5xx.is_some() {
                self.sink.push(diagnostic.with_note(
                    "this block already sets `consecutive 5xx`, so this line has no effect and meshc emits nothing for it",
                ));
            } else {
                eject.consecutive_5xx = Some(count);
                self.sink.push(diagnostic.with_note(format!(
                    "meshc reads it as `after {count} consecutive 5xx`: for Istio, `consecutive5xxErrors: {count}`, the field Istio reads"
                )));
            }
        }
        eject
    }

    fn balance(&mut self, balance: &ast::Balance) -> Option<ir::Balance> {
        let header = |checker: &mut Checker<'_, D>, name: &ast::Text, what: &str| {
            checker
                .name_rule(&name.node, name.span, what, names::header_name)
                .then(|| name.node.clone())
        };
        Some(match &balance.kind {
            ast::BalanceKind::RoundRobin => ir::Balance::RoundRobin,
            ast::BalanceKind::LeastRequest => ir::Balance::LeastRequest,
            ast::BalanceKind::LeastConn => {
                self.sink.push(
                    Diagnostic::new(
                        Code::W0001,
                        "`least conn` is Istio's deprecated `LEAST_CONN`",
                        balance.span,
                        "deprecated",
                        "write `balance least request`: Istio treats `LEAST_CONN` as `LEAST_REQUEST`",
                    )
                    .with_note("meshc emits `simple: LEAST_REQUEST`"),
                );
                ir::Balance::LeastRequest
            }
            ast::BalanceKind::Random => ir::Balance::Random,
            ast::BalanceKind::Passthrough => {
                if !self.within(
                    Concept::LoadBalancing,
                    Concept::PassthroughBalancing,
                    balance.span,
                ) {
                    return None;
                }
                ir::Balance::Passthrough
            }
            ast::BalanceKind::HashSourceIp => ir::Balance::HashSourceIp,
            ast::BalanceKind::HashHeader(name) => {
                ir::Balance::HashHeader(header(self, name, "header name")?)
            }
            ast::BalanceKind::HashQuery(name) => {
                ir::Balance::HashQuery(header(self, name, "query parameter name")?)
            }
            ast::BalanceKind::HashCookie { name, ttl, path } => {
                let name = header(self, name, "cookie name")?;
                let ttl = match self.sink.single(ttl, "ttl", |l| l.span) {
                    Some(ttl) => Some(self.sink.duration(ttl, "the cookie lifetime")?),
                    None => None,
                };
                let path = self.sink.single(path, "path", |p| p.span);
                ir::Balance::HashCookie {
                    name,
                    ttl,
                    path: path.map(|p| p.node.clone()),
                }
            }
        })
    }
}
