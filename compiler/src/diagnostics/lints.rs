//! Lints: warnings with a name, whose level can be set per run (`-A`, `-W`, `-D` on the
//! command line) and per declaration in source (`@allow(name)`).
//!
//! Every warning code is a lint. Errors and notes are not: they cannot be silenced.

use super::{did_you_mean, Code, Diagnostic, Severity};
use crate::ast;

/// Every lint: its code and its name, in code order.
pub const LINTS: &[(Code, &str)] = &[
    (Code::W0001, "deprecated"),
    (Code::W0002, "unreachable-route"),
    (Code::W0003, "unused-name"),
    (Code::W0004, "literal-template"),
    (Code::W0005, "imported-extra"),
    (Code::W0101, "missing-timeout"),
    (Code::W0102, "missing-circuit-breaker"),
    (Code::W0103, "retry-non-idempotent"),
    (Code::W0104, "retry-budget"),
    (Code::W0105, "fault-disables-retries"),
    (Code::W0106, "mirror-to-destination"),
    (Code::W0107, "eject-all"),
    (Code::W0108, "shadowed-match"),
    (Code::W0109, "missing-readiness-probe"),
    (Code::W0110, "unrouted-deployment"),
    (Code::W0111, "unused-import"),
    (Code::W0112, "uncounted-retries"),
    (Code::W0113, "unused-extra"),
];

/// The name of a lint code.
pub fn name(code: Code) -> Option<&'static str> {
    LINTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// The lint of a name, or the closest name as a suggestion.
pub fn lookup(name: &str) -> Result<Code, Option<&'static str>> {
    // A lint's code works as well as its name: `-A W0101`.
    if let Some(code) = Code::parse(name).filter(|code| self::name(*code).is_some()) {
        return Ok(code);
    }
    LINTS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(code, _)| *code)
        .ok_or_else(|| did_you_mean(name, LINTS.iter().map(|(_, n)| *n)))
}

/// What happens to a lint's diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Dropped.
    Allow,
    /// Reported as a warning (the default).
    Warn,
    /// Reported as an error: the compilation fails.
    Deny,
}

/// Lint levels for one run, in the order given: a later setting for the same lint wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Levels {
    settings: Vec<(Code, Level)>,
    /// `--deny-warnings`: every lint still at `Warn` is denied.
    pub deny_warnings: bool,
}

impl Levels {
    /// Sets the level of one lint.
    pub fn set(&mut self, code: Code, level: Level) {
        self.settings.push((code, level));
    }

    /// The level of a lint.
    pub fn level(&self, code: Code) -> Level {
        let level = self
            .settings
            .iter()
            .rev()
            .find(|(c, _)| *c == code)
            .map_or(Level::Warn, |(_, level)| *level);
        match level {
            Level::Warn if self.deny_warnings => Level::Deny,
            level => level,
        }
    }
}

/// Which lints are silenced where: by `@allow` on a declaration, or for the whole run
/// (`-A`). Built once per compilation, so that the checker can drop a silenced warning as it
/// finds it (a program that allows a lint on every route would otherwise keep one warning per
/// route until the end), and [`Silenced::apply`] the rest.
#[derive(Debug, Default)]
pub struct Silenced {
    /// Per (lint, file), the spans of the declarations that allow it, sorted by start.
    /// Declarations do not overlap, so a lookup is a binary search.
    allowed: crate::hash::HashMap<(Code, crate::source::FileId), Vec<(u32, u32)>>,
    levels: Levels,
}

impl Silenced {
    /// The `@allow` attributes of `files` and the run's `levels`; also every attribute that
    /// names an unknown lint or applies to nothing (E0106).
    pub fn new(files: &[ast::File], levels: &Levels) -> (Silenced, Vec<Diagnostic>) {
        let mut silenced = Silenced {
            allowed: Default::default(),
            levels: levels.clone(),
        };
        let mut problems = Vec::new();
        for allow in files.iter().flat_map(|file| &file.allows) {
            let Some(target) = allow.target else {
                problems.push(Diagnostic::new(
                    Code::E0106,
                    "`@allow` applies to nothing",
                    allow.span,
                    "no declaration follows",
                    "put `@allow(...)` right before the `service`, `ingress` or `route` it is for",
                ));
                continue;
            };
            for lint in &allow.lints {
                match lookup(&lint.node) {
                    Ok(code) => silenced
                        .allowed
                        .entry((code, target.file))
                        .or_default()
                        .push((target.start, target.end)),
                    Err(near) => problems.push(Diagnostic::new(
                        Code::E0106,
                        format!("unknown lint `{}`", lint.node),
                        lint.span,
                        "not a lint",
                        match near {
                            Some(near) => {
                                format!("did you mean `{near}`? `meshc explain` lists every lint")
                            }
                            None => "`meshc explain` lists every lint, with its name".to_string(),
                        },
                    )),
                }
            }
        }
        for targets in silenced.allowed.values_mut() {
            targets.sort_unstable();
        }
        (silenced, problems)
    }

    /// Whether a diagnostic of `code` at `span` is dropped: `code` is a lint, allowed for the
    /// run or by a declaration around `span`.
    pub fn silences(&self, code: Code, span: crate::source::Span) -> bool {
        name(code).is_some() && (self.levels.level(code) == Level::Allow || self.allows(code, span))
    }

    /// Drops the silenced lints from `diagnostics` and makes the denied ones errors.
    pub fn apply(&self, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.retain_mut(|diagnostic| {
            let Some(lint) = name(diagnostic.code) else {
                return true;
            };
            if self.silences(diagnostic.code, diagnostic.primary.span) {
                return false;
            }
            if self.levels.level(diagnostic.code) == Level::Deny {
                diagnostic.severity = Severity::Error;
                diagnostic.notes.push(format!(
                    "`{lint}` is denied for this run (`-D {lint}`, `--deny-warnings`, or mesh.toml)"
                ));
            }
            true
        });
    }

    /// Whether a declaration around `span` allows `code`.
    fn allows(&self, code: Code, span: crate::source::Span) -> bool {
        self.allowed.get(&(code, span.file)).is_some_and(|targets| {
            let after = targets.partition_point(|&(start, _)| start <= span.start);
            targets[..after]
                .iter()
                .rev()
                .take_while(|&&(start, _)| start == targets[after - 1].0)
                .any(|&(_, end)| span.end <= end)
        })
    }
}
