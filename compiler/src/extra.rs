//! The escape hatch: `extra KIND { PATH = VALUE ... }` in a service block adds fields that meshc
//! does not model to the service's emitted objects of kind `KIND`.
//!
//! The checker turns each block into an [`ir::Extra`] (values converted, paths checked against
//! the fields meshc models, [`modelled`]); once the rest of the program is free of errors it
//! emits the service's objects, applies the blocks to them ([`apply`]) and checks the result
//! with [`crate::validate`] (`check/extra.rs`). The emitter then applies the same blocks
//! ([`extend`]), which cannot fail. Design and decisions: `design/adoption.md`, section 3.

use serde_json::Value;

use crate::emit::Manifest;
use crate::ir;
use crate::target::{Options, Target};

/// The kinds an `extra` block may extend: the objects meshc emits for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Istio's routes.
    VirtualService,
    /// Istio's policy and subsets.
    DestinationRule,
    /// Gateway API's routes (`--target gateway-api`).
    HttpRoute,
    /// A version of the service (`deploy`).
    Deployment,
    /// The Kubernetes Service in front of the versions.
    Service,
}

impl Kind {
    /// Every kind, in the order the book lists them.
    pub const ALL: [Kind; 5] = [
        Kind::VirtualService,
        Kind::DestinationRule,
        Kind::HttpRoute,
        Kind::Deployment,
        Kind::Service,
    ];

    /// The kind as Kubernetes writes it, and as an `extra` block names it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::VirtualService => "VirtualService",
            Kind::DestinationRule => "DestinationRule",
            Kind::HttpRoute => "HTTPRoute",
            Kind::Deployment => "Deployment",
            Kind::Service => "Service",
        }
    }

    /// The API group of the objects the kind extends (Linkerd's `policy.linkerd.io`
    /// HTTPRoutes are not Gateway API's).
    pub fn group(self) -> &'static str {
        match self {
            Kind::VirtualService | Kind::DestinationRule => "networking.istio.io",
            Kind::HttpRoute => "gateway.networking.k8s.io",
            Kind::Deployment => "apps",
            Kind::Service => "",
        }
    }

    /// The kind an `extra` block names, if it is one.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Whether `manifest` is an object of this kind.
    pub fn matches(self, manifest: &Manifest) -> bool {
        let group = manifest
            .api_version()
            .map(|v| v.rsplit_once('/').map_or("", |(group, _)| group));
        manifest.kind() == self.name() && group == Some(self.group())
    }

    /// Whether `options`' output has objects of this kind at all (for a service that needs
    /// one).
    pub fn emitted_by(self, options: Options) -> bool {
        match self {
            Kind::VirtualService | Kind::DestinationRule => matches!(
                options.target,
                Target::Istio | Target::Flagger | Target::ArgoRollouts
            ),
            Kind::HttpRoute => options.target == Target::GatewayApi,
            Kind::Deployment | Kind::Service => true,
        }
    }

    /// The fields meshc writes for this kind, as patterns (`[]`: any list item), each with the
    /// construct that sets it. An `extra` block may not set them, nor anything under them.
    fn modelled(self) -> &'static [(&'static str, &'static str)] {
        const COMMON: [(&str, &str); 4] = [
            ("apiVersion", "the target (`--target`)"),
            ("kind", "the `extra` block's kind"),
            (
                "metadata.name",
                "the service's name, or `routes named` / `policy named`",
            ),
            ("metadata.namespace", "`namespace`"),
        ];
        const VIRTUAL_SERVICE: &[(&str, &str)] = &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            ("spec.hosts", "the service's `host`"),
            ("spec.gateways", "an `ingress` block"),
            ("spec.http[].match", "`when ...` on the route"),
            ("spec.http[].route", "the route's destinations (`-> ...`)"),
            ("spec.http[].redirect", "`redirect ...`"),
            ("spec.http[].rewrite", "`rewrite ...`"),
            ("spec.http[].timeout", "`timeout ...`"),
            ("spec.http[].retries", "`retry ...`"),
            ("spec.http[].fault", "`fault ...`"),
            ("spec.http[].mirror", "`mirror ...`"),
            ("spec.http[].mirrorPercentage", "`mirror ... N%`"),
            ("spec.http[].mirrors", "`mirror ...`"),
            (
                "spec.http[].headers",
                "`request set/add/remove ...` and `response ...`",
            ),
        ];
        const TRAFFIC_POLICY: [(&str, &str); 3] = [
            ("connectionPool", "`pool { ... }`"),
            ("outlierDetection", "`eject { ... }`"),
            ("loadBalancer", "`balance ...`"),
        ];
        const DESTINATION_RULE: &[(&str, &str)] = &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            ("spec.host", "the service's `host`"),
            ("spec.subsets[].name", "`subset NAME (...)`"),
            ("spec.subsets[].labels", "`subset NAME (labels)`"),
            ("spec.trafficPolicy.connectionPool", TRAFFIC_POLICY[0].1),
            ("spec.trafficPolicy.outlierDetection", TRAFFIC_POLICY[1].1),
            ("spec.trafficPolicy.loadBalancer", TRAFFIC_POLICY[2].1),
            (
                "spec.subsets[].trafficPolicy.connectionPool",
                TRAFFIC_POLICY[0].1,
            ),
            (
                "spec.subsets[].trafficPolicy.outlierDetection",
                TRAFFIC_POLICY[1].1,
            ),
            (
                "spec.subsets[].trafficPolicy.loadBalancer",
                TRAFFIC_POLICY[2].1,
            ),
        ];
        const HTTP_ROUTE: &[(&str, &str)] = &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            (
                "spec.parentRefs",
                "the service itself, or an `ingress` block's `gateway`",
            ),
            ("spec.hostnames", "an `ingress` block's `hostname`"),
            ("spec.rules[].matches", "`when ...` on the route"),
            (
                "spec.rules[].backendRefs",
                "the route's destinations (`-> ...`)",
            ),
            (
                "spec.rules[].filters",
                "`rewrite`, `redirect`, `mirror` and header changes",
            ),
            (
                "spec.rules[].timeouts",
                "`timeout ...` and `backend timeout ...`",
            ),
            ("spec.rules[].retry", "`retry ...`"),
        ];
        const DEPLOYMENT: &[(&str, &str)] = &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            ("spec.replicas", "`replicas N`"),
            ("spec.selector", "the service and its `deploy` version"),
            (
                "spec.template.metadata.labels",
                "the service and its `deploy` version",
            ),
            ("spec.template.spec.containers[].name", "`container NAME`"),
            ("spec.template.spec.containers[].image", "`image \"...\"`"),
            ("spec.template.spec.containers[].ports", "`port N`"),
            (
                "spec.template.spec.containers[].env",
                "`env NAME = \"...\"`",
            ),
            (
                "spec.template.spec.containers[].readinessProbe",
                "`ready http ...`",
            ),
            (
                "spec.template.spec.containers[].resources",
                "`requests ...` and `limits ...`",
            ),
        ];
        const SERVICE: &[(&str, &str)] = &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
            ("spec.selector", "the service's name (pods labelled `app`)"),
            ("spec.ports", "the service's `port`"),
        ];
        match self {
            Kind::VirtualService => VIRTUAL_SERVICE,
            Kind::DestinationRule => DESTINATION_RULE,
            Kind::HttpRoute => HTTP_ROUTE,
            Kind::Deployment => DEPLOYMENT,
            Kind::Service => SERVICE,
        }
    }
}

/// One step of a path into an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// A field or map key.
    Key(String),
    /// A list item.
    Index(usize),
}

/// `spec.http[0].corsPolicy`, in `.mesh` syntax (a key that is not a word as `["key"]`).
pub fn display(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) if is_word(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Key(key) => {
                out.push('[');
                out.push_str(&crate::syntax::print::quoted(key));
                out.push(']');
            }
            Step::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// Whether `key` can be written as a path's `.key` (`extra_key` in the grammar): the first
/// step of a path must be one.
pub fn is_word(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The modelled field that `path` is, or is under, for `kind`: how many of the path's steps
/// name it, and the construct that sets it.
pub fn modelled(kind: Kind, path: &[Step]) -> Option<(usize, &'static str)> {
    kind.modelled().iter().find_map(|&(pattern, construct)| {
        let steps = pattern_steps(pattern);
        let under = path.len() >= steps.len() && follows(&path[..steps.len()], &steps);
        under.then_some((steps.len(), construct))
    })
}

/// Whether `path` leads to a field of `kind` that meshc models without reaching it: `spec`,
/// `spec.http[0]`.
pub fn leads_to_modelled(kind: Kind, path: &[Step]) -> bool {
    kind.modelled().iter().any(|&(pattern, _)| {
        let steps = pattern_steps(pattern);
        path.len() < steps.len() && follows(path, &steps[..path.len()])
    })
}

/// A pattern's steps: a key, or (`None`) any list index.
fn pattern_steps(pattern: &str) -> Vec<Option<&str>> {
    let mut steps = Vec::new();
    for part in pattern.split('.') {
        match part.strip_suffix("[]") {
            Some(key) => steps.extend([Some(key), None]),
            None => steps.push(Some(part)),
        }
    }
    steps
}

/// Whether `path` is the steps of `pattern` (of the same length).
fn follows(path: &[Step], pattern: &[Option<&str>]) -> bool {
    path.iter()
        .zip(pattern)
        .all(|(step, want)| match (step, want) {
            (Step::Key(key), Some(want)) => key == want,
            (Step::Index(_), None) => true,
            _ => false,
        })
}

/// Why a setting of an `extra` block could not be applied to an emitted object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The object already has a value there: meshc writes it.
    Written,
    /// An earlier setting of the blocks already set this path or one above it (the index of
    /// that setting among all the settings applied).
    Conflict(usize),
    /// `[N]` past the end of a list meshc writes (it has `len` items).
    NoItem {
        /// How many of the path's steps lead to the list, index included.
        depth: usize,
        /// The list's length.
        len: usize,
    },
    /// `[N]` that would leave a gap in a list the blocks build (it has `len` items so far).
    Gap {
        /// As in [`Refusal::NoItem`].
        depth: usize,
        /// The list's length so far.
        len: usize,
    },
    /// The path goes through a value of another shape: a key into a list or a scalar, or an
    /// index into an object or a scalar.
    Shape {
        /// How many steps lead to the value.
        depth: usize,
        /// What the value is: `a list`, `an object`, `a string`, ...
        found: &'static str,
    },
}

/// Applies `sets` to `object` in order; returns the refused ones (index into `sets`, why),
/// which change nothing. Lists and objects the sets create are theirs: a later set may add to
/// them (a list grows by `[len]`); what was in `object` before may not be changed.
pub fn apply<'s>(
    object: &mut Value,
    sets: impl IntoIterator<Item = &'s ir::ExtraSet>,
) -> Vec<(usize, Refusal)> {
    use rustc_hash::{FxHashMap, FxHashSet};
    let mut refused = Vec::new();
    // The paths the sets wrote, with the set that wrote each; every shorter part of them; and
    // the lists and objects they created on the way. Looked up by path, so that many settings
    // cost linear time.
    let mut written: FxHashMap<&[Step], usize> = FxHashMap::default();
    let mut under: FxHashMap<&[Step], usize> = FxHashMap::default();
    let mut created: FxHashSet<&[Step]> = FxHashSet::default();
    for (index, set) in sets.into_iter().enumerate() {
        let path = set.path.as_slice();
        let earlier = (1..=path.len())
            .find_map(|depth| written.get(&path[..depth]))
            .or_else(|| under.get(path));
        if let Some(&earlier) = earlier {
            refused.push((index, Refusal::Conflict(earlier)));
            continue;
        }
        match set_at(object, path, &set.value, &created) {
            Ok(made) => {
                written.insert(path, index);
                for depth in 1..path.len() {
                    under.entry(&path[..depth]).or_insert(index);
                }
                created.extend(made.into_iter().map(|depth| &path[..depth]));
            }
            Err(refusal) => refused.push((index, refusal)),
        }
    }
    refused
}

/// Sets `value` at `path` in `object`, creating the objects and lists on the way (a list only
/// grows if it is one of `created`); returns how many steps lead to each container it created.
fn set_at(
    object: &mut Value,
    path: &[Step],
    value: &Value,
    created: &rustc_hash::FxHashSet<&[Step]>,
) -> Result<Vec<usize>, Refusal> {
    let Some((last, parents)) = path.split_last() else {
        return Err(Refusal::Written);
    };
    // Check first, so that a refused set changes nothing.
    let mut at: Option<&Value> = Some(object);
    for (depth, step) in path.iter().enumerate() {
        let Some(current) = at else {
            // From here on the setting makes every container: a list it makes starts at [0].
            let gap = path[depth..]
                .iter()
                .position(|step| matches!(step, Step::Index(i) if *i > 0));
            if let Some(offset) = gap {
                return Err(Refusal::Gap {
                    depth: depth + offset + 1,
                    len: 0,
                });
            }
            break;
        };
        at = match (current, step) {
            (Value::Object(map), Step::Key(key)) => map.get(key),
            (Value::Array(items), Step::Index(i)) if *i < items.len() => items.get(*i),
            (Value::Array(items), Step::Index(i)) if created.contains(&path[..depth]) => {
                if *i > items.len() {
                    return Err(Refusal::Gap {
                        depth: depth + 1,
                        len: items.len(),
                    });
                }
                None
            }
            (Value::Array(items), Step::Index(_)) => {
                return Err(Refusal::NoItem {
                    depth: depth + 1,
                    len: items.len(),
                })
            }
            (other, _) => {
                return Err(Refusal::Shape {
                    depth,
                    found: describe(other),
                })
            }
        };
        if depth + 1 == path.len() && at.is_some() {
            return Err(Refusal::Written);
        }
    }
    // Every step is possible: make the containers and set the value.
    let mut made = Vec::new();
    let mut current = object;
    for (depth, (step, next)) in parents.iter().zip(&path[1..]).enumerate() {
        let empty = match next {
            Step::Key(_) => Value::Object(serde_json::Map::new()),
            Step::Index(_) => Value::Array(Vec::new()),
        };
        current = match (current, step) {
            (Value::Object(map), Step::Key(key)) => map.entry(key.clone()).or_insert_with(|| {
                made.push(depth + 1);
                empty
            }),
            (Value::Array(items), Step::Index(i)) => {
                if *i == items.len() {
                    made.push(depth + 1);
                    items.push(empty);
                }
                &mut items[*i]
            }
            _ => unreachable!("checked above"),
        };
    }
    match (current, last) {
        (Value::Object(map), Step::Key(key)) => {
            map.insert(key.clone(), value.clone());
        }
        (Value::Array(items), Step::Index(_)) => items.push(value.clone()),
        _ => unreachable!("checked above"),
    }
    Ok(made)
}

/// A value's shape, for [`Refusal::Shape`].
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The kind of `manifest`, if `extra` blocks can extend it.
pub fn kind_of(manifest: &Manifest) -> Option<Kind> {
    Kind::ALL.into_iter().find(|kind| kind.matches(manifest))
}

/// The settings of the blocks of `extras` that extend `kind`, in source order.
pub fn sets_of(extras: &[ir::Extra], kind: Kind) -> impl Iterator<Item = &ir::ExtraSet> {
    extras
        .iter()
        .filter(move |e| e.kind == kind)
        .flat_map(|e| &e.sets)
}

/// The object `manifest` is, as a value with its fields in order.
pub fn to_value(manifest: &Manifest) -> Value {
    serde_json::to_value(manifest).expect("a manifest is plain data: maps with string keys")
}

/// `manifest` with the `extra` blocks of `extras` that name its kind applied (emission: the
/// checker has applied them already and refused what does not apply).
pub fn extend(manifest: &mut Manifest, extras: &[ir::Extra]) {
    let Some(kind) = kind_of(manifest).filter(|&k| extras.iter().any(|e| e.kind == k)) else {
        return;
    };
    let mut value = to_value(manifest);
    let refused = apply(&mut value, sets_of(extras, kind));
    debug_assert!(refused.is_empty(), "checked: {refused:?}");
    let (Some(api_version), Some(metadata)) = (manifest.api_version(), manifest.metadata()) else {
        return;
    };
    *manifest = Manifest::Extended(Box::new(crate::emit::Extended {
        api_version,
        kind: manifest.kind(),
        metadata: metadata.clone(),
        value,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Step {
        Step::Key(k.to_string())
    }

    fn set(path: Vec<Step>, value: Value) -> ir::ExtraSet {
        let span = crate::Span {
            file: 0,
            start: 0,
            end: 0,
        };
        ir::ExtraSet {
            path_spans: vec![span; path.len()],
            path,
            value,
            value_span: span,
            item_spans: Vec::new(),
        }
    }

    #[test]
    fn sets_add_fields_and_never_change_what_is_there() {
        let mut object = serde_json::json!({"spec": {"http": [{"route": []}], "hosts": ["a"]}});
        let sets = [
            set(
                vec![
                    key("spec"),
                    key("http"),
                    Step::Index(0),
                    key("corsPolicy"),
                    key("maxAge"),
                ],
                "24h".into(),
            ),
            // The list meshc writes has one rule.
            set(
                vec![key("spec"), key("http"), Step::Index(1), key("name")],
                "x".into(),
            ),
            set(vec![key("spec"), key("hosts")], serde_json::json!(["b"])),
            // A list the sets build grows item by item.
            set(
                vec![key("spec"), key("exportTo"), Step::Index(0)],
                ".".into(),
            ),
            set(
                vec![key("spec"), key("exportTo"), Step::Index(2)],
                "x".into(),
            ),
            set(
                vec![key("spec"), key("exportTo"), Step::Index(1)],
                "y".into(),
            ),
            set(vec![key("spec"), key("hosts"), key("x")], 1.into()),
            set(vec![key("spec"), key("exportTo")], 1.into()),
            // A list that a setting makes starts at [0], however deep.
            set(
                vec![key("spec"), key("foo"), Step::Index(2), key("bar")],
                1.into(),
            ),
            set(
                vec![
                    key("spec"),
                    key("tcp"),
                    Step::Index(0),
                    key("route"),
                    Step::Index(1),
                ],
                1.into(),
            ),
        ];
        let refused = apply(&mut object, &sets);
        assert_eq!(
            refused,
            [
                (1, Refusal::NoItem { depth: 3, len: 1 }),
                (2, Refusal::Written),
                (4, Refusal::Gap { depth: 3, len: 1 }),
                (
                    6,
                    Refusal::Shape {
                        depth: 2,
                        found: "a list"
                    }
                ),
                (7, Refusal::Conflict(3)),
                (8, Refusal::Gap { depth: 3, len: 0 }),
                (9, Refusal::Gap { depth: 5, len: 0 }),
            ]
        );
        assert_eq!(
            object,
            serde_json::json!({"spec": {
                "http": [{"route": [], "corsPolicy": {"maxAge": "24h"}}],
                "hosts": ["a"],
                "exportTo": [".", "y"],
            }})
        );
    }

    #[test]
    fn modelled_fields_are_found_with_their_depth() {
        let path = [
            key("spec"),
            key("http"),
            Step::Index(3),
            key("retries"),
            key("attempts"),
        ];
        assert_eq!(
            modelled(Kind::VirtualService, &path),
            Some((4, "`retry ...`"))
        );
        let cors = [key("spec"), key("http"), Step::Index(0), key("corsPolicy")];
        assert_eq!(modelled(Kind::VirtualService, &cors), None);
        let tls = [key("spec"), key("trafficPolicy"), key("tls")];
        assert_eq!(modelled(Kind::DestinationRule, &tls), None);
        let pool = [key("spec"), key("trafficPolicy"), key("connectionPool")];
        assert_eq!(
            modelled(Kind::DestinationRule, &pool),
            Some((3, "`pool { ... }`"))
        );
        assert!(leads_to_modelled(Kind::DestinationRule, &pool[..2]));
        assert!(!leads_to_modelled(Kind::DestinationRule, &pool));
        assert!(!leads_to_modelled(Kind::DestinationRule, &tls));
        assert!(leads_to_modelled(Kind::VirtualService, &cors[..3]));
        assert!(!leads_to_modelled(Kind::VirtualService, &cors));
    }

    #[test]
    fn paths_are_shown_in_mesh_syntax() {
        let path = [
            key("metadata"),
            key("annotations"),
            key("example.com/owner"),
            Step::Index(2),
        ];
        assert_eq!(
            display(&path),
            "metadata.annotations[\"example.com/owner\"][2]"
        );
    }
}
