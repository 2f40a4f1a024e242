//! What Resilience4j needs of a route's time limits: its aspects run Retry outside
//! TimeLimiter, so a time limit bounds one call, and nothing bounds a request around its
//! retries (see `emit::resilience4j`).

use super::route::ClauseSpans;
use std::ops::Deref;

use super::{Checker, Declared};
use crate::diagnostics::{Code, Diagnostic};
use crate::emit::resilience4j::WAIT;
use crate::ir;

/// Why a timeout around retries needs every try to fit.
fn note() -> String {
    format!("Resilience4j retries around its TimeLimiter, so a time limit bounds one call: meshc writes the limit of one try, and the request keeps its timeout only if every try and every wait ({WAIT}) fit in it")
}

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// E0304 for `per try` with `backend timeout` (both would be the one TimeLimiter), and
    /// E0411 for a timeout around retries that the tries cannot be made to keep.
    pub(crate) fn resilience4j_time_limits(&mut self, rule: &ir::RouteRule, spans: &ClauseSpans) {
        if let (Some(per_try), Some(backend)) = (spans.per_try, spans.backend_timeout) {
            self.sink.push(
                Diagnostic::new(
                    Code::E0304,
                    "`per try` and `backend timeout` both set Resilience4j's time limiter",
                    backend,
                    "the second limit of one call",
                    "keep one of them: with Resilience4j, each bounds one call",
                )
                .with_secondary(per_try, "the first"),
            );
            return;
        }
        let (Some(retry), Some(timeout), Some(timeout_span)) =
            (rule.retry.as_ref(), rule.timeout, spans.timeout)
        else {
            return;
        };
        // A limit written wrong was reported already, and is not missing.
        let invalid = |span: Option<_>, value: Option<_>| span.is_some() && value.is_none();
        if retry.attempts == 0
            || invalid(spans.per_try, retry.per_try_timeout)
            || invalid(spans.backend_timeout, rule.backend_timeout)
        {
            return;
        }
        let retries = u128::from(retry.attempts);
        let tries = retries + 1;
        let waits = retries * u128::from(WAIT.millis);
        // The longest one try may take for every try and wait to fit in the timeout.
        let fitting = (u128::from(timeout.millis).saturating_sub(waits) / tries) as u64;
        let longest = ir::Duration { millis: fitting };
        let limit = retry
            .per_try_timeout
            .zip(spans.per_try)
            .or(rule.backend_timeout.zip(spans.backend_timeout));
        // Nothing fits when the waits alone take the timeout.
        let help = |fits: String| match fitting {
            0 => "retry fewer times, or lengthen the timeout".to_string(),
            _ => fits,
        };
        let diagnostic = match limit {
            None => Diagnostic::new(
                Code::E0411,
                "Resilience4j cannot time a request around its retries",
                timeout_span,
                "Resilience4j times each call, not the whole request",
                help(format!("add `per try {longest}` (or shorter) to the retry: the longest limit with which every try fits")),
            ),
            // A limit longer than the timeout is E0306 already.
            Some((limit, _)) if limit > timeout => return,
            Some((limit, limit_span)) => {
                let total = tries * u128::from(limit.millis) + waits;
                if total <= u128::from(timeout.millis) {
                    return;
                }
                let total = ir::Duration {
                    millis: u64::try_from(total).unwrap_or(u64::MAX),
                };
                Diagnostic::new(
                    Code::E0411,
                    format!(
                        "Resilience4j cannot keep this timeout: {tries} tries of up to {limit} and {retries} {} of {WAIT} take up to {total}",
                        if retries == 1 { "wait" } else { "waits" }
                    ),
                    timeout_span,
                    format!("longer than {timeout}"),
                    help(format!("shorten the limit per try to {longest} or less, or retry fewer times")),
                )
                .with_secondary(limit_span, "the limit of one try")
            }
        };
        self.sink.push(diagnostic.with_note(note()));
    }
}
