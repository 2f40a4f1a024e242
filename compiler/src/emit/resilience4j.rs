//! Resilience4j: every service's routes and policy → the Spring Boot properties of
//! Resilience4j (`resilience4j-spring-boot3`), one `application.yaml` for the applications
//! that call the services. Resilience4j configures the caller: an application binds a call
//! to an instance by name (`@Retry(name = "research-agent")`).
//!
//! Per service (the checker has rejected everything else): its route without `when` gives
//! a `retry` and a `timelimiter` instance named `routes_name`; its `pool` and `eject` give a
//! `bulkhead` and a `circuitbreaker` instance named `policy_name` (both default to the
//! service name). Values keep the mesh's meaning:
//!
//! - `retry N` counts retries, `maxAttempts` counts calls: `N + 1`. Between tries Resilience4j
//!   waits a fixed `waitDuration` (500ms by default); meshc writes Envoy's base interval, 25ms.
//! - Resilience4j's aspects run Retry outside TimeLimiter, so a TimeLimiter bounds one try: it
//!   is `per try` or `backend timeout` when there are retries, and the route's `timeout`
//!   otherwise. Around retries, the timeout holds when every try and wait fits in it, which
//!   the checker makes sure of (E0411).
//! - `after N consecutive 5xx` is a count-based window of N calls that opens when all of them
//!   fail (100%), for `for D` (Istio's default, 30s, when not given); without a count, Istio's
//!   default, 5. `after 0 consecutive 5xx` turns the check off: no circuit breaker. Calls
//!   slower than the service's time limit fail, so the limit is also the slow-call threshold:
//!   no successful call is slow, and only failures open the breaker, as in a mesh.
//! - `max requests N` is a semaphore bulkhead of N concurrent calls.

use crate::hash::IndexMap;
use serde::Serialize;

use crate::ir;

/// Resilience4j's wait between tries, as Envoy's base retry interval.
pub const WAIT: ir::Duration = ir::Duration { millis: 25 };

/// Istio's defaults for what an `eject` block leaves out.
const DEFAULT_CONSECUTIVE_5XX: u32 = 5;
const DEFAULT_EJECTION_TIME: ir::Duration = ir::Duration { millis: 30_000 };

/// The whole `application.yaml`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Application {
    /// The `resilience4j` prefix.
    pub resilience4j: Modules,
}

/// Resilience4j's modules, each with its instances (in service order).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Modules {
    /// `resilience4j.retry`.
    #[serde(skip_serializing_if = "Instances::is_empty")]
    pub retry: Instances<Retry>,
    /// `resilience4j.circuitbreaker`.
    #[serde(skip_serializing_if = "Instances::is_empty")]
    pub circuitbreaker: Instances<CircuitBreaker>,
    /// `resilience4j.timelimiter`.
    #[serde(skip_serializing_if = "Instances::is_empty")]
    pub timelimiter: Instances<TimeLimiter>,
    /// `resilience4j.bulkhead`.
    #[serde(skip_serializing_if = "Instances::is_empty")]
    pub bulkhead: Instances<Bulkhead>,
}

/// The named instances of a module.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Instances<T> {
    /// Instance name (as a Spring map key) → its properties.
    pub instances: IndexMap<String, T>,
}

impl<T> Default for Instances<T> {
    fn default() -> Self {
        Instances {
            instances: IndexMap::default(),
        }
    }
}

impl<T> Instances<T> {
    fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }
}

/// A retry instance.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    /// Calls in all: the first and the retries.
    pub max_attempts: u64,
    /// The wait between calls.
    pub wait_duration: String,
}

/// A circuit breaker instance.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreaker {
    /// Always `COUNT_BASED`: the last N calls.
    pub sliding_window_type: &'static str,
    /// N.
    pub sliding_window_size: u32,
    /// N: the breaker judges only a full window.
    pub minimum_number_of_calls: u32,
    /// Always 100: every call of the window failed.
    pub failure_rate_threshold: u32,
    /// How long it stays open.
    pub wait_duration_in_open_state: String,
    /// The service's time limit: a call that succeeds within it is never slow, so only
    /// failures open the breaker, as in a mesh (by default, calls over 60s count as slow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_call_duration_threshold: Option<String>,
}

/// A time limiter instance.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TimeLimiter {
    /// The limit of one call.
    pub timeout_duration: String,
}

/// A (semaphore) bulkhead instance.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Bulkhead {
    /// Concurrent calls allowed.
    pub max_concurrent_calls: u32,
}

/// An instance name as a key of a Spring map: a name with a `.` in it is bracketed, or Spring
/// would read the dot as a level of nesting.
fn key(name: &str) -> String {
    if name.contains('.') {
        format!("[{name}]")
    } else {
        name.to_string()
    }
}

/// The time limit of one try of `rule`, if it has one.
pub fn try_limit(rule: &ir::RouteRule) -> Option<ir::Duration> {
    let retries = rule.retry.as_ref().is_some_and(|r| r.attempts > 0);
    let per_try = rule.retry.as_ref().and_then(|r| r.per_try_timeout);
    match (per_try.or(rule.backend_timeout), rule.timeout) {
        (Some(limit), Some(timeout)) if !retries => Some(limit.min(timeout)),
        (Some(limit), _) => Some(limit),
        (None, timeout) if !retries => timeout,
        // Around retries, a timeout alone is E0411.
        (None, _) => None,
    }
}

/// The `application.yaml` of `program`; `None` when no service configures anything.
pub fn application(program: &ir::Program) -> Option<Application> {
    let mut modules = Modules::default();
    for service in &program.services {
        // The first route without `when` takes every call (the checker allows no other).
        let rule = service.routes.iter().find(|r| r.matches.is_empty());
        if let Some(rule) = rule {
            let name = key(&service.routes_name);
            if let Some(retry) = &rule.retry {
                modules.retry.instances.insert(
                    name.clone(),
                    Retry {
                        max_attempts: u64::from(retry.attempts) + 1,
                        wait_duration: WAIT.to_string(),
                    },
                );
            }
            if let Some(limit) = try_limit(rule) {
                modules.timelimiter.instances.insert(
                    name,
                    TimeLimiter {
                        timeout_duration: limit.to_string(),
                    },
                );
            }
        }
        let name = key(&service.policy_name);
        if let Some(eject) = &service.policy.eject {
            let failures = eject.consecutive_5xx.unwrap_or(DEFAULT_CONSECUTIVE_5XX);
            if failures > 0 {
                let open = eject.base_ejection_time.unwrap_or(DEFAULT_EJECTION_TIME);
                modules.circuitbreaker.instances.insert(
                    name.clone(),
                    CircuitBreaker {
                        sliding_window_type: "COUNT_BASED",
                        sliding_window_size: failures,
                        minimum_number_of_calls: failures,
                        failure_rate_threshold: 100,
                        wait_duration_in_open_state: open.to_string(),
                        slow_call_duration_threshold: rule
                            .and_then(try_limit)
                            .map(|limit| limit.to_string()),
                    },
                );
            }
        }
        if let Some(max) = service.policy.pool.as_ref().and_then(|p| p.max_requests) {
            modules.bulkhead.instances.insert(
                name,
                Bulkhead {
                    max_concurrent_calls: max,
                },
            );
        }
    }
    let empty = modules.retry.is_empty()
        && modules.circuitbreaker.is_empty()
        && modules.timelimiter.is_empty()
        && modules.bulkhead.is_empty();
    (!empty).then_some(Application {
        resilience4j: modules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::target::{Options, Target};

    /// The YAML of a program compiled for Resilience4j.
    fn compile(text: &str) -> String {
        let options = Options {
            target: Target::Resilience4j,
            ..Options::default()
        };
        crate::emit::yaml::stream(&crate::testing::manifests_of(text, options))
    }

    #[test]
    fn defaults_are_istios_and_a_zero_count_writes_no_breaker() {
        let yaml = compile(
            "namespace team1\n\
             @allow(missing-circuit-breaker)\nservice a { eject { for 10s } }\n\
             @allow(missing-circuit-breaker)\nservice b { eject { after 0 consecutive 5xx } }\n\
             route a timeout 5s backend timeout 2s\n\
             route b retry 1 backend timeout 2s timeout 10s\n",
        );
        assert_eq!(
            yaml,
            "resilience4j:\n\
             \x20 retry:\n    instances:\n      b:\n        maxAttempts: 2\n        waitDuration: 25ms\n\
             \x20 circuitbreaker:\n    instances:\n      a:\n        slidingWindowType: COUNT_BASED\n\
             \x20       slidingWindowSize: 5\n        minimumNumberOfCalls: 5\n\
             \x20       failureRateThreshold: 100\n        waitDurationInOpenState: 10s\n\
             \x20       slowCallDurationThreshold: 2s\n\
             \x20 timelimiter:\n    instances:\n      a:\n        timeoutDuration: 2s\n\
             \x20     b:\n        timeoutDuration: 2s\n"
        );
    }

    #[test]
    fn a_program_that_configures_nothing_writes_nothing() {
        assert_eq!(
            compile("namespace team1\n@allow(missing-circuit-breaker)\nservice a { }\n"),
            ""
        );
    }

    #[test]
    fn a_dotted_instance_name_is_one_quoted_key() {
        let yaml = compile(
            "namespace team1\n@allow(missing-circuit-breaker)\n\
             service a { routes named \"agents.research\" }\nroute a timeout 5s\n",
        );
        assert_eq!(
            yaml,
            "resilience4j:\n  timelimiter:\n    instances:\n      \"[agents.research]\":\n        timeoutDuration: 5s\n"
        );
    }

    #[test]
    fn dotted_names_are_bracketed() {
        assert_eq!(key("research-agent"), "research-agent");
        assert_eq!(key("agents.research"), "[agents.research]");
    }
}
