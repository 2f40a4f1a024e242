//! `extra` blocks (the escape hatch, crate::extra): their values and paths as the service is
//! declared, then, once the program has no other error, what they do to the emitted objects and
//! whether the objects' schemas accept the result.

use rustc_hash::FxHashMap as HashMap;
use serde_json::Value;

use super::values::Sink;
use std::ops::Deref;

use super::{Checker, Declared};
use crate::ast::{self, LiteralKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::emit::{self, Manifest, Part};
use crate::extra::{self, Kind, Refusal, Step};
use crate::ir;
use crate::source::Span;
use crate::target::{self, Named, Options};

/// The most steps a path may have: far deeper than any field of the objects meshc emits, and a
/// bound on the work each setting costs.
const MAX_STEPS: usize = 64;

impl<D: Deref<Target = Declared>> Checker<'_, D> {
    /// The `extra` blocks of a service: kinds known, paths clear of what meshc models, values
    /// converted.
    pub(super) fn extras(&mut self, blocks: &[&ast::Extra]) -> Vec<ir::Extra> {
        self.checked_extras(blocks, false)
    }

    /// The `extra` blocks of an ingress, which emits one HTTPRoute.
    pub(super) fn ingress_extras(&mut self, blocks: &[&ast::Extra]) -> Vec<ir::Extra> {
        self.checked_extras(blocks, true)
    }

    fn checked_extras(&mut self, blocks: &[&ast::Extra], in_ingress: bool) -> Vec<ir::Extra> {
        let mut out = Vec::new();
        for block in blocks {
            let Some(kind) = Kind::parse(&block.kind.node) else {
                self.unknown_kind(&block.kind);
                continue;
            };
            if in_ingress && kind != Kind::HttpRoute {
                self.sink.push(Diagnostic::new(
                    Code::E0505,
                    format!("`extra` in an ingress cannot extend `{}`", kind.name()),
                    block.kind.span,
                    "an ingress emits one HTTPRoute",
                    "write `extra HTTPRoute` here, or move the block to the service whose object it extends",
                ));
                continue;
            }
            let mut sets = Vec::new();
            for entry in &block.entries {
                match entry {
                    ast::ExtraEntry::Set(set) => sets.extend(self.extra_set(kind, None, set)),
                    ast::ExtraEntry::Group {
                        path, sets: inner, ..
                    } => {
                        for set in inner {
                            sets.extend(self.extra_set(kind, Some(path), set));
                        }
                    }
                }
            }
            out.push(ir::Extra {
                kind,
                span: block.kind.span,
                sets,
            });
        }
        out
    }

    fn unknown_kind(&mut self, kind: &ast::Text) {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        // `did_you_mean` compares without case: `Virtualservice` finds `VirtualService`.
        let close = crate::diagnostics::did_you_mean(&kind.node, names.iter().copied());
        let help = match close {
            Some(name) => format!("did you mean `{name}`?"),
            None => format!(
                "an `extra` block extends an object meshc emits for the service: {}",
                names.join(", ")
            ),
        };
        self.sink.push(Diagnostic::new(
            Code::E0505,
            format!("`extra` cannot extend `{}`", kind.node),
            kind.span,
            "not a kind meshc emits for a service",
            help,
        ));
    }

    /// One setting, its path after the group's (if any).
    fn extra_set(
        &mut self,
        kind: Kind,
        group: Option<&ast::ExtraPath>,
        set: &ast::ExtraSet,
    ) -> Option<ir::ExtraSet> {
        let segments = group
            .into_iter()
            .flat_map(|g| &g.segments)
            .chain(&set.path.segments);
        let mut path = Vec::new();
        let mut path_spans = Vec::new();
        for segment in segments {
            let step = match &segment.node {
                ast::PathSegment::Key(key) | ast::PathSegment::Quoted(key) => {
                    Step::Key(key.clone())
                }
                ast::PathSegment::Index(digits) => match digits.parse::<u32>() {
                    Ok(index) => Step::Index(index as usize),
                    Err(_) => {
                        self.sink.push(Diagnostic::new(
                            Code::E0202,
                            format!("list index `{digits}` is out of range"),
                            segment.span,
                            "too large",
                            "an index counts the items of a list from 0",
                        ));
                        return None;
                    }
                },
            };
            path.push(step);
            path_spans.push(segment.span);
        }
        if path.len() > MAX_STEPS {
            self.sink.push(Diagnostic::new(
                Code::E0505,
                format!("a path of {} steps", path.len()),
                set.path.span,
                format!("more than {MAX_STEPS} steps"),
                "no field of a Kubernetes object is this deep: check the path",
            ));
            return None;
        }
        if let Some((depth, construct)) = extra::modelled(kind, &path) {
            self.sink.push(Diagnostic::new(
                Code::E0504,
                format!(
                    "`{}` is written by meshc: an `extra` block cannot set it",
                    extra::display(&path[..depth])
                ),
                path_spans[depth - 1],
                format!("modelled by {construct}"),
                format!("use the typed form: {construct}"),
            ));
            return None;
        }
        if !matches!(path.first(), Some(Step::Key(k)) if k == "metadata" || k == "spec") {
            self.sink.push(Diagnostic::new(
                Code::E0505,
                format!("`extra` cannot set `{}`", extra::display(&path[..1])),
                path_spans[0],
                "not under `metadata` or `spec`",
                "an `extra` block adds fields under `spec` (or labels and annotations under `metadata`)",
            ));
            return None;
        }
        let (value, item_spans) = match &set.value {
            ast::ExtraValue::Literal(literal) => (self.extra_value(literal)?, Vec::new()),
            ast::ExtraValue::List(items, _) => {
                let values: Option<Vec<Value>> =
                    items.iter().map(|item| self.extra_value(item)).collect();
                (
                    Value::Array(values?),
                    items.iter().map(|i| i.span).collect(),
                )
            }
            ast::ExtraValue::EmptyObject(_) => (Value::Object(serde_json::Map::new()), Vec::new()),
        };
        Some(ir::ExtraSet {
            path,
            path_spans,
            value,
            value_span: set.value.span(),
            item_spans,
        })
    }

    /// A literal as a value of the object: numbers as numbers, durations and words as strings,
    /// `true` and `false` as booleans.
    fn extra_value(&mut self, literal: &ast::Literal) -> Option<Value> {
        let text = &literal.text;
        let wrong = |found: &str, help: &str| {
            Diagnostic::new(
                Code::E0201,
                format!("{found} is not a value of an object's field"),
                literal.span,
                "not a field value",
                help,
            )
        };
        match literal.kind {
            LiteralKind::Int => match text.parse::<u64>() {
                Ok(n) => Some(Value::from(n)),
                Err(_) => {
                    self.sink.push(Diagnostic::new(
                        Code::E0202,
                        format!("`{text}` is too large"),
                        literal.span,
                        "above 18446744073709551615",
                        "a Kubernetes field holds at most a 64-bit number",
                    ));
                    None
                }
            },
            LiteralKind::Float => {
                let number = text.parse::<f64>().ok().filter(|f| f.is_finite());
                match number.and_then(serde_json::Number::from_f64) {
                    Some(number) => Some(Value::Number(number)),
                    None => {
                        self.sink.push(Diagnostic::new(
                            Code::E0202,
                            format!("`{text}` is too large"),
                            literal.span,
                            "beyond a 64-bit floating-point number",
                            "a Kubernetes field holds at most a 64-bit number",
                        ));
                        None
                    }
                }
            }
            LiteralKind::Duration | LiteralKind::String => Some(Value::String(text.clone())),
            LiteralKind::Word => match text.as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                "null" => {
                    self.sink.push(wrong(
                        "`null`",
                        "leave the field out instead: meshc writes no null",
                    ));
                    None
                }
                _ => Some(Value::String(text.clone())),
            },
            LiteralKind::Percent => {
                self.sink.push(wrong(
                    &format!("a percentage (`{text}`)"),
                    &format!(
                        "write the number the field takes (`{}`), or a string (`\"{text}\"`)",
                        text.trim_end_matches('%')
                    ),
                ));
                None
            }
        }
    }
}

/// Applies every service's `extra` blocks to its emitted objects, and checks the result against
/// the objects' schemas: E0304 for a setting that repeats an earlier one, E0504 for a field meshc
/// wrote, E0505 for a path the object does not have, E0506 for what the schema rejects, W0113
/// for a block that extends nothing.
pub(super) fn check_extras(program: &ir::Program, options: Options, sink: &mut Sink) {
    for (index, service) in program.services.iter().enumerate() {
        if service.extras.is_empty() {
            continue;
        }
        let mut objects = Vec::new();
        for part in [
            Part::Workloads(index),
            Part::Policy(index),
            Part::Routes(index),
        ] {
            emit::emit_typed(program, options, part, &mut objects);
        }
        // Flagger writes the routes, policy and Services of a service it rolls out.
        let rolled_out = options.target == target::Target::Flagger && service.canary.is_some();
        let help = rolled_out.then_some(
            "Flagger writes the VirtualService, DestinationRule and Services of a service with a `canary`: remove the block, or allow the lint (`@allow(unused-extra)`) to keep it for another target",
        );
        check_owner(
            &service.name,
            &service.extras,
            &objects,
            help,
            options,
            sink,
        );
    }
    for (index, ingress) in program.ingresses.iter().enumerate() {
        if ingress.extras.is_empty() {
            continue;
        }
        let mut objects = Vec::new();
        emit::emit_typed(program, options, Part::Ingress(index), &mut objects);
        let help = "meshc emits an ingress's HTTPRoute when the ingress has a `route`: add one, or remove the block";
        check_owner(
            &ingress.name,
            &ingress.extras,
            &objects,
            Some(help),
            options,
            sink,
        );
    }
}

/// The diagnostics of the `extras` of a service or ingress `owner`, whose objects are
/// `objects`; `help` for a block that extends nothing, if not a service's.
fn check_owner(
    owner: &str,
    extras: &[ir::Extra],
    objects: &[Manifest],
    help: Option<&str>,
    options: Options,
    sink: &mut Sink,
) {
    let mut found = Vec::new();
    for block in extras {
        if !objects.iter().any(|o| block.kind.matches(o)) {
            sink.push(extends_nothing(owner, block, help, options));
        }
    }
    for object in objects {
        let Some(kind) = extra::kind_of(object) else {
            continue;
        };
        // The first block of the kind, where errors that no setting explains are reported.
        let Some(block) = extras.iter().find(|e| e.kind == kind) else {
            continue;
        };
        let sets: Vec<&ir::ExtraSet> = extra::sets_of(extras, kind).collect();
        found.extend(check_object(object, block, &sets, options));
    }
    // One report for what several objects of a kind (a service's Deployments) share.
    let mut seen = rustc_hash::FxHashSet::default();
    for diagnostic in found {
        let key = (
            diagnostic.code,
            diagnostic.primary.span,
            diagnostic.message.clone(),
            diagnostic.primary.message.clone(),
        );
        if seen.insert(key) {
            sink.push(diagnostic);
        }
    }
}

/// W0113 for a block whose kind its service or ingress `owner` gets no object of; `help` says
/// what makes an ingress's object emitted.
fn extends_nothing(
    owner: &str,
    block: &ir::Extra,
    help: Option<&str>,
    options: Options,
) -> Diagnostic {
    let kind = block.kind.name();
    let help = if let Some(help) = help {
        help.to_string()
    } else if block.kind.emitted_by(options) {
        let what = match block.kind {
            Kind::VirtualService | Kind::HttpRoute => "has a `route`",
            Kind::DestinationRule => "has subsets or policy (`pool`, `eject`, `balance`)",
            Kind::Deployment => "has a `deploy` block",
            Kind::Service => "has a `port` and a `deploy` block",
        };
        format!("meshc emits a {kind} when the service {what}: add that, or remove the block")
    } else {
        "remove the block, or allow the lint (`@allow(unused-extra)`) to keep it for another target"
            .to_string()
    };
    Diagnostic::new(
        Code::W0113,
        format!("`extra {kind}` extends nothing"),
        block.span,
        format!(
            "`{owner}` gets no {} with `--target {}`",
            // Linkerd's HTTPRoutes are not Gateway API's.
            match block.kind {
                Kind::HttpRoute => "Gateway API HTTPRoute",
                _ => kind,
            },
            options.target.name()
        ),
        help,
    )
}

/// The diagnostics of applying `sets` (of `block`'s kind) to `object`.
fn check_object(
    object: &Manifest,
    block: &ir::Extra,
    sets: &[&ir::ExtraSet],
    options: Options,
) -> Vec<Diagnostic> {
    let kind = block.kind.name();
    let mut value = extra::to_value(object);
    let refused = extra::apply(&mut value, sets.iter().copied());
    let mut out = Vec::new();
    for (index, refusal) in &refused {
        let set = sets[*index];
        let at = |depth: usize| set.path_spans[depth.clamp(1, set.path_spans.len()) - 1];
        let path = |depth: usize| extra::display(&set.path[..depth.min(set.path.len())]);
        let whole = set.path.len();
        out.push(match refusal {
            Refusal::Written => Diagnostic::new(
                Code::E0504,
                format!("`{}` is written by meshc: an `extra` block cannot change it", path(whole)),
                at(whole),
                format!("the {kind} already has it"),
                "change it through the construct that writes it (an `extra` block only adds fields)",
            ),
            Refusal::Conflict(earlier) => {
                let earlier = sets[*earlier];
                let (message, help) = if earlier.path == set.path {
                    (
                        format!("`{}` is set twice", path(whole)),
                        "keep one of the two settings".to_string(),
                    )
                } else {
                    let (outer, inner) = if earlier.path.len() < set.path.len() {
                        (&earlier.path, &set.path)
                    } else {
                        (&set.path, &earlier.path)
                    };
                    (
                        format!(
                            "`{}` is inside `{}`, which is set as a whole",
                            extra::display(inner),
                            extra::display(outer)
                        ),
                        format!(
                            "set `{}` either as a whole or part by part, not both",
                            extra::display(outer)
                        ),
                    )
                };
                Diagnostic::new(Code::E0304, message, set.value_span, "set again here", help)
                    .with_secondary(earlier.value_span, "set first here")
            }
            Refusal::NoItem { depth, len } => Diagnostic::new(
                Code::E0505,
                format!("`{}` is not in the {kind}", path(*depth)),
                at(*depth),
                format!(
                    "meshc writes {len} item{} in `{}`",
                    if *len == 1 { "" } else { "s" },
                    path(depth - 1)
                ),
                format!(
                    "an `extra` block adds to the items meshc writes: use an index below {len}"
                ),
            ),
            Refusal::Gap { depth, len } => Diagnostic::new(
                Code::E0505,
                format!("`{}` would leave a gap in the list", path(*depth)),
                at(*depth),
                format!("the list has {len} item{} so far", if *len == 1 { "" } else { "s" }),
                format!("add the items in order: the next one is [{len}]"),
            ),
            Refusal::Shape { depth, found } => Diagnostic::new(
                Code::E0505,
                format!("`{}` is {found} in the {kind}", path(*depth)),
                at(depth + 1),
                if *found == "a list" {
                    "a list takes an index: `[0]`".to_string()
                } else {
                    format!("cannot go into {found}")
                },
                "follow the object's structure: an index into a list, a field into an object",
            ),
        });
    }
    // The sets that apply are checked even when others were refused (those changed nothing).
    let channel = match options.channel {
        target::Channel::Standard => crate::validate::Channel::Standard,
        target::Channel::Experimental => crate::validate::Channel::Experimental,
    };
    let Err(errors) = crate::validate::validate_with_channel(&value, channel) else {
        return out;
    };
    let places = places(sets);
    for error in errors {
        let (path, why) = error.split_once(": ").unwrap_or(("", &error));
        let mut steps = parse_error_path(path);
        let span = loop {
            if let Some(&(key, value)) = places.get(&steps) {
                // An unknown field is its name's mistake; anything else its value's.
                break if why.starts_with("unknown field") {
                    key
                } else {
                    value
                };
            }
            if steps.pop().is_none() {
                break block.span;
            }
        };
        out.push(Diagnostic::new(
            Code::E0506,
            format!("the {kind} with this `extra` value is rejected by its schema"),
            span,
            error.clone(),
            "fix the value: the schema is the upstream CRD meshc embeds, as `meshc validate` applies it",
        ));
    }
    out
}

/// Where each path the sets write is written, as the span of its name and of its value: a
/// prefix of a set's path at its last step (both), the whole path at its last step and the
/// value, a list's items at theirs (the first set to write a path wins).
fn places(sets: &[&ir::ExtraSet]) -> HashMap<Vec<Step>, (Span, Span)> {
    let mut places = HashMap::default();
    for set in sets {
        for (depth, &span) in set.path_spans.iter().enumerate() {
            let value = if depth + 1 == set.path.len() {
                set.value_span
            } else {
                span
            };
            let prefix = set.path[..=depth].to_vec();
            // `validate` writes a map key of digits as `[8080]`, which reads as an index.
            if let Some(Step::Key(key)) = prefix.last() {
                if let Ok(index) = key.parse::<usize>() {
                    let mut as_index = prefix.clone();
                    as_index[depth] = Step::Index(index);
                    places.entry(as_index).or_insert((span, value));
                }
            }
            places.entry(prefix).or_insert((span, value));
        }
        for (index, &span) in set.item_spans.iter().enumerate() {
            let mut path = set.path.clone();
            path.push(Step::Index(index));
            places.entry(path).or_insert((span, span));
        }
    }
    places
}

/// The steps of a path in `validate`'s errors: `spec.http[0].corsPolicy`, map entries as
/// `labels[app.kubernetes.io/name]` (an all-digit entry reads as an index).
fn parse_error_path(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(inside) = rest.strip_prefix('[') {
            let end = inside.find(']').unwrap_or(inside.len());
            let text = &inside[..end];
            steps.push(match text.parse::<usize>() {
                Ok(index) => Step::Index(index),
                Err(_) => Step::Key(text.to_string()),
            });
            rest = inside.get(end + 1..).unwrap_or("");
        } else {
            let key = rest.strip_prefix('.').unwrap_or(rest);
            let end = key.find(['.', '[']).unwrap_or(key.len());
            steps.push(Step::Key(key[..end].to_string()));
            rest = &key[end..];
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_paths_read_as_steps() {
        let key = |k: &str| Step::Key(k.to_string());
        assert_eq!(
            parse_error_path("spec.http[0].corsPolicy.allowOrigins[1].exat"),
            [
                key("spec"),
                key("http"),
                Step::Index(0),
                key("corsPolicy"),
                key("allowOrigins"),
                Step::Index(1),
                key("exat")
            ]
        );
        assert_eq!(
            parse_error_path("metadata.annotations[example.com/owner]"),
            [
                key("metadata"),
                key("annotations"),
                key("example.com/owner")
            ]
        );
        assert_eq!(parse_error_path(""), Vec::<Step>::new());
    }
}
