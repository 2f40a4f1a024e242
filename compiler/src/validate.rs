//! Validates Kubernetes manifests against the upstream CRDs embedded from `schemas/crds/`, and the built-in
//! kinds `apps/v1` `Deployment` and `v1` `Service` against Kubernetes' OpenAPI v3 documents embedded from
//! `schemas/kubernetes/` (see "Built-in kinds" below; provenance in `schemas/README.md`).
//!
//! This is a small OpenAPI v3 validator for the structural schemas of Kubernetes CRDs: it says whether the
//! API server would accept a manifest, whether `meshc` emitted it (the test suite checks every manifest of
//! every example) or not (`meshc validate`). Like the rest of the library it does no I/O: the schemas are
//! compiled in, and parsed once, when first needed. It is stricter than the
//! API server in three ways: unknown fields are errors (the API server prunes them unless the client asks
//! for strict field validation, which `kubectl apply` does); so is `null` in a field that is not `nullable`
//! (the API server drops it); and so is a number outside its `format: int32 | uint32 | int64` (the API server
//! ignores these formats, but the Go and protobuf fields behind them cannot hold such a number).
//!
//! Each error is one string, `<JSON path>: <what is wrong>`, e.g. `spec.http[0].retries.attemps: unknown
//! field (did you mean `attempts`?)` (an unknown field names the closest declared one, when one is close);
//! map entries are written `headers[x-user-type]`. All errors are reported, sorted.
//!
//! Kinds: Istio `VirtualService` and `DestinationRule`; Gateway API `HTTPRoute` (standard or experimental
//! channel, see [`Channel`]) and `ReferenceGrant`; Flagger `Canary`, `MetricTemplate` and `AlertProvider`
//! (`flagger.app/v1beta1`, three CRDs in one multi-document file); Argo Rollouts `Rollout` and
//! `AnalysisTemplate` (`argoproj.io/v1alpha1`); prometheus-operator `PrometheusRule`
//! (`monitoring.coreos.com/v1`); Linkerd's `HTTPRoute` (`policy.linkerd.io`, a Helm chart template whose
//! `{{ ... }}` directives are replaced by `X` before parsing); every served version of each. Built-in: `apps/v1` `Deployment` and `v1`
//! `Service` ([`validate`] and [`validate_with_channel`] only, not [`validate_with_crd`]). A `Rollout`'s pod
//! template is checked against the Rollout CRD's schema only, as the API server does (the CRD describes it
//! in full, except `resources.limits`/`requests` and `volumes`, which keep any content): none of the
//! native pod-template rules of the built-in `Deployment` below apply to it.
//!
//! Like the API server, the `default`s of the schema are filled in first (recursively, also inside list
//! items, map values and the defaults themselves), then the result is validated.
//!
//! Checked: top-level fields, `metadata` (name, namespace, labels, annotations), and for `spec`: `type`,
//! `x-kubernetes-int-or-string`, `nullable`, `x-kubernetes-preserve-unknown-fields`, `properties`,
//! `additionalProperties`, unknown fields (allowed under `x-kubernetes-preserve-unknown-fields`, where
//! declared fields are still checked), `required`, `enum`, `pattern`, `minimum`/`maximum` (+ exclusive),
//! `minLength`/`maxLength` (in characters), `minItems`/`maxItems`, `minProperties`/`maxProperties`, the ranges
//! of `format: int32 | uint32 | int64`, the string formats `date-time`, `date` and `byte` (see "Formats"
//! below), `oneOf`/`anyOf`/`allOf`/`not` with JSON-schema semantics, `x-kubernetes-list-type: set | map`
//! uniqueness, and the CEL rules (`x-kubernetes-validations`).
//!
//! CEL rules: there is no CEL interpreter here. Every rule text of the embedded CRDs is recognised by its
//! exact text and evaluated by a hand-written Rust function (the table `CEL_RULES`), with `self` bound to the
//! value at the schema node that declares the rule (defaults filled in), once that value has passed its type
//! check. A failed rule reads `<path>: <the rule's message>`, the CRD's `message` verbatim; Istio's duration
//! rule `duration(self) >= duration('1ms')` adds why, e.g. `...: "0s" is less than 1ms`. A rule that would
//! stop with a CEL runtime error (a field it reads is missing or of the wrong type) is reported only when the
//! value has no other error, since those explain it. A rule text listed in the table `NOT_EVALUATED` is
//! skipped (the table says why: at the moment only the Rollout's transition rule `self == oldSelf` on
//! `spec.selector`, which the API server runs on updates only); any other rule text, e.g. one that a CRD
//! update brings, is an error, `unknown CEL rule at <path>: <rule>`, so that a new rule is never ignored
//! silently.
//! So are keys of a rule other than `rule` and `message` (`messageExpression`, `fieldPath`, `reason`, ...).
//! Unlike the API server, the rules are evaluated even when the manifest has other errors (the API server
//! skips them all after a type, required, enum or too-long/too-many error), so a manifest may get more errors
//! here. [`embedded_cel_rules`] lists the rules of the embedded CRDs and how each is handled.
//!
//! Formats: like the API server, a string is checked against its `format` only when the format is in the
//! API server's registry (kube-openapi `strfmt`; names compared without `-`): `date-time` (e.g.
//! `2026-01-02T15:04:05Z`; seconds and a zone required), `date` (`2026-01-02`), `byte` (padded standard
//! base64) and `password` (anything) are checked as the registry checks them; `duration` (Linkerd's
//! timeouts) must be a Go duration (`30s`, `1m30s`), stricter than the registry, which also takes days and
//! weeks; another format of the registry (`uri`, `hostname`, `ipv4`, `uuid`, ...; none of the embedded CRDs
//! uses one) is reported as not supported by this validator. Formats outside the registry (`url`, `string`, `double`,
//! ...) are ignored, as the API server ignores them; `int32`, `uint32` and `int64` are number ranges (above).
//!
//! `pattern` is run with the `regex` crate, which is not ECMA-262: a pattern it cannot compile is reported
//! as an error, never ignored. A schema keyword this file does not know is reported as an error too, so
//! nothing is skipped silently. `status` is not validated.
//!
//! # Built-in kinds
//!
//! `apps/v1` `Deployment` (schema `io.k8s.api.apps.v1.Deployment` of `apis__apps__v1_openapi.json`) and `v1`
//! `Service` (`io.k8s.api.core.v1.Service` of `api__v1_openapi.json`), Kubernetes v1.36 (provenance in
//! `schemas/README.md`). Each document is parsed once; the kind's schema is then resolved once into the
//! structural form the checks above use: every `$ref` and `allOf: [{$ref}]` wrapper is replaced by the schema
//! it names (the wrapper's other keywords, e.g. `default`, kept; a `$ref` cycle is an error, and there is
//! none in these documents),
//! `IntOrString` becomes `x-kubernetes-int-or-string` (its integer an int32), `Quantity` a string or number
//! whose string must parse as a quantity (Kubernetes' regular expression
//! `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`, at most one `.`, and a known suffix: `m`, `Mi`, `e3`, ...),
//! `ObjectMeta` the `metadata` checks above (in a pod template: `name` optional), and an object schema
//! without `properties` or `additionalProperties` (`RawExtension`, `FieldsV1`) keeps any content. Then the
//! same checks apply: types, `required`, unknown fields, maps (`additionalProperties`), int32/int64 ranges,
//! list-map keys. `status` is ignored.
//!
//! The API server decodes a built-in object into its Go type, fills in defaults and runs hand-written
//! ("native") validation, of which the OpenAPI document says little. Emulated here:
//! - Defaults: the documents' `default`s are filled in, except for a `required` property: such a default is
//!   only the Go zero value (`""`, `0`, `{}`) that native validation rejects as `Required value`, so it is
//!   reported as a missing field instead (`spec.template: required field is missing`). A Deployment without
//!   `spec` gets the default `{}`, so its `spec.selector` and `spec.template` are missing.
//! - Enums: the published documents have none (removed upstream in 1.24); the values of a few `+enum` fields
//!   are taken from k8s.io/api v1.36 (`types.go`) instead, see `NATIVE_ENUMS`. Unlike the API server, which
//!   defaults an empty string to the field's default value first, `""` is rejected there.
//! - Deployment: `spec.replicas` not negative; `spec.selector` not empty, `matchLabels` keys and values
//!   well-formed, `matchExpressions` with a known `operator` and `values` exactly when `In`/`NotIn`; the
//!   selector matches `spec.template.metadata.labels` (each unmatched requirement is one error); the pod
//!   template's `restartPolicy` is `Always`.
//! - Pod template: at least one container; container names DNS-1123 labels, unique across `containers` and
//!   `initContainers`; `image` set; container ports `containerPort` (and a non-zero `hostPort`) 1-65535,
//!   port names IANA service names (at most 15 characters, `a-z0-9-`, a letter, no `--`, no `-` at either
//!   end) and unique in the container; probes (`livenessProbe`, `readinessProbe`, `startupProbe`) with
//!   exactly one handler, their `httpGet`/`tcpSocket` port a port number or name, `grpc.port` a port number,
//!   and their second/threshold counts not negative.
//! - Service: `spec.selector` may be absent (a Service whose endpoints are managed by hand); when present
//!   its keys and values are checked as labels. `spec.ports` has at least one port, unless `clusterIP` is
//!   `None` or `type` is `ExternalName`; each `port` 1-65535; `targetPort` a port number or IANA service name
//!   (`0` or `""`: defaulted to `port`); names DNS-1123 labels, unique, and required when there are several
//!   ports.
//!
//! Stricter than the API server, besides the above: the OpenAPI `required` means "present" (for a few
//! fields, e.g. an HTTP header's `value`, the API server accepts the zero value an absent field decodes
//! to); a duplicate key in any `x-kubernetes-list-type: map` list is an error (the API server accepts
//! duplicates in some, e.g. `env` and container `ports`, on create; server-side apply rejects them); a
//! pod template's `metadata.name`, if set, must be a DNS-1123 subdomain; a quantity string must match
//! Kubernetes' regular expression, which `ParseQuantity` only quotes in its error message: its scanner reads
//! a string without digits, such as `m` or `+`, as 0. Not checked, among much else:
//! `x-kubernetes-unions` (e.g. `seccompProfile.localhostProfile` only with `type: Localhost`), resource
//! `requests` not above `limits` and not negative, `nodePort` ranges, volume and volume-mount consistency,
//! lifecycle-hook ports, other `+enum` fields, image names, environment variable names.

use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// Which Gateway API release channel's HTTPRoute CRD to validate against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Standard,
    Experimental,
}

const VIRTUAL_SERVICE: &str = include_str!("../../schemas/crds/istio/virtualservice.crd.yaml");
const DESTINATION_RULE: &str = include_str!("../../schemas/crds/istio/destinationrule.crd.yaml");
const HTTP_ROUTE_STANDARD: &str = include_str!(
    "../../schemas/crds/gateway-api/standard/gateway.networking.k8s.io_httproutes.yaml"
);
const HTTP_ROUTE_EXPERIMENTAL: &str = include_str!(
    "../../schemas/crds/gateway-api/experimental/gateway.networking.k8s.io_httproutes.yaml"
);
const REFERENCE_GRANT: &str = include_str!(
    "../../schemas/crds/gateway-api/standard/gateway.networking.k8s.io_referencegrants.yaml"
);
/// Three CRDs in one YAML stream: `Canary`, `MetricTemplate` and `AlertProvider`.
const FLAGGER: &str = include_str!("../../schemas/crds/flagger/crd.yaml");
const ROLLOUT: &str = include_str!("../../schemas/crds/argo-rollouts/rollout-crd.yaml");
const ANALYSIS_TEMPLATE: &str =
    include_str!("../../schemas/crds/argo-rollouts/analysis-template-crd.yaml");
const PROMETHEUS_RULE: &str = include_str!(
    "../../schemas/crds/prometheus-operator/monitoring.coreos.com_prometheusrules.yaml"
);
/// A Helm chart template: see [`without_helm_directives`].
const LINKERD_HTTP_ROUTE: &str = include_str!("../../schemas/crds/linkerd/policy-httproute.yaml");
/// A Helm chart template too.
const LINKERD_SERVICE_PROFILE: &str =
    include_str!("../../schemas/crds/linkerd/serviceprofile.yaml");
const CONSUL_SERVICE_DEFAULTS: &str =
    include_str!("../../schemas/crds/consul/consul.hashicorp.com_servicedefaults.yaml");
const CONSUL_SERVICE_RESOLVER: &str =
    include_str!("../../schemas/crds/consul/consul.hashicorp.com_serviceresolvers.yaml");
const CONSUL_SERVICE_ROUTER: &str =
    include_str!("../../schemas/crds/consul/consul.hashicorp.com_servicerouters.yaml");
const CONSUL_SERVICE_SPLITTER: &str =
    include_str!("../../schemas/crds/consul/consul.hashicorp.com_servicesplitters.yaml");

/// A Helm chart template as YAML: every `{{ ... }}` directive (only in its metadata's labels and
/// annotations, never in the schema) replaced by `X`.
fn without_helm_directives(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .map_or(rest.len(), |e| start + e + 2);
        out.push('X');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Schema keywords that are checked below, or deliberately ignored (`description`, `default`, `example`,
/// `title`, `x-kubernetes-map-type`; and from the built-in kinds' OpenAPI documents the strategic-merge-patch
/// hints `x-kubernetes-patch-merge-key` and `x-kubernetes-patch-strategy`, the kind's
/// `x-kubernetes-group-version-kind`, and `x-kubernetes-unions`, which is not checked). `x-meshc-quantity` and
/// `x-meshc-object-meta` are set only by the resolver of the built-in kinds (see [`Resolver`]). Any other
/// keyword is reported instead of being skipped.
const KNOWN_KEYWORDS: &str = "type nullable x-kubernetes-int-or-string x-kubernetes-preserve-unknown-fields
    properties additionalProperties required enum pattern minimum maximum exclusiveMinimum exclusiveMaximum
    minLength maxLength minItems maxItems minProperties maxProperties format items oneOf anyOf allOf not
    x-kubernetes-list-type x-kubernetes-list-map-keys x-kubernetes-validations x-meshc-quantity
    x-meshc-object-meta description default example title x-kubernetes-map-type x-kubernetes-patch-merge-key
    x-kubernetes-patch-strategy x-kubernetes-group-version-kind x-kubernetes-unions";

/// ObjectMeta fields a manifest may carry besides `name`, `namespace`, `labels` and `annotations`.
const OTHER_METADATA_FIELDS: &str = "generateName uid resourceVersion generation creationTimestamp
    deletionTimestamp deletionGracePeriodSeconds ownerReferences finalizers managedFields selfLink";

/// An embedded CRD: the channel it belongs to (`None`: every channel) and the parsed document.
type ParsedCrd = (Option<Channel>, Result<Value, String>);

/// Validates one Kubernetes manifest (already parsed into serde_json::Value) against the embedded upstream
/// CRD whose group/kind match its apiVersion/kind; picks the schema of the served version named in
/// apiVersion. HTTPRoute is checked against the standard channel's CRD. `apps/v1` `Deployment` and `v1`
/// `Service` are checked against Kubernetes' OpenAPI documents and native rules (see the module docs).
pub fn validate(manifest: &Value) -> Result<(), Vec<String>> {
    validate_with_channel(manifest, Channel::Standard)
}

/// Like [`validate`], with the Gateway API channel whose HTTPRoute CRD is "installed".
pub fn validate_with_channel(manifest: &Value, channel: Channel) -> Result<(), Vec<String>> {
    let api_version = manifest.get("apiVersion").and_then(Value::as_str);
    let kind = manifest.get("kind").and_then(Value::as_str);
    let crds = embedded_crds(Some(channel), api_version.zip(kind)).map(|(_, crd)| crd.as_ref());
    validate_against(manifest, crds, true)
}

/// Like [`validate`], against `crd` (a parsed CustomResourceDefinition) instead of the embedded CRDs and the
/// built-in kinds.
pub fn validate_with_crd(manifest: &Value, crd: &Value) -> Result<(), Vec<String>> {
    validate_against(manifest, [Ok(crd)], false)
}

/// The schema a manifest is validated against.
enum Root<'a> {
    /// The `openAPIV3Schema` of a served version of a CRD.
    Crd(&'a Value),
    /// A built-in kind and its resolved schema.
    BuiltIn(BuiltIn, &'static Value),
}

/// Validates `manifest` against the first of `crds` whose group/kind match its apiVersion/kind, or, when
/// `built_ins`, against the built-in kind it names.
fn validate_against<'a>(
    manifest: &Value,
    crds: impl IntoIterator<Item = Result<&'a Value, &'a String>>,
    built_ins: bool,
) -> Result<(), Vec<String>> {
    let Some(object) = manifest.as_object() else {
        return Err(vec![format!(
            "(root): expected object, got {}",
            describe(manifest)
        )]);
    };
    let mut errors = Vec::new();
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    let kind = object.get("kind").and_then(Value::as_str);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        for field in ["apiVersion", "kind"] {
            match object.get(field) {
                None => errors.push(format!("{field}: required field is missing")),
                Some(Value::String(_)) => {}
                Some(other) => {
                    errors.push(format!("{field}: expected string, got {}", describe(other)))
                }
            }
        }
        return Err(errors);
    };
    let built_in = built_ins
        .then(|| BuiltIn::find(api_version, kind))
        .flatten();
    let root = match built_in {
        Some(Ok(built_in)) => match built_in.schema() {
            Ok(schema) => Root::BuiltIn(built_in, schema),
            Err(message) => return Err(vec![message]),
        },
        Some(Err(message)) => return Err(vec![message]),
        None => match find_schema(api_version, kind, crds) {
            Ok(schema) => Root::Crd(schema),
            Err(message) => return Err(vec![message]),
        },
    };
    let root_schema = match root {
        Root::Crd(schema) | Root::BuiltIn(_, schema) => schema,
    };

    for (key, value) in object {
        match key.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => check_metadata(value, "metadata", true, &mut errors),
            "spec" => match root_schema.pointer("/properties/spec") {
                Some(spec_schema) => check_spec(&root, spec_schema, value, &mut errors),
                None => errors.push("spec: the CRD does not define spec".to_string()),
            },
            _ => errors.push(format!("{key}: unknown field")),
        }
    }
    // A built-in object without spec has the zero value of its spec type, the schema's default `{}`.
    if let (Root::BuiltIn(..), None) = (&root, object.get("spec")) {
        if let Some(spec_schema) = root_schema.pointer("/properties/spec") {
            if let Some(default) = spec_schema.get("default") {
                check_spec(&root, spec_schema, default, &mut errors);
            }
        }
    }
    if !object.contains_key("metadata") {
        errors.push("metadata: required field is missing".to_string());
    }
    for name in string_list(root_schema.get("required")) {
        if !object.contains_key(name) {
            errors.push(format!("{name}: required field is missing"));
        }
    }
    // No embedded CRD has rules on the whole object; should one get some, they must not go unnoticed.
    if let Some(root_schema) = root_schema.as_object() {
        let has_errors = !errors.is_empty();
        check_rules(root_schema, manifest, "(root)", has_errors, &mut errors);
    }
    if errors.is_empty() {
        return Ok(());
    }
    // Sorted, so that the order does not depend on how serde_json orders object keys.
    errors.sort();
    errors.dedup();
    Err(errors)
}

/// Checks `spec` (defaults filled in) against `spec_schema`, the schema of `spec` in `root`, and for a
/// built-in kind against its native rules.
fn check_spec(root: &Root, spec_schema: &Value, spec: &Value, errors: &mut Vec<String>) {
    let mut spec = spec.clone();
    match root {
        Root::Crd(_) => {
            apply_defaults(spec_schema, &mut spec, Defaulting::All);
            check_value(spec_schema, &spec, "spec", true, errors);
        }
        Root::BuiltIn(built_in, _) => {
            apply_defaults(spec_schema, &mut spec, Defaulting::ExceptRequired);
            check_value(spec_schema, &spec, "spec", true, errors);
            match built_in {
                BuiltIn::Deployment => check_deployment_spec(&spec, errors),
                BuiltIn::Service => check_service_spec(&spec, errors),
            }
        }
    }
}

/// The embedded CRD files: the channel each belongs to (`None`: every channel), its path under
/// `schemas/crds/`, and its text.
const EMBEDDED: [(Option<Channel>, &str, &str); 15] = [
    (None, "istio/virtualservice.crd.yaml", VIRTUAL_SERVICE),
    (None, "istio/destinationrule.crd.yaml", DESTINATION_RULE),
    (
        Some(Channel::Standard),
        "gateway-api/standard/gateway.networking.k8s.io_httproutes.yaml",
        HTTP_ROUTE_STANDARD,
    ),
    (
        Some(Channel::Experimental),
        "gateway-api/experimental/gateway.networking.k8s.io_httproutes.yaml",
        HTTP_ROUTE_EXPERIMENTAL,
    ),
    (
        None,
        "gateway-api/standard/gateway.networking.k8s.io_referencegrants.yaml",
        REFERENCE_GRANT,
    ),
    (None, "flagger/crd.yaml", FLAGGER),
    (None, "argo-rollouts/rollout-crd.yaml", ROLLOUT),
    (
        None,
        "argo-rollouts/analysis-template-crd.yaml",
        ANALYSIS_TEMPLATE,
    ),
    (
        None,
        "prometheus-operator/monitoring.coreos.com_prometheusrules.yaml",
        PROMETHEUS_RULE,
    ),
    (None, "linkerd/policy-httproute.yaml", LINKERD_HTTP_ROUTE),
    (None, "linkerd/serviceprofile.yaml", LINKERD_SERVICE_PROFILE),
    (None, "consul/servicedefaults", CONSUL_SERVICE_DEFAULTS),
    (None, "consul/serviceresolvers", CONSUL_SERVICE_RESOLVER),
    (None, "consul/servicerouters", CONSUL_SERVICE_ROUTER),
    (None, "consul/servicesplitters", CONSUL_SERVICE_SPLITTER),
];

/// The values of the `group:` and `kind:` lines of an embedded file's text (every group and
/// kind its CRDs define, and maybe a few more), found once per file.
fn names_in(index: usize) -> &'static (Vec<&'static str>, Vec<&'static str>) {
    static NAMES: [OnceLock<(Vec<&str>, Vec<&str>)>; EMBEDDED.len()] =
        [const { OnceLock::new() }; EMBEDDED.len()];
    NAMES[index].get_or_init(|| {
        let (mut groups, mut kinds) = (Vec::new(), Vec::new());
        for line in EMBEDDED[index].2.lines() {
            let line = line.trim_start();
            if let Some(group) = line.strip_prefix("group: ") {
                groups.push(group.trim_end());
            } else if let Some(kind) = line.strip_prefix("kind: ") {
                kinds.push(kind.trim_end());
            }
        }
        for names in [&mut groups, &mut kinds] {
            names.sort_unstable();
            names.dedup();
        }
        (groups, kinds)
    })
}

/// The embedded CRDs, in order, one entry per CRD (a file may hold several), with the channel
/// of each. With `channel`, only those of the files of that channel or of every channel; with
/// `wanted` (`group/version`, kind), only those of the files with a `group:` and a `kind:`
/// line naming that group and kind: the others cannot define it. Each file is parsed the
/// first time it is needed: parsing them all takes about 100 ms, which a build with an `extra`
/// block for one kind should not pay.
fn embedded_crds<'a>(
    channel: Option<Channel>,
    wanted: Option<(&'a str, &'a str)>,
) -> impl Iterator<Item = &'static ParsedCrd> + 'a {
    static PARSED: [OnceLock<Vec<ParsedCrd>>; EMBEDDED.len()] =
        [const { OnceLock::new() }; EMBEDDED.len()];
    let may_define = move |index: usize| {
        let in_channel = match (EMBEDDED[index].0, channel) {
            (Some(file), Some(wanted)) => file == wanted,
            _ => true,
        };
        in_channel
            && wanted.is_none_or(|(api_version, kind)| {
                let group = api_version.split_once('/').map_or("", |(group, _)| group);
                let (groups, kinds) = names_in(index);
                kinds.binary_search(&kind).is_ok() && groups.binary_search(&group).is_ok()
            })
    };
    (0..EMBEDDED.len())
        .filter(move |&index| may_define(index))
        .flat_map(|index| {
            PARSED[index].get_or_init(|| {
                let (channel, file, text) = EMBEDDED[index];
                let crds = parse_crds(file, &without_helm_directives(text));
                crds.into_iter().map(|crd| (channel, crd)).collect()
            })
        })
}

/// The CRDs of the embedded file `file` (under `schemas/crds/`), whose text is `text`: one per YAML
/// document (empty documents skipped). An error when the file is not valid YAML or holds no document.
fn parse_crds(file: &str, text: &str) -> Vec<Result<Value, String>> {
    match serde_saphyr::from_multiple::<Value>(text) {
        Ok(documents) => {
            let crds: Vec<Result<Value, String>> = (documents.into_iter())
                .filter(|document| !document.is_null())
                .map(Ok)
                .collect();
            if crds.is_empty() {
                return vec![Err(format!("{file}: no YAML document"))];
            }
            crds
        }
        Err(e) => vec![Err(format!("{file}: {e}"))],
    }
}

/// Finds the `openAPIV3Schema` for `apiVersion` (`group/version`) and `kind` in the first of `crds` with that
/// group and kind.
fn find_schema<'a>(
    api_version: &str,
    kind: &str,
    crds: impl IntoIterator<Item = Result<&'a Value, &'a String>>,
) -> Result<&'a Value, String> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    for crd in crds {
        let crd = crd.map_err(|e| format!("an embedded CRD is not valid YAML: {e}"))?;
        let crd_group = crd.pointer("/spec/group").and_then(Value::as_str);
        let crd_kind = crd.pointer("/spec/names/kind").and_then(Value::as_str);
        if crd_group != Some(group) || crd_kind != Some(kind) {
            continue;
        }
        let versions = crd.pointer("/spec/versions").and_then(Value::as_array);
        let served = versions
            .into_iter()
            .flatten()
            .filter(|v| v.get("served") == Some(&Value::Bool(true)));
        let mut served_names = Vec::new();
        for candidate in served {
            let name = candidate.get("name").and_then(Value::as_str).unwrap_or("");
            if name == version {
                return candidate
                    .pointer("/schema/openAPIV3Schema")
                    .ok_or_else(|| format!("apiVersion: the CRD has no schema for {api_version}"));
            }
            served_names.push(name);
        }
        let served_names = served_names.join(", ");
        return Err(format!(
            "apiVersion: version {version:?} of {kind} is not served (served: {served_names})"
        ));
    }
    Err(format!(
        "apiVersion: no embedded CRD or built-in schema for kind {kind:?} in apiVersion {api_version:?} \
         (known: networking.istio.io VirtualService and DestinationRule; gateway.networking.k8s.io HTTPRoute \
         and ReferenceGrant; flagger.app Canary, MetricTemplate and AlertProvider; argoproj.io Rollout and \
         AnalysisTemplate; monitoring.coreos.com PrometheusRule; policy.linkerd.io HTTPRoute; linkerd.io ServiceProfile; consul.hashicorp.com ServiceDefaults, \
         ServiceResolver, ServiceRouter and ServiceSplitter; built-in: \
         apps/v1 Deployment, v1 Service)"
    ))
}

/// Which `default`s [`apply_defaults`] fills in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Defaulting {
    /// Every default (CRDs).
    All,
    /// Not those of `required` properties (built-in kinds: there they are Go zero values that native
    /// validation rejects, so the property is reported as missing instead).
    ExceptRequired,
}

/// Fills in the `default` of every absent property of `value`, recursively (in list items, map values and
/// the filled-in defaults too), as the API server does before it validates. Only `properties`, `items` and
/// `additionalProperties` count: the API server does not default from `oneOf`/`anyOf`/`allOf`/`not`. A
/// property that is present, even as `null`, is left alone (a `null` is reported where it is not allowed).
fn apply_defaults(schema: &Value, value: &mut Value, defaulting: Defaulting) {
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let required = string_list(schema.get("required"));
            for (name, property) in properties.into_iter().flatten() {
                match fields.get_mut(name) {
                    Some(field) => apply_defaults(property, field, defaulting),
                    None if defaulting == Defaulting::ExceptRequired
                        && required.contains(&name.as_str()) => {}
                    None => {
                        if let Some(default) = property.get("default") {
                            let mut default = default.clone();
                            apply_defaults(property, &mut default, defaulting);
                            fields.insert(name.clone(), default);
                        }
                    }
                }
            }
            if let Some(additional @ Value::Object(_)) = schema.get("additionalProperties") {
                for (name, field) in fields.iter_mut() {
                    if !properties.is_some_and(|p| p.contains_key(name)) {
                        apply_defaults(additional, field, defaulting);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    apply_defaults(item_schema, item, defaulting);
                }
            }
        }
        _ => {}
    }
}

/// Checks the ObjectMeta `metadata` at `path`: `name` (a DNS-1123 subdomain; required if `name_required`),
/// `namespace` (DNS-1123 label), `labels` and `annotations` (maps from qualified names to strings; label
/// values at most 63 characters), and no fields other than ObjectMeta's.
fn check_metadata(metadata: &Value, path: &str, name_required: bool, errors: &mut Vec<String>) {
    let Some(metadata) = metadata.as_object() else {
        errors.push(format!(
            "{path}: expected object, got {}",
            describe(metadata)
        ));
        return;
    };
    match metadata.get("name") {
        None if name_required => errors.push(format!("{path}.name: required field is missing")),
        None => {}
        Some(Value::String(name)) if !is_dns1123_subdomain(name) => errors.push(format!(
            "{path}.name: {name:?} is not a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.', at \
             most 253 characters)"
        )),
        Some(Value::String(_)) => {}
        Some(other) => errors.push(format!("{path}.name: expected string, got {}", describe(other))),
    }
    for (key, value) in metadata {
        let field_path = join(path, key);
        match (key.as_str(), value) {
            ("name", _) => {}
            ("namespace", Value::String(namespace)) => {
                if !is_dns1123_label(namespace) {
                    errors.push(not_a_dns1123_label(&field_path, namespace));
                }
            }
            ("labels" | "annotations", Value::Object(map)) => {
                check_string_map(map, &field_path, key == "labels", errors);
            }
            ("namespace", other) => errors.push(format!(
                "{field_path}: expected string, got {}",
                describe(other)
            )),
            ("labels" | "annotations", other) => errors.push(format!(
                "{field_path}: expected object, got {}",
                describe(other)
            )),
            (other, _) if OTHER_METADATA_FIELDS.split_whitespace().any(|f| f == other) => {}
            _ => errors.push(format!("{field_path}: unknown field")),
        }
    }
}

/// Checks a map of labels (`labels`: values are label values) or annotations at `path`: keys are qualified
/// names, values strings.
fn check_string_map(map: &Map<String, Value>, path: &str, labels: bool, errors: &mut Vec<String>) {
    for (entry_key, entry_value) in map {
        let entry_path = format!("{path}[{entry_key}]");
        if !is_qualified_name(entry_key) {
            errors.push(format!(
                "{entry_path}: key is not a qualified name ([prefix/]name)"
            ));
        }
        match entry_value {
            Value::String(text) if labels && !is_label_value(text) => {
                errors.push(format!("{entry_path}: {text:?} is not a valid label value"))
            }
            Value::String(_) => {}
            other => errors.push(format!(
                "{entry_path}: expected string, got {}",
                describe(other)
            )),
        }
    }
}

/// The message for `text` at `path`, which is not a DNS-1123 label.
fn not_a_dns1123_label(path: &str, text: &str) -> String {
    format!("{path}: {text:?} is not a DNS-1123 label (lower-case alphanumerics and '-', at most 63 characters)")
}

/// Checks `value` at `path` against `schema`, pushing one message per problem onto `errors`.
///
/// `structural` is false inside `oneOf`/`anyOf`/`allOf`/`not`: those branches only constrain the value,
/// so a field they do not mention is not an unknown field.
fn check_value(
    schema: &Value,
    value: &Value,
    path: &str,
    structural: bool,
    errors: &mut Vec<String>,
) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    let errors_before = errors.len();
    for keyword in schema.keys() {
        if !KNOWN_KEYWORDS
            .split_whitespace()
            .any(|known| known == keyword)
        {
            errors.push(format!(
                "{path}: schema keyword {keyword:?} is not supported by this validator"
            ));
        }
    }
    let flag = |name: &str| schema.get(name) == Some(&Value::Bool(true));
    // Built-in kinds: the types the resolver replaced by a check of their own.
    if flag("x-meshc-object-meta") {
        check_metadata(value, path, false, errors);
        return;
    }
    if flag("x-meshc-quantity") {
        check_quantity(value, path, errors);
        return;
    }
    let int_or_string = flag("x-kubernetes-int-or-string");
    let declared_type = schema.get("type").and_then(Value::as_str);

    if value.is_null() && (flag("nullable") || (declared_type.is_none() && !int_or_string)) {
        return;
    }
    if int_or_string && !(is_integer(value) || value.is_string()) {
        errors.push(format!(
            "{path}: expected integer or string, got {}",
            describe(value)
        ));
        return;
    }
    if let Some(expected) = declared_type {
        if !has_type(value, expected) {
            errors.push(format!(
                "{path}: expected {expected}, got {}",
                describe(value)
            ));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.iter().any(|candidate| same_value(candidate, value)) {
            let allowed: Vec<String> = allowed.iter().map(Value::to_string).collect();
            errors.push(format!(
                "{path}: unsupported value {value}; supported values: {}",
                allowed.join(", ")
            ));
        }
    }
    match value {
        Value::String(text) => check_string(schema, text, path, errors),
        Value::Number(_) => check_number(schema, value, path, errors),
        Value::Array(items) => check_array(schema, items, path, structural, errors),
        Value::Object(fields) => {
            let preserve = flag("x-kubernetes-preserve-unknown-fields");
            let strict = structural && !preserve && (declared_type == Some("object"));
            check_object(schema, fields, path, structural, strict, errors);
        }
        Value::Bool(_) | Value::Null => {}
    }
    check_combinators(schema, value, path, errors);
    let value_has_errors = errors.len() > errors_before;
    check_rules(schema, value, path, value_has_errors, errors);
}

/// `minLength`, `maxLength` and `pattern`.
fn check_string(schema: &Map<String, Value>, text: &str, path: &str, errors: &mut Vec<String>) {
    let length = text.chars().count();
    check_size(
        schema,
        ("minLength", "maxLength"),
        length,
        "characters",
        path,
        errors,
    );
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(pattern) {
            Ok(re) if re.is_match(text) => {}
            Ok(_) => errors.push(format!(
                "{path}: {text:?} does not match pattern {pattern:?}"
            )),
            Err(e) => errors.push(format!(
                "{path}: cannot check pattern {pattern:?}: the regex crate rejects it: {e}"
            )),
        }
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        check_string_format(format, text, path, errors);
    }
}

/// The formats of the API server's format registry (kube-openapi `strfmt`) that are not checked here, as
/// the registry compares names: without `-`. See [`check_string_format`].
const UNCHECKED_REGISTRY_FORMATS: &str =
    "bsonobjectid uri email hostname ipv4 ipv6 cidr mac uuid uuid3
    uuid4 uuid5 isbn isbn10 isbn13 creditcard ssn hexcolor rgbcolor k8sshortname k8slongname";

/// The `format` of a string. The API server checks a string against the formats of its registry (names
/// compared without `-`, so `date-time` is `datetime`) and ignores any other format (`int32`, `url`,
/// `string`, `double`, ...). Checked here as the registry does: `date-time` (`strfmt.IsDateTime`: an RFC 3339
/// date, `T`, and a time with seconds and a zone, `Z` or `±hh:mm`; case-insensitive), `date`
/// (`strfmt.IsDate`: `YYYY-MM-DD`, a real day), `byte` (`govalidator.IsBase64`: standard base64 with
/// padding, not empty) and `password` (anything). Another format of the registry is reported as not
/// supported by this validator, so that it is never skipped silently.
fn check_string_format(format: &str, text: &str, path: &str, errors: &mut Vec<String>) {
    let normalized = format.replace('-', "");
    let problem = match normalized.as_str() {
        "datetime" if !is_strfmt_date_time(text) => {
            "is not a date-time (RFC 3339, e.g. \"2026-01-02T15:04:05Z\")"
        }
        "date" if !is_strfmt_date(text) => "is not a date (YYYY-MM-DD)",
        "byte" if !is_base64(text) => "is not base64 (format byte)",
        // The registry's `strfmt.IsDuration` also takes days, weeks and spelt-out units; a Go
        // duration (`time.ParseDuration`), all meshc writes, is checked strictly.
        "duration" if parse_go_duration(text).is_err() => "is not a Go duration (e.g. \"30s\")",
        "datetime" | "date" | "byte" | "password" | "duration" => return,
        other
            if UNCHECKED_REGISTRY_FORMATS
                .split_whitespace()
                .any(|f| f == other) =>
        {
            errors.push(format!(
                "{path}: cannot check format {format:?}: not supported by this validator"
            ));
            return;
        }
        _ => return,
    };
    errors.push(format!("{path}: {text:?} {problem}"));
}

/// kube-openapi's `strfmt.IsDateTime`: lower-cased and split at `t`, the first part a date
/// ([`is_strfmt_date`]), the second `hh:mm:ss`, an optional fraction, and `z` or `±hh:mm`.
fn is_strfmt_date_time(text: &str) -> bool {
    static TIME: OnceLock<regex::Regex> = OnceLock::new();
    let time = TIME.get_or_init(|| {
        regex::Regex::new(
            r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$",
        )
        .expect("a valid regular expression")
    });
    let lower = text.to_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(clock)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Some(captures) = time.captures(clock) else {
        return false;
    };
    is_strfmt_date(date) && &captures[1] <= "23" && &captures[2] <= "59" && &captures[3] <= "59"
}

/// kube-openapi's `strfmt.IsDate`, Go's `time.Parse("2006-01-02", text)`: four digits, `-`, a month
/// `01`-`12`, `-`, a day of that month.
fn is_strfmt_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// govalidator's `IsBase64`: groups of four characters of the standard alphabet, the last one padded with
/// `=` where needed; the empty string is not base64.
fn is_base64(text: &str) -> bool {
    static BASE64: OnceLock<regex::Regex> = OnceLock::new();
    let base64 = BASE64.get_or_init(|| {
        regex::Regex::new(
            r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$",
        )
        .expect("a valid regular expression")
    });
    base64.is_match(text)
}

/// `minLength`/`maxLength`, `minItems`/`maxItems` or `minProperties`/`maxProperties`: `size` (the number of
/// characters, items or fields) against the pair of keywords in `limits`.
fn check_size(
    schema: &Map<String, Value>,
    limits: (&str, &str),
    size: usize,
    what: &str,
    path: &str,
    errors: &mut Vec<String>,
) {
    let (min_keyword, max_keyword) = limits;
    let size = size as f64;
    if let Some(min) = schema.get(min_keyword).and_then(Value::as_f64) {
        if size < min {
            errors.push(format!(
                "{path}: has {size} {what}, fewer than {min_keyword} {min}"
            ));
        }
    }
    if let Some(max) = schema.get(max_keyword).and_then(Value::as_f64) {
        if size > max {
            errors.push(format!(
                "{path}: has {size} {what}, more than {max_keyword} {max}"
            ));
        }
    }
}

/// `minimum`, `maximum`, their exclusive forms (booleans in OpenAPI v3.0), and `format` ranges.
fn check_number(schema: &Map<String, Value>, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(number) = value.as_f64() else {
        return;
    };
    let exclusive = |name: &str| schema.get(name) == Some(&Value::Bool(true));
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if number < min || (exclusive("exclusiveMinimum") && number == min) {
            let strictly = if exclusive("exclusiveMinimum") {
                "greater than"
            } else {
                "at least"
            };
            errors.push(format!("{path}: {value} must be {strictly} {min}"));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if number > max || (exclusive("exclusiveMaximum") && number == max) {
            let strictly = if exclusive("exclusiveMaximum") {
                "less than"
            } else {
                "at most"
            };
            errors.push(format!("{path}: {value} must be {strictly} {max}"));
        }
    }
    let range = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => Some((i32::MIN as i128, i32::MAX as i128)),
        Some("uint32") => Some((0, u32::MAX as i128)),
        Some("int64") => Some((i64::MIN as i128, i64::MAX as i128)),
        _ => None,
    };
    if let Some((low, high)) = range {
        let as_integer = value
            .as_i64()
            .map(i128::from)
            .or(value.as_u64().map(i128::from));
        let in_range = match as_integer {
            Some(n) => low <= n && n <= high,
            None => low as f64 <= number && number <= high as f64,
        };
        if !in_range {
            let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
            errors.push(format!(
                "{path}: {value} is out of range for format {format}"
            ));
        }
    }
}

/// `minItems`, `maxItems`, `items`, and `x-kubernetes-list-type: set | map` uniqueness.
fn check_array(
    schema: &Map<String, Value>,
    items: &[Value],
    path: &str,
    structural: bool,
    errors: &mut Vec<String>,
) {
    check_size(
        schema,
        ("minItems", "maxItems"),
        items.len(),
        "items",
        path,
        errors,
    );
    if let Some(item_schema) = schema.get("items") {
        for (index, item) in items.iter().enumerate() {
            check_value(
                item_schema,
                item,
                &format!("{path}[{index}]"),
                structural,
                errors,
            );
        }
    }
    let list_type = schema.get("x-kubernetes-list-type").and_then(Value::as_str);
    if !matches!(list_type, Some("set" | "map")) {
        return;
    }
    let map_keys = string_list(schema.get("x-kubernetes-list-map-keys"));
    // The identity of an item: the whole item in a set; in a map, the values of the map keys (defaults
    // filled in, as the API server does first).
    let identity = |item: &Value| -> Value {
        if list_type == Some("set") {
            return item.clone();
        }
        let key_value = |key: &&str| item.get(*key).cloned().unwrap_or(Value::Null);
        Value::Array(map_keys.iter().map(key_value).collect())
    };
    let identities: Vec<Value> = items.iter().map(identity).collect();
    for (index, id) in identities.iter().enumerate() {
        if let Some(first) = identities[..index].iter().position(|earlier| earlier == id) {
            let what = if map_keys.is_empty() {
                format!("value {id}")
            } else {
                format!("key ({}) = {id}", map_keys.join(", "))
            };
            errors.push(format!(
                "{path}[{index}]: duplicate {what}, already at {path}[{first}]"
            ));
        }
    }
}

/// `<path>: unknown field`, with the closest field the schema declares, if one is close:
/// `spec.http[0].retries.attemps: unknown field (did you mean `attempts`?)`.
fn unknown_field(field_path: &str, name: &str, properties: Option<&Map<String, Value>>) -> String {
    let names = properties
        .into_iter()
        .flat_map(|p| p.keys().map(String::as_str));
    match crate::diagnostics::did_you_mean(name, names) {
        Some(close) => format!("{field_path}: unknown field (did you mean `{close}`?)"),
        None => format!("{field_path}: unknown field"),
    }
}

/// `minProperties`, `maxProperties`, `required`, `properties`, `additionalProperties` and, when `strict`,
/// unknown fields.
fn check_object(
    schema: &Map<String, Value>,
    fields: &Map<String, Value>,
    path: &str,
    structural: bool,
    strict: bool,
    errors: &mut Vec<String>,
) {
    let limits = ("minProperties", "maxProperties");
    check_size(schema, limits, fields.len(), "fields", path, errors);
    let properties = schema.get("properties").and_then(Value::as_object);
    for name in string_list(schema.get("required")) {
        if !fields.contains_key(name) {
            errors.push(format!("{}: required field is missing", join(path, name)));
        }
    }
    for (name, field) in fields {
        let field_path = join(path, name);
        if let Some(field_schema) = properties.and_then(|p| p.get(name)) {
            check_value(field_schema, field, &field_path, structural, errors);
            continue;
        }
        match schema.get("additionalProperties") {
            Some(additional @ Value::Object(_)) => {
                check_value(
                    additional,
                    field,
                    &format!("{path}[{name}]"),
                    structural,
                    errors,
                );
            }
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => errors.push(unknown_field(&field_path, name, properties)),
            _ if strict => errors.push(unknown_field(&field_path, name, properties)),
            _ => {}
        }
    }
}

/// `allOf`, `anyOf`, `oneOf` and `not`, each over the same value.
fn check_combinators(
    schema: &Map<String, Value>,
    value: &Value,
    path: &str,
    errors: &mut Vec<String>,
) {
    let branch_errors = |branch: &Value| -> Vec<String> {
        let mut found = Vec::new();
        check_value(branch, value, path, false, &mut found);
        found
    };
    for branch in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        errors.extend(branch_errors(branch));
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        if !branches.is_empty() && !branches.iter().any(|b| branch_errors(b).is_empty()) {
            let described: Vec<String> = branches.iter().map(describe_schema).collect();
            errors.push(format!(
                "{path}: must match at least one of: {}",
                described.join(" | ")
            ));
        }
    }
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        let matching: Vec<String> = branches
            .iter()
            .filter(|b| branch_errors(b).is_empty())
            .map(describe_schema)
            .collect();
        if matching.is_empty() {
            let described: Vec<String> = branches.iter().map(describe_schema).collect();
            errors.push(format!(
                "{path}: must match exactly one oneOf alternative, matches none of: {}",
                described.join(" | ")
            ));
        } else if matching.len() > 1 {
            errors.push(format!(
                "{path}: must match exactly one oneOf alternative, matches {}: {}",
                matching.len(),
                matching.join(" | ")
            ));
        }
    }
    if let Some(branch) = schema.get("not") {
        if branch_errors(branch).is_empty() {
            errors.push(format!(
                "{path}: must not match: {}",
                describe_schema(branch)
            ));
        }
    }
}

/// A short description of a combinator branch for messages, e.g. `required [httpHeaderName]` or
/// `not (anyOf (required [a] | required [b]))`.
fn describe_schema(schema: &Value) -> String {
    let Some(schema) = schema.as_object() else {
        return schema.to_string();
    };
    let mut parts = Vec::new();
    for (keyword, value) in schema {
        let part = match (keyword.as_str(), value) {
            ("required", _) => format!("required [{}]", string_list(Some(value)).join(", ")),
            ("not", _) => format!("not ({})", describe_schema(value)),
            ("anyOf" | "oneOf" | "allOf", Value::Array(branches)) => {
                let described: Vec<String> = branches.iter().map(describe_schema).collect();
                format!("{keyword} ({})", described.join(" | "))
            }
            ("description", _) => continue,
            _ => format!("{keyword}: {value}"),
        };
        parts.push(part);
    }
    parts.join(", ")
}

// ---------------------------------------------------------------------------------------------------------
// Built-in kinds: `apps/v1` Deployment and `v1` Service (see the module docs)

const CORE_V1_OPENAPI: &str = include_str!("../../schemas/kubernetes/api__v1_openapi.json");
const APPS_V1_OPENAPI: &str = include_str!("../../schemas/kubernetes/apis__apps__v1_openapi.json");

const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The expression a quantity string must match (k8s.io/apimachinery `pkg/api/resource/quantity.go`,
/// `splitREString`; its error `ErrFormatWrong` quotes it).
const QUANTITY_PATTERN: &str = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// The allowed values of `+enum` string fields of k8s.io/api v1.36 (core/v1 and apps/v1 `types.go`) that the
/// API server's native validation enforces (`Unsupported value`) and the published OpenAPI documents do not
/// state: (schema, property, values). Only fields a `meshc` Deployment or Service may carry are listed.
const NATIVE_ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "io.k8s.api.apps.v1.DeploymentStrategy",
        "type",
        &["Recreate", "RollingUpdate"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "imagePullPolicy",
        &["Always", "Never", "IfNotPresent"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError"],
    ),
    (
        "io.k8s.api.core.v1.ContainerPort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "io.k8s.api.core.v1.HTTPGetAction",
        "scheme",
        &["HTTP", "HTTPS"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "restartPolicy",
        &["Always", "OnFailure", "Never"],
    ),
    (
        "io.k8s.api.core.v1.ServicePort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "type",
        &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "sessionAffinity",
        &["ClientIP", "None"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "externalTrafficPolicy",
        &["Cluster", "Local"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "internalTrafficPolicy",
        &["Cluster", "Local"],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
        "operator",
        &["In", "NotIn", "Exists", "DoesNotExist"],
    ),
];

/// A built-in kind that [`validate`] knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BuiltIn {
    Deployment,
    Service,
}

impl BuiltIn {
    const ALL: [BuiltIn; 2] = [BuiltIn::Deployment, BuiltIn::Service];

    /// The API group (`""`: core), version and kind.
    fn group_version_kind(self) -> (&'static str, &'static str, &'static str) {
        match self {
            BuiltIn::Deployment => ("apps", "v1", "Deployment"),
            BuiltIn::Service => ("", "v1", "Service"),
        }
    }

    /// The name of the kind's schema in `components.schemas`.
    fn component(self) -> &'static str {
        match self {
            BuiltIn::Deployment => "io.k8s.api.apps.v1.Deployment",
            BuiltIn::Service => "io.k8s.api.core.v1.Service",
        }
    }

    /// The built-in kind `kind` of `apiVersion`'s group: `None` if there is none, an error if that version is
    /// not served.
    fn find(api_version: &str, kind: &str) -> Option<Result<BuiltIn, String>> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let built_in = BuiltIn::ALL.into_iter().find(|b| {
            let (g, _, k) = b.group_version_kind();
            g == group && k == kind
        })?;
        let (_, served, _) = built_in.group_version_kind();
        if version != served {
            return Some(Err(format!(
                "apiVersion: version {version:?} of {kind} is not served (served: {served})"
            )));
        }
        Some(Ok(built_in))
    }

    /// The kind's OpenAPI document, parsed once.
    fn document(self) -> Result<&'static Value, String> {
        static CORE_V1: OnceLock<Result<Value, String>> = OnceLock::new();
        static APPS_V1: OnceLock<Result<Value, String>> = OnceLock::new();
        let (cell, text, file) = match self {
            BuiltIn::Deployment => (&APPS_V1, APPS_V1_OPENAPI, "apis__apps__v1_openapi.json"),
            BuiltIn::Service => (&CORE_V1, CORE_V1_OPENAPI, "api__v1_openapi.json"),
        };
        let parsed = cell.get_or_init(|| {
            serde_json::from_str(text)
                .map_err(|e| format!("schemas/kubernetes/{file} is not valid JSON: {e}"))
        });
        parsed.as_ref().map_err(Clone::clone)
    }

    /// The kind's schema, resolved once (see [`Resolver`]).
    fn schema(self) -> Result<&'static Value, String> {
        static DEPLOYMENT: OnceLock<Result<Value, String>> = OnceLock::new();
        static SERVICE: OnceLock<Result<Value, String>> = OnceLock::new();
        let cell = match self {
            BuiltIn::Deployment => &DEPLOYMENT,
            BuiltIn::Service => &SERVICE,
        };
        let resolved = cell.get_or_init(|| {
            let schema = resolve_openapi_schema(self.document()?, self.component())?;
            // The schema must say that it is this kind's.
            let (group, version, kind) = self.group_version_kind();
            let gvk = json!({"group": group, "kind": kind, "version": version});
            let kinds = schema.get("x-kubernetes-group-version-kind");
            if !kinds
                .and_then(Value::as_array)
                .is_some_and(|k| k.contains(&gvk))
            {
                return Err(format!("{} is not the schema of {gvk}", self.component()));
            }
            Ok(schema)
        });
        resolved.as_ref().map_err(|e| {
            let (_, _, kind) = self.group_version_kind();
            format!("apiVersion: cannot use the embedded OpenAPI schema of {kind}: {e}")
        })
    }
}

/// The schema `name` of the OpenAPI v3 `document` (in its `components.schemas`), resolved as the schemas of
/// the built-in kinds are (see `Resolver`): an error for a `$ref` cycle or a `$ref` to a schema the
/// document does not define.
pub fn resolve_openapi_schema(document: &Value, name: &str) -> Result<Value, String> {
    let components = (document.pointer("/components/schemas"))
        .and_then(Value::as_object)
        .ok_or("the OpenAPI document has no components.schemas")?;
    Resolver::new(components).component(name)
}

/// Resolves a schema of an OpenAPI document's `components.schemas` into the structural form that
/// [`check_value`] checks: `$ref` and `allOf: [{$ref}]` replaced by the schema they name (with the wrapper's
/// other keywords, e.g. `default`; `description`s dropped), `IntOrString` by `x-kubernetes-int-or-string`
/// (`format: int32`), `Quantity` by `x-meshc-quantity`, `ObjectMeta` by `x-meshc-object-meta`, an object
/// without `properties` and `additionalProperties` kept open (`x-kubernetes-preserve-unknown-fields`), and the
/// `NATIVE_ENUMS` added as `enum`s. Each component is resolved once; a `$ref` cycle is an error.
struct Resolver<'a> {
    components: &'a Map<String, Value>,
    done: std::collections::HashMap<String, Value>,
    /// The components being resolved, outermost first: the recursion guard.
    resolving: Vec<String>,
}

impl<'a> Resolver<'a> {
    fn new(components: &'a Map<String, Value>) -> Self {
        Resolver {
            components,
            done: std::collections::HashMap::new(),
            resolving: Vec::new(),
        }
    }

    /// The resolved component `name`.
    fn component(&mut self, name: &str) -> Result<Value, String> {
        if let Some(done) = self.done.get(name) {
            return Ok(done.clone());
        }
        if self.resolving.iter().any(|n| n == name) {
            return Err(format!(
                "$ref cycle: {} -> {name}",
                self.resolving.join(" -> ")
            ));
        }
        let resolved = match name {
            INT_OR_STRING => json!({"x-kubernetes-int-or-string": true, "format": "int32"}),
            QUANTITY => json!({"x-meshc-quantity": true}),
            OBJECT_META => json!({"x-meshc-object-meta": true}),
            _ => {
                let schema = (self.components.get(name)).ok_or_else(|| {
                    format!("$ref to {name:?}, which the document does not define")
                })?;
                self.resolving.push(name.to_string());
                let resolved = self.node(schema, Some(name));
                self.resolving.pop();
                resolved?
            }
        };
        self.done.insert(name.to_string(), resolved.clone());
        Ok(resolved)
    }

    /// The resolved schema node `schema`; `component` is the name of the component it is the top of.
    fn node(&mut self, schema: &Value, component: Option<&str>) -> Result<Value, String> {
        let Some(schema) = schema.as_object() else {
            return Ok(schema.clone());
        };
        let wrapped = match schema.get("allOf").and_then(Value::as_array) {
            Some(branches) if branches.len() == 1 => (branches[0].as_object())
                .filter(|branch| branch.len() == 1)
                .and_then(|branch| branch.get("$ref")),
            _ => None,
        };
        let reference = schema.get("$ref").or(wrapped);
        let mut resolved = match reference {
            Some(reference) => {
                let name = (reference.as_str())
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .ok_or_else(|| format!("unsupported $ref {reference}"))?;
                match self.component(name)? {
                    Value::Object(target) => target,
                    other => return Err(format!("the schema {name:?} is not an object: {other}")),
                }
            }
            None => Map::new(),
        };
        for (keyword, value) in schema {
            let value = match keyword.as_str() {
                "$ref" | "description" => continue,
                "allOf" if wrapped.is_some() => continue,
                "properties" => Value::Object(self.properties(value, component)?),
                "items" | "additionalProperties" | "not" if value.is_object() => {
                    self.node(value, None)?
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let branches = value.as_array().into_iter().flatten();
                    let resolved: Result<Vec<Value>, String> =
                        branches.map(|branch| self.node(branch, None)).collect();
                    Value::Array(resolved?)
                }
                _ => value.clone(),
            };
            resolved.insert(keyword.clone(), value);
        }
        let open_object = resolved.get("type") == Some(&json!("object"))
            && !resolved.contains_key("properties")
            && !resolved.contains_key("additionalProperties");
        if open_object {
            resolved.insert(
                "x-kubernetes-preserve-unknown-fields".to_string(),
                Value::Bool(true),
            );
        }
        Ok(Value::Object(resolved))
    }

    /// The resolved `properties` of `component`, with its `NATIVE_ENUMS`.
    fn properties(
        &mut self,
        properties: &Value,
        component: Option<&str>,
    ) -> Result<Map<String, Value>, String> {
        let properties = (properties.as_object()).ok_or("properties is not an object")?;
        let mut resolved = Map::new();
        for (name, property) in properties {
            resolved.insert(name.clone(), self.node(property, None)?);
        }
        let enums = NATIVE_ENUMS.iter().filter(|(c, ..)| Some(*c) == component);
        for (component, name, values) in enums {
            let property = resolved.get_mut(*name).and_then(Value::as_object_mut);
            let Some(property) = property.filter(|p| p.get("type") == Some(&json!("string")))
            else {
                return Err(format!(
                    "NATIVE_ENUMS: {component} has no string property {name:?}"
                ));
            };
            property.insert("enum".to_string(), json!(values));
        }
        Ok(resolved)
    }
}

/// A `Quantity` (`resources.limits[cpu]`, ...): a number, or a string that k8s.io/apimachinery's
/// `ParseQuantity` accepts. The string must match [`QUANTITY_PATTERN`], and then, as `ParseQuantity` reads
/// it, have at most one `.` and a known suffix (`ErrFormatWrong` and `ErrSuffix`, whose texts are quoted).
fn check_quantity(value: &Value, path: &str, errors: &mut Vec<String>) {
    let text = match value {
        Value::Number(_) => return,
        Value::String(text) => text,
        other => {
            return errors.push(format!(
                "{path}: expected quantity (string or number), got {}",
                describe(other)
            ))
        }
    };
    static SPLIT: OnceLock<regex::Regex> = OnceLock::new();
    let split = SPLIT.get_or_init(|| regex::Regex::new(QUANTITY_PATTERN).expect("a valid regex"));
    let why = match split.captures(text) {
        Some(parts) if parts[1].matches('.').count() > 1 => Some("format"),
        Some(parts) if !is_quantity_suffix(&parts[2]) => Some("suffix"),
        Some(_) => None,
        None => Some("format"),
    };
    match why {
        None => {}
        Some("suffix") => errors.push(format!(
            "{path}: {text:?} is not a valid quantity: unable to parse quantity's suffix"
        )),
        Some(_) => errors.push(format!(
            "{path}: {text:?} is not a valid quantity: quantities must match the regular expression \
             '{QUANTITY_PATTERN}'"
        )),
    }
}

/// A suffix `ParseQuantity` interprets: decimal SI (`n u m "" k M G T P E`), binary SI (`Ki` ... `Ei`), or a
/// decimal exponent (`e` or `E` and an integer).
fn is_quantity_suffix(suffix: &str) -> bool {
    const SI: [&str; 16] = [
        "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    if SI.contains(&suffix) {
        return true;
    }
    let exponent = suffix.strip_prefix(['e', 'E']);
    exponent.is_some_and(|e| e.parse::<i64>().is_ok())
}

/// A Deployment's `spec` (defaults filled in): the native rules of the module docs.
fn check_deployment_spec(spec: &Value, errors: &mut Vec<String>) {
    if let Some(replicas) = spec.get("replicas").filter(|r| is_integer(r)) {
        if replicas.as_f64().is_some_and(|r| r < 0.0) {
            errors.push(format!("spec.replicas: {replicas} must be at least 0"));
        }
    }
    if let Some(selector) = spec.get("selector").filter(|s| s.is_object()) {
        let errors_before = errors.len();
        check_label_selector(selector, "spec.selector", errors);
        let non_empty = |name: &str| match selector.get(name) {
            Some(Value::Object(map)) => !map.is_empty(),
            Some(Value::Array(items)) => !items.is_empty(),
            _ => false,
        };
        if !non_empty("matchLabels") && !non_empty("matchExpressions") {
            errors.push(
                "spec.selector: empty selector is invalid for deployment (set matchLabels or \
                 matchExpressions)"
                    .to_string(),
            );
        } else if errors.len() == errors_before {
            // Like the API server, only a well-formed selector is matched.
            let empty = Map::new();
            let labels = (spec.pointer("/template/metadata/labels"))
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            for why in selector_mismatches(selector, labels) {
                errors.push(format!(
                    "spec.template.metadata.labels: selector does not match template labels: {why}"
                ));
            }
        }
    }
    let Some(template) = spec.get("template") else {
        return;
    };
    let policy = template
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str);
    if let Some(policy) = policy.filter(|p| *p != "Always") {
        errors.push(format!(
            "spec.template.spec.restartPolicy: unsupported value {policy:?} for a Deployment; supported \
             values: \"Always\""
        ));
    }
    if let Some(pod) = template.get("spec").filter(|p| p.is_object()) {
        check_pod_spec(pod, "spec.template.spec", errors);
    }
}

/// A `LabelSelector` at `path`: `matchLabels` keys and values, `matchExpressions` keys, values, and values
/// present exactly for `In` and `NotIn` (the `operator` values are an enum of the schema).
fn check_label_selector(selector: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        check_string_map(labels, &join(path, "matchLabels"), true, errors);
    }
    for (index, requirement) in array_field(selector, "matchExpressions").iter().enumerate() {
        let requirement_path = format!("{path}.matchExpressions[{index}]");
        if let Some(key) = requirement.get("key").and_then(Value::as_str) {
            if !is_qualified_name(key) {
                errors.push(format!(
                    "{requirement_path}.key: {key:?} is not a qualified name ([prefix/]name)"
                ));
            }
        }
        let values = array_field(requirement, "values");
        match requirement.get("operator").and_then(Value::as_str) {
            Some("In" | "NotIn") if values.is_empty() => errors.push(format!(
                "{requirement_path}.values: must be specified when operator is In or NotIn"
            )),
            Some("Exists" | "DoesNotExist") if !values.is_empty() => errors.push(format!(
                "{requirement_path}.values: may not be specified when operator is Exists or DoesNotExist"
            )),
            _ => {}
        }
        for (value_index, value) in values.iter().enumerate() {
            if let Some(text) = value.as_str().filter(|t| !is_label_value(t)) {
                errors.push(format!(
                    "{requirement_path}.values[{value_index}]: {text:?} is not a valid label value"
                ));
            }
        }
    }
}

/// Why the well-formed `selector` does not select `labels`: one reason per requirement it fails.
fn selector_mismatches(selector: &Value, labels: &Map<String, Value>) -> Vec<String> {
    let mut reasons = Vec::new();
    let has = |key: &str| match labels.get(key) {
        Some(actual) => format!("the template has {key} = {actual}"),
        None => format!("the template has no label {key}"),
    };
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    for (key, wanted) in match_labels.into_iter().flatten() {
        if labels.get(key) != Some(wanted) {
            reasons.push(format!(
                "spec.selector.matchLabels[{key}] = {wanted}, {}",
                has(key)
            ));
        }
    }
    for (index, requirement) in array_field(selector, "matchExpressions").iter().enumerate() {
        let key = requirement.get("key").and_then(Value::as_str).unwrap_or("");
        let operator = requirement
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or("");
        let values = array_field(requirement, "values");
        let actual = labels.get(key);
        let in_values = actual.is_some_and(|a| values.contains(a));
        let holds = match operator {
            "In" => in_values,
            "NotIn" => !in_values,
            "Exists" => actual.is_some(),
            "DoesNotExist" => actual.is_none(),
            _ => true,
        };
        if !holds {
            let values: Vec<String> = values.iter().map(Value::to_string).collect();
            reasons.push(format!(
                "spec.selector.matchExpressions[{index}] ({key} {operator} [{}]) does not hold, {}",
                values.join(", "),
                has(key)
            ));
        }
    }
    reasons
}

/// A pod template's `spec` at `path`: containers (and init containers), see the module docs.
fn check_pod_spec(pod: &Value, path: &str, errors: &mut Vec<String>) {
    if pod
        .get("containers")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        errors.push(format!(
            "{path}.containers: must list at least one container"
        ));
    }
    // Container names are unique across containers and init containers; duplicates within one list are
    // list-map keys the schema check reports.
    let mut names: Vec<(&str, String)> = Vec::new();
    for list in ["containers", "initContainers"] {
        for (index, container) in array_field(pod, list).iter().enumerate() {
            let container_path = format!("{path}.{list}[{index}]");
            check_container(container, &container_path, errors);
            let Some(name) = container.get("name").and_then(Value::as_str) else {
                continue;
            };
            match names.iter().find(|(seen, _)| *seen == name) {
                Some((_, first)) if list == "initContainers" && !first.contains(".initContainers[") => {
                    errors.push(format!(
                        "{container_path}.name: duplicate container name {name:?}, already used at {first}"
                    ))
                }
                Some(_) => {}
                None => names.push((name, container_path)),
            }
        }
    }
}

/// A container at `path`: name, image, ports and probes.
fn check_container(container: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(name) = container.get("name").and_then(Value::as_str) {
        if !is_dns1123_label(name) {
            errors.push(not_a_dns1123_label(&join(path, "name"), name));
        }
    }
    match container.get("image") {
        None => errors.push(format!("{path}.image: required field is missing")),
        Some(Value::String(image)) if image.is_empty() => {
            errors.push(format!("{path}.image: must not be empty"))
        }
        Some(_) => {}
    }
    let mut port_names: Vec<(&str, usize)> = Vec::new();
    for (index, port) in array_field(container, "ports").iter().enumerate() {
        let port_path = format!("{path}.ports[{index}]");
        if let Some(number) = port.get("containerPort") {
            check_port_number(number, &join(&port_path, "containerPort"), errors);
        }
        // hostPort 0 is "no host port".
        if let Some(number) = port.get("hostPort").filter(|n| n.as_f64() != Some(0.0)) {
            check_port_number(number, &join(&port_path, "hostPort"), errors);
        }
        let Some(name) = port.get("name").and_then(Value::as_str) else {
            continue;
        };
        if !is_iana_service_name(name) {
            errors.push(not_a_port_name(&join(&port_path, "name"), name));
        } else if let Some((_, first)) = port_names.iter().find(|(seen, _)| *seen == name) {
            errors.push(format!(
                "{port_path}.name: duplicate port name {name:?}, already at {path}.ports[{first}]"
            ));
        } else {
            port_names.push((name, index));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(value) = container.get(probe).filter(|p| p.is_object()) {
            check_probe(value, &join(path, probe), errors);
        }
    }
}

/// A probe at `path`: exactly one handler, its port, and counts that are not negative.
fn check_probe(probe: &Value, path: &str, errors: &mut Vec<String>) {
    let handlers: Vec<&str> = ["exec", "grpc", "httpGet", "tcpSocket"]
        .into_iter()
        .filter(|handler| has(probe, handler))
        .collect();
    match handlers.len() {
        0 => errors.push(format!(
            "{path}: must specify a handler type (exec, grpc, httpGet or tcpSocket)"
        )),
        1 => {}
        _ => errors.push(format!(
            "{path}: may not specify more than 1 handler type (found {})",
            handlers.join(", ")
        )),
    }
    for handler in ["httpGet", "tcpSocket"] {
        if let Some(port) = probe.get(handler).and_then(|h| h.get("port")) {
            check_port_number_or_name(port, &format!("{path}.{handler}.port"), false, errors);
        }
    }
    if let Some(port) = probe.pointer("/grpc/port") {
        check_port_number(port, &format!("{path}.grpc.port"), errors);
    }
    let counts = [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ];
    for count in counts {
        if let Some(value) = probe.get(count).filter(|v| is_integer(v)) {
            if value.as_f64().is_some_and(|v| v < 0.0) {
                errors.push(format!("{path}.{count}: {value} must be at least 0"));
            }
        }
    }
}

/// A Service's `spec` (defaults filled in): the native rules of the module docs.
fn check_service_spec(spec: &Value, errors: &mut Vec<String>) {
    // A selector is optional: without one, the Service's endpoints are managed by hand.
    if let Some(selector) = spec.get("selector").and_then(Value::as_object) {
        check_string_map(selector, "spec.selector", true, errors);
    }
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None")
        || spec.pointer("/clusterIPs/0").and_then(Value::as_str) == Some("None");
    let external_name = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
    let ports = array_field(spec, "ports");
    let no_ports = spec
        .get("ports")
        .is_none_or(|p| p.as_array().is_some_and(Vec::is_empty));
    if no_ports && !headless && !external_name {
        errors.push(
            "spec.ports: must list at least one port (unless clusterIP is None or type is ExternalName)"
                .to_string(),
        );
    }
    let mut names: Vec<(&str, usize)> = Vec::new();
    for (index, port) in ports.iter().enumerate() {
        let port_path = format!("spec.ports[{index}]");
        match port.get("name") {
            None | Some(Value::String(_)) if ports.len() > 1 && !has_text(port, "name") => errors
                .push(format!(
                    "{port_path}.name: required when the Service has more than one port"
                )),
            Some(Value::String(name)) if name.is_empty() => {}
            Some(Value::String(name)) if !is_dns1123_label(name) => {
                errors.push(not_a_dns1123_label(&join(&port_path, "name"), name))
            }
            Some(Value::String(name)) => match names.iter().find(|(seen, _)| seen == name) {
                Some((_, first)) => errors.push(format!(
                    "{port_path}.name: duplicate port name {name:?}, already at spec.ports[{first}]"
                )),
                None => names.push((name, index)),
            },
            _ => {}
        }
        if let Some(number) = port.get("port") {
            check_port_number(number, &join(&port_path, "port"), errors);
        }
        if let Some(target) = port.get("targetPort") {
            check_port_number_or_name(target, &join(&port_path, "targetPort"), true, errors);
        }
    }
}

/// The items of the list `object.name`; none if it is absent or not a list.
fn array_field<'a>(object: &'a Value, name: &str) -> &'a [Value] {
    (object.get(name).and_then(Value::as_array))
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `object.name` is a non-empty string.
fn has_text(object: &Value, name: &str) -> bool {
    object
        .get(name)
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty())
}

/// An integer at `path` is a port number, 1-65535 (values of other types are the schema's to report).
fn check_port_number(value: &Value, path: &str, errors: &mut Vec<String>) {
    if is_integer(value) && !value.as_f64().is_some_and(|n| (1.0..=65535.0).contains(&n)) {
        errors.push(format!(
            "{path}: {value} is not a valid port number (must be between 1 and 65535, inclusive)"
        ));
    }
}

/// An `IntOrString` port at `path`: a port number or an IANA service name. `zero_is_unset`: `0` and `""`
/// mean "not set" (a Service's `targetPort`, then defaulted to its `port`).
fn check_port_number_or_name(
    value: &Value,
    path: &str,
    zero_is_unset: bool,
    errors: &mut Vec<String>,
) {
    match value {
        Value::String(name) if name.is_empty() && zero_is_unset => {}
        Value::String(name) if !is_iana_service_name(name) => {
            errors.push(not_a_port_name(path, name))
        }
        Value::String(_) => {}
        _ if zero_is_unset && value.as_f64() == Some(0.0) => {}
        _ => check_port_number(value, path, errors),
    }
}

/// The message for `name` at `path`, which is not a port name.
fn not_a_port_name(path: &str, name: &str) -> String {
    format!(
        "{path}: {name:?} is not a valid port name (an IANA service name: at most 15 characters, lower-case \
         alphanumerics and '-', at least one letter, no '--', no '-' at either end)"
    )
}

/// An IANA service name (k8s.io/apimachinery `IsValidPortName`): 1-15 characters `a-z`, `0-9` and `-`, at
/// least one letter, no `--`, not starting or ending with `-`.
fn is_iana_service_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.chars().any(|c| c.is_ascii_lowercase())
        && !name.contains("--")
        && !name.starts_with('-')
        && !name.ends_with('-')
}

// ---------------------------------------------------------------------------------------------------------
// CEL rules (`x-kubernetes-validations`)

/// Why a hand-written CEL rule rejects `self`.
enum Reject {
    /// The rule is false: reported as `<path>: <message>`.
    False,
    /// The rule is false, and this says why: reported as `<path>: <message>: <why>`.
    Because(String),
    /// CEL would stop with this runtime error (a field the rule reads is not set, or has the wrong type).
    /// The API server rejects the object then too; reported as `<path>: <message>: cannot evaluate the
    /// rule: <error>` unless the value has other errors, which explain it.
    Error(String),
}

/// A CEL rule written in Rust: `Ok(())` when the rule holds for `self`, the value at the schema node that
/// declares the rule (defaults filled in).
type Rule = fn(&Value) -> Result<(), Reject>;

/// The CEL rules of the embedded CRDs that are evaluated, by their exact `rule` text. The message is the
/// CRD's: one rule text may carry different messages at different nodes. The comment above each group of
/// rules says where they are declared (`[]`: each list item, `{}`: each map value).
const CEL_RULES: &[(&str, Rule)] = &[
    // Istio VirtualService and DestinationRule: every duration field.
    (
        r#"duration(self) >= duration('1ms')"#,
        istio_duration_at_least_1ms,
    ),
    // Istio DestinationRule spec.workloadSelector.matchLabels, and its values ({}).
    (r#"self.all(key, !key.contains("*"))"#, |labels| {
        holds(map_keys(labels)?.all(|key| !key.contains('*')))
    }),
    (r#"self.all(key, key.size() != 0)"#, |labels| {
        holds(map_keys(labels)?.all(|key| !key.is_empty()))
    }),
    (r#"!self.contains("*")"#, |value| {
        holds(!string(value)?.contains('*'))
    }),
    // HTTPRoute spec.parentRefs (standard channel, then experimental channel).
    (
        r#"self.all(p1, self.all(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__ )) ? ((!has(p1.sectionName) || p1.sectionName == '') == (!has(p2.sectionName) || p2.sectionName == '')) : true))"#,
        |refs| parent_refs_all_or_none_set(refs, &["sectionName"]),
    ),
    (
        r#"self.all(p1, self.exists_one(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__ )) && (((!has(p1.sectionName) || p1.sectionName == '') && (!has(p2.sectionName) || p2.sectionName == '')) || (has(p1.sectionName) && has(p2.sectionName) && p1.sectionName == p2.sectionName))))"#,
        |refs| parent_refs_unique(refs, &["sectionName"]),
    ),
    (
        r#"self.all(p1, self.all(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__)) ? ((!has(p1.sectionName) || p1.sectionName == '') == (!has(p2.sectionName) || p2.sectionName == '') && (!has(p1.port) || p1.port == 0) == (!has(p2.port) || p2.port == 0)): true))"#,
        |refs| parent_refs_all_or_none_set(refs, &["sectionName", "port"]),
    ),
    (
        r#"self.all(p1, self.exists_one(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__ )) && (((!has(p1.sectionName) || p1.sectionName == '') && (!has(p2.sectionName) || p2.sectionName == '')) || ( has(p1.sectionName) && has(p2.sectionName) && p1.sectionName == p2.sectionName)) && (((!has(p1.port) || p1.port == 0) && (!has(p2.port) || p2.port == 0)) || (has(p1.port) && has(p2.port) && p1.port == p2.port))))"#,
        |refs| parent_refs_unique(refs, &["sectionName", "port"]),
    ),
    // HTTPRoute spec.rules.
    (
        r#"(self.size() > 0 ? self[0].matches.size() : 0) + (self.size() > 1 ? self[1].matches.size() : 0) + (self.size() > 2 ? self[2].matches.size() : 0) + (self.size() > 3 ? self[3].matches.size() : 0) + (self.size() > 4 ? self[4].matches.size() : 0) + (self.size() > 5 ? self[5].matches.size() : 0) + (self.size() > 6 ? self[6].matches.size() : 0) + (self.size() > 7 ? self[7].matches.size() : 0) + (self.size() > 8 ? self[8].matches.size() : 0) + (self.size() > 9 ? self[9].matches.size() : 0) + (self.size() > 10 ? self[10].matches.size() : 0) + (self.size() > 11 ? self[11].matches.size() : 0) + (self.size() > 12 ? self[12].matches.size() : 0) + (self.size() > 13 ? self[13].matches.size() : 0) + (self.size() > 14 ? self[14].matches.size() : 0) + (self.size() > 15 ? self[15].matches.size() : 0) <= 128"#,
        rules_have_at_most_128_matches,
    ),
    (
        r#"self.all(l1, !has(l1.name) || self.exists_one(l2, has(l2.name) && l1.name == l2.name))"#,
        rule_names_unique,
    ),
    // HTTPRoute spec.rules[].
    (
        r#"(has(self.backendRefs) && size(self.backendRefs) > 0) ? (!has(self.filters) || self.filters.all(f, !has(f.requestRedirect))): true"#,
        redirect_without_backend_refs,
    ),
    (
        r#"(has(self.filters) && self.filters.exists_one(f, has(f.requestRedirect) && has(f.requestRedirect.path) && f.requestRedirect.path.type == 'ReplacePrefixMatch' && has(f.requestRedirect.path.replacePrefixMatch))) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true"#,
        |rule| prefix_replacement_needs_one_prefix_match(rule, "requestRedirect"),
    ),
    (
        r#"(has(self.filters) && self.filters.exists_one(f, has(f.urlRewrite) && has(f.urlRewrite.path) && f.urlRewrite.path.type == 'ReplacePrefixMatch' && has(f.urlRewrite.path.replacePrefixMatch))) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true"#,
        |rule| prefix_replacement_needs_one_prefix_match(rule, "urlRewrite"),
    ),
    (
        r#"(has(self.backendRefs) && self.backendRefs.exists_one(b, (has(b.filters) && b.filters.exists_one(f, has(f.requestRedirect) && has(f.requestRedirect.path) && f.requestRedirect.path.type == 'ReplacePrefixMatch' && has(f.requestRedirect.path.replacePrefixMatch))) )) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true"#,
        |rule| backend_prefix_replacement_needs_one_prefix_match(rule, "requestRedirect"),
    ),
    (
        r#"(has(self.backendRefs) && self.backendRefs.exists_one(b, (has(b.filters) && b.filters.exists_one(f, has(f.urlRewrite) && has(f.urlRewrite.path) && f.urlRewrite.path.type == 'ReplacePrefixMatch' && has(f.urlRewrite.path.replacePrefixMatch))) )) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true"#,
        |rule| backend_prefix_replacement_needs_one_prefix_match(rule, "urlRewrite"),
    ),
    // HTTPRoute spec.rules[].matches[].path.
    (
        r#"(self.type in ['Exact','PathPrefix']) ? self.value.startsWith('/') : true"#,
        |path| exact_or_prefix_path_value(path, |value| value.starts_with('/')),
    ),
    (
        r#"(self.type in ['Exact','PathPrefix']) ? !self.value.contains('//') : true"#,
        |path| exact_or_prefix_path_value(path, |value| !value.contains("//")),
    ),
    (
        r#"(self.type in ['Exact','PathPrefix']) ? !self.value.contains('/./') : true"#,
        |path| exact_or_prefix_path_value(path, |value| !value.contains("/./")),
    ),
    (
        r#"(self.type in ['Exact','PathPrefix']) ? !self.value.contains('/../') : true"#,
        |path| exact_or_prefix_path_value(path, |value| !value.contains("/../")),
    ),
    (
        r#"(self.type in ['Exact','PathPrefix']) ? !self.value.contains('%2f') : true"#,
        |path| exact_or_prefix_path_value(path, |value| !value.contains("%2f")),
    ),
    (
        r#"(self.type in ['Exact','PathPrefix']) ? !self.value.contains('%2F') : true"#,
        |path| exact_or_prefix_path_value(path, |value| !value.contains("%2F")),
    ),
    (
        r#"(self.type in ['Exact','PathPrefix']) ? !self.value.contains('#') : true"#,
        |path| exact_or_prefix_path_value(path, |value| !value.contains('#')),
    ),
    (
        r#"(self.type in ['Exact','PathPrefix']) ? !self.value.endsWith('/..') : true"#,
        |path| exact_or_prefix_path_value(path, |value| !value.ends_with("/..")),
    ),
    (
        r#"(self.type in ['Exact','PathPrefix']) ? !self.value.endsWith('/.') : true"#,
        |path| exact_or_prefix_path_value(path, |value| !value.ends_with("/.")),
    ),
    (
        r#"self.type in ['Exact','PathPrefix'] || self.type == 'RegularExpression'"#,
        |path| {
            let path_type = string_field(path, "type")?;
            holds(matches!(
                path_type,
                "Exact" | "PathPrefix" | "RegularExpression"
            ))
        },
    ),
    (
        r#"(self.type in ['Exact','PathPrefix']) ? self.value.matches(r"""^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$""") : true"#,
        |path| exact_or_prefix_path_value(path, is_path_of_valid_characters),
    ),
    // HTTPRoute spec.rules[].timeouts.
    (
        r#"!(has(self.request) && has(self.backendRequest) && duration(self.request) != duration('0s') && duration(self.backendRequest) > duration(self.request))"#,
        backend_request_within_request,
    ),
    // HTTPRoute spec.rules[].backendRefs[], and the backendRef of every RequestMirror and ExternalAuth
    // filter; Flagger Canary spec.service.mirror[].backendRef.
    (
        r#"(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true"#,
        |reference| {
            let service = string_field(reference, "group")?.is_empty()
                && string_field(reference, "kind")? == "Service";
            holds(!service || has(reference, "port"))
        },
    ),
    // HTTPRoute spec.rules[].filters and spec.rules[].backendRefs[].filters.
    (
        r#"!(self.exists(f, f.type == 'RequestRedirect') && self.exists(f, f.type == 'URLRewrite'))"#,
        |filters| {
            let filters = list(filters)?;
            let redirects = count_filters(filters, "RequestRedirect")?;
            holds(redirects == 0 || count_filters(filters, "URLRewrite")? == 0)
        },
    ),
    (
        r#"self.filter(f, f.type == 'CORS').size() <= 1"#,
        |filters| holds(count_filters(list(filters)?, "CORS")? <= 1),
    ),
    (
        r#"self.filter(f, f.type == 'RequestHeaderModifier').size() <= 1"#,
        |filters| holds(count_filters(list(filters)?, "RequestHeaderModifier")? <= 1),
    ),
    (
        r#"self.filter(f, f.type == 'ResponseHeaderModifier').size() <= 1"#,
        |filters| holds(count_filters(list(filters)?, "ResponseHeaderModifier")? <= 1),
    ),
    (
        r#"self.filter(f, f.type == 'RequestRedirect').size() <= 1"#,
        |filters| holds(count_filters(list(filters)?, "RequestRedirect")? <= 1),
    ),
    (
        r#"self.filter(f, f.type == 'URLRewrite').size() <= 1"#,
        |filters| holds(count_filters(list(filters)?, "URLRewrite")? <= 1),
    ),
    // HTTPRoute spec.rules[].filters[] and spec.rules[].backendRefs[].filters[]: the field of each filter
    // type is set exactly for that type.
    (r#"!(has(self.cors) && self.type != 'CORS')"#, |filter| {
        field_only_for(filter, "cors", "type", "CORS")
    }),
    (r#"!(!has(self.cors) && self.type == 'CORS')"#, |filter| {
        field_required_for(filter, "cors", "type", "CORS")
    }),
    (
        r#"!(has(self.requestHeaderModifier) && self.type != 'RequestHeaderModifier')"#,
        |filter| {
            field_only_for(
                filter,
                "requestHeaderModifier",
                "type",
                "RequestHeaderModifier",
            )
        },
    ),
    (
        r#"!(!has(self.requestHeaderModifier) && self.type == 'RequestHeaderModifier')"#,
        |filter| {
            field_required_for(
                filter,
                "requestHeaderModifier",
                "type",
                "RequestHeaderModifier",
            )
        },
    ),
    (
        r#"!(has(self.responseHeaderModifier) && self.type != 'ResponseHeaderModifier')"#,
        |filter| {
            field_only_for(
                filter,
                "responseHeaderModifier",
                "type",
                "ResponseHeaderModifier",
            )
        },
    ),
    (
        r#"!(!has(self.responseHeaderModifier) && self.type == 'ResponseHeaderModifier')"#,
        |filter| {
            field_required_for(
                filter,
                "responseHeaderModifier",
                "type",
                "ResponseHeaderModifier",
            )
        },
    ),
    (
        r#"!(has(self.requestMirror) && self.type != 'RequestMirror')"#,
        |filter| field_only_for(filter, "requestMirror", "type", "RequestMirror"),
    ),
    (
        r#"!(!has(self.requestMirror) && self.type == 'RequestMirror')"#,
        |filter| field_required_for(filter, "requestMirror", "type", "RequestMirror"),
    ),
    (
        r#"!(has(self.requestRedirect) && self.type != 'RequestRedirect')"#,
        |filter| field_only_for(filter, "requestRedirect", "type", "RequestRedirect"),
    ),
    (
        r#"!(!has(self.requestRedirect) && self.type == 'RequestRedirect')"#,
        |filter| field_required_for(filter, "requestRedirect", "type", "RequestRedirect"),
    ),
    (
        r#"!(has(self.urlRewrite) && self.type != 'URLRewrite')"#,
        |filter| field_only_for(filter, "urlRewrite", "type", "URLRewrite"),
    ),
    (
        r#"!(!has(self.urlRewrite) && self.type == 'URLRewrite')"#,
        |filter| field_required_for(filter, "urlRewrite", "type", "URLRewrite"),
    ),
    (
        r#"!(has(self.extensionRef) && self.type != 'ExtensionRef')"#,
        |filter| field_only_for(filter, "extensionRef", "type", "ExtensionRef"),
    ),
    (
        r#"!(!has(self.extensionRef) && self.type == 'ExtensionRef')"#,
        |filter| field_required_for(filter, "extensionRef", "type", "ExtensionRef"),
    ),
    (
        r#"!(has(self.externalAuth) && self.type != 'ExternalAuth')"#,
        |filter| field_only_for(filter, "externalAuth", "type", "ExternalAuth"),
    ),
    (
        r#"!(!has(self.externalAuth) && self.type == 'ExternalAuth')"#,
        |filter| field_required_for(filter, "externalAuth", "type", "ExternalAuth"),
    ),
    // The payloads of the filters, under spec.rules[].filters[] and spec.rules[].backendRefs[].filters[]:
    // cors.allowHeaders, cors.allowMethods and cors.allowOrigins (one text, three messages);
    (r#"!('*' in self && self.size() > 1)"#, |values| {
        let values = list(values)?;
        holds(!(values.iter().any(|v| v.as_str() == Some("*")) && values.len() > 1))
    }),
    // requestMirror and requestMirror.fraction;
    (r#"!(has(self.percent) && has(self.fraction))"#, |mirror| {
        holds(!(has(mirror, "percent") && has(mirror, "fraction")))
    }),
    (r#"self.numerator <= self.denominator"#, |fraction| {
        holds(integer_field(fraction, "numerator")? <= integer_field(fraction, "denominator")?)
    }),
    // requestRedirect.path and urlRewrite.path;
    (
        r#"self.type == 'ReplaceFullPath' ? has(self.replaceFullPath) : true"#,
        |path| field_required_for(path, "replaceFullPath", "type", "ReplaceFullPath"),
    ),
    (
        r#"has(self.replaceFullPath) ? self.type == 'ReplaceFullPath' : true"#,
        |path| field_only_for(path, "replaceFullPath", "type", "ReplaceFullPath"),
    ),
    (
        r#"self.type == 'ReplacePrefixMatch' ? has(self.replacePrefixMatch) : true"#,
        |path| field_required_for(path, "replacePrefixMatch", "type", "ReplacePrefixMatch"),
    ),
    (
        r#"has(self.replacePrefixMatch) ? self.type == 'ReplacePrefixMatch' : true"#,
        |path| field_only_for(path, "replacePrefixMatch", "type", "ReplacePrefixMatch"),
    ),
    // externalAuth (experimental channel).
    (
        r#"self.protocol == 'GRPC' ? has(self.grpc) : true"#,
        |auth| field_required_for(auth, "grpc", "protocol", "GRPC"),
    ),
    (
        r#"has(self.grpc) ? self.protocol == 'GRPC' : true"#,
        |auth| field_only_for(auth, "grpc", "protocol", "GRPC"),
    ),
    (
        r#"self.protocol == 'HTTP' ? has(self.http) : true"#,
        |auth| field_required_for(auth, "http", "protocol", "HTTP"),
    ),
    (
        r#"has(self.http) ? self.protocol == 'HTTP' : true"#,
        |auth| field_only_for(auth, "http", "protocol", "HTTP"),
    ),
    // HTTPRoute spec.rules[].sessionPersistence (experimental channel).
    (
        r#"!has(self.cookieConfig) || !has(self.cookieConfig.lifetimeType) || self.cookieConfig.lifetimeType != 'Permanent' || has(self.absoluteTimeout)"#,
        |persistence| {
            if !has(persistence, "cookieConfig") {
                return Ok(());
            }
            let cookie = field(persistence, "cookieConfig")?;
            holds(
                !has(cookie, "lifetimeType")
                    || string_field(cookie, "lifetimeType")? != "Permanent"
                    || has(persistence, "absoluteTimeout"),
            )
        },
    ),
    (
        r#"!has(self.cookieConfig) || self.type == 'Cookie'"#,
        |persistence| {
            holds(
                !has(persistence, "cookieConfig") || string_field(persistence, "type")? == "Cookie",
            )
        },
    ),
];

/// CEL rules of the embedded CRDs that are deliberately not evaluated: the exact `rule` text and why. A rule
/// text that is neither here nor in `CEL_RULES` is an error (`unknown CEL rule at <path>: <rule>`). A rule
/// that cannot be evaluated by hand, or that never applies to a created object, is listed here with the
/// reason.
const NOT_EVALUATED: &[(&str, &str)] = &[
    // Argo Rollouts Rollout spec.selector.
    (
        "self == oldSelf",
        "a transition rule (it reads oldSelf): the API server evaluates it only when an object is updated, \
         never on create, which is what this validator checks",
    ),
];

/// How [`validate`] handles a CEL rule, by its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CelHandling {
    /// Evaluated by a Rust function of this file.
    Evaluated,
    /// Listed as not evaluated, for this reason.
    NotEvaluated(&'static str),
    /// Neither: a manifest that reaches the rule is rejected with `unknown CEL rule at <path>: <rule>`.
    Unknown,
}

/// A CEL rule declared in an embedded CRD.
#[derive(Clone, Debug)]
pub struct EmbeddedCelRule {
    /// The CRD's name, e.g. `httproutes.gateway.networking.k8s.io`, and `(experimental)` for the Gateway
    /// API experimental channel's copy.
    pub crd: String,
    /// The version (`v1`, ...) whose schema declares the rule.
    pub version: String,
    /// Where in that schema: `spec.rules[].filters`, `[]` for list items, `{}` for map values, `<oneOf 0>`
    /// etc. for combinator branches.
    pub path: String,
    pub rule: String,
    pub message: String,
    pub handling: CelHandling,
}

/// How [`validate`] handles the CEL rule `text`.
pub fn cel_handling(text: &str) -> CelHandling {
    if rule_function(text).is_some() {
        return CelHandling::Evaluated;
    }
    match NOT_EVALUATED.iter().find(|(rule, _)| *rule == text) {
        Some((_, reason)) => CelHandling::NotEvaluated(reason),
        None => CelHandling::Unknown,
    }
}

/// Every CEL rule of every version of every embedded CRD (both Gateway API channels); an error when an
/// embedded CRD does not parse.
pub fn embedded_cel_rules() -> Result<Vec<EmbeddedCelRule>, String> {
    let mut found = Vec::new();
    for (channel, crd) in embedded_crds(None, None) {
        let crd = crd
            .as_ref()
            .map_err(|e| format!("an embedded CRD is not valid YAML: {e}"))?;
        let mut name = (crd.pointer("/metadata/name").and_then(Value::as_str))
            .unwrap_or("?")
            .to_string();
        if *channel == Some(Channel::Experimental) {
            name.push_str(" (experimental)");
        }
        let versions = crd.pointer("/spec/versions").and_then(Value::as_array);
        for version in versions.into_iter().flatten() {
            let version_name = version.get("name").and_then(Value::as_str).unwrap_or("?");
            let Some(schema) = version.pointer("/schema/openAPIV3Schema") else {
                continue;
            };
            let mut rules = Vec::new();
            collect_cel_rules(schema, "(root)", &mut rules);
            for (path, rule, message) in rules {
                found.push(EmbeddedCelRule {
                    crd: name.clone(),
                    version: version_name.to_string(),
                    path,
                    handling: cel_handling(&rule),
                    rule,
                    message,
                });
            }
        }
    }
    Ok(found)
}

/// What is wrong with the tables `CEL_RULES` and `NOT_EVALUATED`: a rule text listed twice, or in both, or
/// in no embedded CRD (left over from an older CRD). Empty when all is well.
pub fn cel_table_problems() -> Result<Vec<String>, String> {
    let embedded = embedded_cel_rules()?;
    let mut problems = Vec::new();
    let texts = (CEL_RULES.iter().map(|(text, _)| *text))
        .chain(NOT_EVALUATED.iter().map(|(text, _)| *text));
    let mut seen = Vec::new();
    for text in texts {
        if seen.contains(&text) {
            problems.push(format!("listed twice: {text}"));
        }
        seen.push(text);
        if !embedded.iter().any(|rule| rule.rule == text) {
            problems.push(format!("in no embedded CRD: {text}"));
        }
    }
    Ok(problems)
}

/// The rules under `schema`, as (path, rule, message); `path` is the path of `schema`.
fn collect_cel_rules(schema: &Value, path: &str, found: &mut Vec<(String, String, String)>) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    let rules = schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array);
    for rule in rules.into_iter().flatten() {
        let text = |key: &str| {
            rule.get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        found.push((path.to_string(), text("rule"), text("message")));
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, property) in properties.into_iter().flatten() {
        let property_path = match path {
            "(root)" => name.clone(),
            _ => join(path, name),
        };
        collect_cel_rules(property, &property_path, found);
    }
    if let Some(items) = schema.get("items") {
        collect_cel_rules(items, &format!("{path}[]"), found);
    }
    if let Some(additional) = schema.get("additionalProperties") {
        collect_cel_rules(additional, &format!("{path}{{}}"), found);
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        let branches = schema.get(combinator).and_then(Value::as_array);
        for (index, branch) in branches.into_iter().flatten().enumerate() {
            collect_cel_rules(branch, &format!("{path}<{combinator} {index}>"), found);
        }
    }
    if let Some(branch) = schema.get("not") {
        collect_cel_rules(branch, &format!("{path}<not>"), found);
    }
}

/// The function that evaluates the CEL rule `text`, if there is one.
fn rule_function(text: &str) -> Option<Rule> {
    CEL_RULES
        .iter()
        .find(|(rule, _)| *rule == text)
        .map(|(_, function)| *function)
}

/// Evaluates the CEL rules (`x-kubernetes-validations`) of one schema node with `self` = `value`.
/// `value_has_errors`: the schema checks found errors in `value` (then a CEL runtime error is not reported).
fn check_rules(
    schema: &Map<String, Value>,
    value: &Value,
    path: &str,
    value_has_errors: bool,
    errors: &mut Vec<String>,
) {
    let Some(rules) = schema.get("x-kubernetes-validations") else {
        return;
    };
    let Some(rules) = rules.as_array() else {
        errors.push(format!("{path}: x-kubernetes-validations is not a list"));
        return;
    };
    for rule in rules {
        let Some(text) = rule.get("rule").and_then(Value::as_str) else {
            errors.push(format!(
                "{path}: an x-kubernetes-validations entry has no rule text"
            ));
            continue;
        };
        let keys = rule.as_object().into_iter().flat_map(Map::keys);
        let other_keys: Vec<&String> = keys
            .filter(|k| !matches!(k.as_str(), "rule" | "message"))
            .collect();
        if !other_keys.is_empty() {
            errors.push(format!(
                "{path}: x-kubernetes-validations keys {other_keys:?} are not supported by this validator \
                 (rule {text})"
            ));
            continue;
        }
        // The API server's message for a rule without one.
        let message = match rule.get("message").and_then(Value::as_str) {
            Some(message) => message.to_string(),
            None => format!("failed rule: {text}"),
        };
        let Some(function) = rule_function(text) else {
            if cel_handling(text) == CelHandling::Unknown {
                errors.push(format!("unknown CEL rule at {path}: {text}"));
            }
            continue;
        };
        match function(value) {
            Ok(()) => {}
            Err(Reject::False) => errors.push(format!("{path}: {message}")),
            Err(Reject::Because(why)) => errors.push(format!("{path}: {message}: {why}")),
            Err(Reject::Error(_)) if value_has_errors => {}
            Err(Reject::Error(error)) => errors.push(format!(
                "{path}: {message}: cannot evaluate the rule: {error}"
            )),
        }
    }
}

/// `Ok(())` if `condition` holds, else the rule is false.
fn holds(condition: bool) -> Result<(), Reject> {
    if condition {
        Ok(())
    } else {
        Err(Reject::False)
    }
}

/// CEL `has(object.name)`. A `null` counts as not set: the API server drops it before the rules run.
fn has(object: &Value, name: &str) -> bool {
    object.get(name).is_some_and(|value| !value.is_null())
}

/// CEL `object.name`: a runtime error when the field is not set.
fn field<'a>(object: &'a Value, name: &str) -> Result<&'a Value, Reject> {
    match object.get(name) {
        Some(value) if !value.is_null() => Ok(value),
        _ => Err(Reject::Error(format!("no such key: {name}"))),
    }
}

/// `value` as a CEL string.
fn string(value: &Value) -> Result<&str, Reject> {
    (value.as_str())
        .ok_or_else(|| Reject::Error(format!("expected a string, got {}", describe(value))))
}

/// `value` as a CEL list.
fn list(value: &Value) -> Result<&[Value], Reject> {
    (value.as_array().map(Vec::as_slice))
        .ok_or_else(|| Reject::Error(format!("expected a list, got {}", describe(value))))
}

/// The keys of `value` as a CEL map.
fn map_keys(value: &Value) -> Result<impl Iterator<Item = &String>, Reject> {
    (value.as_object().map(Map::keys))
        .ok_or_else(|| Reject::Error(format!("expected a map, got {}", describe(value))))
}

/// CEL `object.name`, a string.
fn string_field<'a>(object: &'a Value, name: &str) -> Result<&'a str, Reject> {
    string(field(object, name)?)
}

/// CEL `object.name`, a list.
fn list_field<'a>(object: &'a Value, name: &str) -> Result<&'a [Value], Reject> {
    list(field(object, name)?)
}

/// CEL `object.name`, an integer.
fn integer_field(object: &Value, name: &str) -> Result<i128, Reject> {
    let value = field(object, name)?;
    let integer = (value.as_i64().map(i128::from))
        .or(value.as_u64().map(i128::from))
        .or(value
            .as_f64()
            .filter(|f| f.fract() == 0.0)
            .map(|f| f as i128));
    integer.ok_or_else(|| {
        Reject::Error(format!(
            "{name}: expected an integer, got {}",
            describe(value)
        ))
    })
}

/// How many of `items` `predicate` holds for (CEL `items.filter(x, p).size()`; `exists` is `> 0`,
/// `exists_one` is `== 1`).
fn count(
    items: &[Value],
    predicate: impl Fn(&Value) -> Result<bool, Reject>,
) -> Result<usize, Reject> {
    let mut found = 0;
    for item in items {
        if predicate(item)? {
            found += 1;
        }
    }
    Ok(found)
}

/// CEL `items.all(x, predicate(x))`.
fn all(
    items: &[Value],
    predicate: impl Fn(&Value) -> Result<bool, Reject>,
) -> Result<bool, Reject> {
    for item in items {
        if !predicate(item)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Istio: `duration(self) >= duration('1ms')`, the string parsed as a Go duration.
fn istio_duration_at_least_1ms(value: &Value) -> Result<(), Reject> {
    let text = string(value)?;
    match parse_go_duration(text) {
        Ok(nanos) if nanos >= 1_000_000 => Ok(()),
        Ok(_) => Err(Reject::Because(format!("{text:?} is less than 1ms"))),
        Err(why) => Err(Reject::Because(format!(
            "{text:?} is not a Go duration ({why})"
        ))),
    }
}

/// `!has(p.<name>) || p.<name> == ''` (or `== 0` for the port): the field is not set, or set to its zero.
fn unset(parent_ref: &Value, name: &str) -> bool {
    match parent_ref.get(name) {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(other) => other.as_f64() == Some(0.0),
    }
}

/// `(unset(p1.<name>) && unset(p2.<name>)) || (has(p1.<name>) && has(p2.<name>) && p1.<name> == p2.<name>)`.
fn same_optional(p1: &Value, p2: &Value, name: &str) -> bool {
    let both_set = match (field(p1, name), field(p2, name)) {
        (Ok(a), Ok(b)) => same_value(a, b),
        _ => false,
    };
    (unset(p1, name) && unset(p2, name)) || both_set
}

/// HTTPRoute parentRefs: `p1` and `p2` refer to the same parent (group, kind, name and namespace; an unset
/// namespace is the same as `''`).
fn same_parent(p1: &Value, p2: &Value) -> Result<bool, Reject> {
    Ok(string_field(p1, "group")? == string_field(p2, "group")?
        && string_field(p1, "kind")? == string_field(p2, "kind")?
        && string_field(p1, "name")? == string_field(p2, "name")?
        && same_optional(p1, p2, "namespace"))
}

/// HTTPRoute parentRefs: of two references to the same parent, either both or neither set each of `fields`
/// (`sectionName`; on the experimental channel also `port`).
fn parent_refs_all_or_none_set(refs: &Value, fields: &[&str]) -> Result<(), Reject> {
    let refs = list(refs)?;
    holds(all(refs, |p1| {
        all(refs, |p2| {
            let agree = fields.iter().all(|name| unset(p1, name) == unset(p2, name));
            Ok(!same_parent(p1, p2)? || agree)
        })
    })?)
}

/// HTTPRoute parentRefs: no two references to the same parent have the same `fields` (each reference
/// matches exactly one: itself).
fn parent_refs_unique(refs: &Value, fields: &[&str]) -> Result<(), Reject> {
    let refs = list(refs)?;
    holds(all(refs, |p1| {
        let same = |p2: &Value| {
            Ok(same_parent(p1, p2)? && fields.iter().all(|name| same_optional(p1, p2, name)))
        };
        Ok(count(refs, same)? == 1)
    })?)
}

/// HTTPRoute spec.rules: at most 128 matches in the first 16 rules (more rules are an error of their own).
fn rules_have_at_most_128_matches(rules: &Value) -> Result<(), Reject> {
    let mut total = 0;
    for rule in list(rules)?.iter().take(16) {
        total += list_field(rule, "matches")?.len();
    }
    holds(total <= 128)
}

/// HTTPRoute spec.rules (experimental channel): a rule name is used once at most.
fn rule_names_unique(rules: &Value) -> Result<(), Reject> {
    let rules = list(rules)?;
    holds(all(rules, |l1| {
        if !has(l1, "name") {
            return Ok(true);
        }
        let name = field(l1, "name")?;
        let same = |l2: &Value| Ok(has(l2, "name") && same_value(name, field(l2, "name")?));
        Ok(count(rules, same)? == 1)
    })?)
}

/// HTTPRoute spec.rules[]: a rule with backendRefs has no RequestRedirect filter.
fn redirect_without_backend_refs(rule: &Value) -> Result<(), Reject> {
    if !has(rule, "backendRefs") || list_field(rule, "backendRefs")?.is_empty() {
        return Ok(());
    }
    if !has(rule, "filters") {
        return Ok(());
    }
    let filters = list_field(rule, "filters")?;
    holds(filters.iter().all(|filter| !has(filter, "requestRedirect")))
}

/// The filter has a `<payload>` (requestRedirect or urlRewrite) whose path replaces the prefix match:
/// `has(f.<payload>) && has(f.<payload>.path) && f.<payload>.path.type == 'ReplacePrefixMatch' &&
/// has(f.<payload>.path.replacePrefixMatch)`.
fn replaces_prefix_match(filter: &Value, payload: &str) -> Result<bool, Reject> {
    if !has(filter, payload) || !has(field(filter, payload)?, "path") {
        return Ok(false);
    }
    let path = field(field(filter, payload)?, "path")?;
    Ok(string_field(path, "type")? == "ReplacePrefixMatch" && has(path, "replacePrefixMatch"))
}

/// The rule has exactly one match, and its path is a PathPrefix match: `!(size(self.matches) != 1 ||
/// !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix')`.
fn has_one_prefix_match(rule: &Value) -> Result<bool, Reject> {
    let matches = list_field(rule, "matches")?;
    if matches.len() != 1 || !has(&matches[0], "path") {
        return Ok(false);
    }
    Ok(string_field(field(&matches[0], "path")?, "type")? == "PathPrefix")
}

/// HTTPRoute spec.rules[]: when exactly one of the rule's filters replaces the prefix match (with a
/// `<payload>`, requestRedirect or urlRewrite), the rule has exactly one match, a PathPrefix one.
fn prefix_replacement_needs_one_prefix_match(rule: &Value, payload: &str) -> Result<(), Reject> {
    let replacing = has(rule, "filters")
        && count(list_field(rule, "filters")?, |f| {
            replaces_prefix_match(f, payload)
        })? == 1;
    holds(!replacing || has_one_prefix_match(rule)?)
}

/// HTTPRoute spec.rules[]: when exactly one backendRef has exactly one filter that replaces the prefix match
/// (with a `<payload>`), the rule has exactly one match, a PathPrefix one.
fn backend_prefix_replacement_needs_one_prefix_match(
    rule: &Value,
    payload: &str,
) -> Result<(), Reject> {
    let backend_replaces = |backend: &Value| {
        Ok(has(backend, "filters")
            && count(list_field(backend, "filters")?, |f| {
                replaces_prefix_match(f, payload)
            })? == 1)
    };
    let replacing =
        has(rule, "backendRefs") && count(list_field(rule, "backendRefs")?, backend_replaces)? == 1;
    holds(!replacing || has_one_prefix_match(rule)?)
}

/// HTTPRoute spec.rules[].matches[].path: `(self.type in ['Exact','PathPrefix']) ? check(self.value) :
/// true`.
fn exact_or_prefix_path_value(path: &Value, check: fn(&str) -> bool) -> Result<(), Reject> {
    if !matches!(string_field(path, "type")?, "Exact" | "PathPrefix") {
        return Ok(());
    }
    holds(check(string_field(path, "value")?))
}

/// `value.matches(r"""^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$""")`: path characters of RFC
/// 3986 and percent-encodings only.
fn is_path_of_valid_characters(value: &str) -> bool {
    static PATH: OnceLock<regex::Regex> = OnceLock::new();
    let path = PATH.get_or_init(|| {
        regex::Regex::new(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")
            .expect("a valid regex")
    });
    path.is_match(value)
}

/// HTTPRoute spec.rules[].timeouts: backendRequest is not longer than request, unless request is `0s` (no
/// timeout). Both are GEP-2257 durations (their `pattern` is checked by the schema); CEL `duration()` parses
/// them as Go durations.
fn backend_request_within_request(timeouts: &Value) -> Result<(), Reject> {
    if !has(timeouts, "request") || !has(timeouts, "backendRequest") {
        return Ok(());
    }
    let duration = |name: &str| {
        let text = string_field(timeouts, name)?;
        parse_go_duration(text).map_err(|why| Reject::Error(format!("duration({text:?}): {why}")))
    };
    let request = duration("request")?;
    holds(request == 0 || duration("backendRequest")? <= request)
}

/// HTTPRoute filters: how many of `filters` have type `filter_type` (`f.type == '<filter_type>'`).
fn count_filters(filters: &[Value], filter_type: &str) -> Result<usize, Reject> {
    count(filters, |filter| {
        Ok(string_field(filter, "type")? == filter_type)
    })
}

/// `!(has(self.<name>) && self.<key> != '<value>')`, or `has(self.<name>) ? self.<key> == '<value>' : true`:
/// `<name>` is set only when `<key>` is `<value>`.
fn field_only_for(object: &Value, name: &str, key: &str, value: &str) -> Result<(), Reject> {
    holds(!has(object, name) || string_field(object, key)? == value)
}

/// `!(!has(self.<name>) && self.<key> == '<value>')`, or `self.<key> == '<value>' ? has(self.<name>) :
/// true`: `<name>` is set when `<key>` is `<value>`.
fn field_required_for(object: &Value, name: &str, key: &str, value: &str) -> Result<(), Reject> {
    holds(has(object, name) || string_field(object, key)? != value)
}

/// Parses a Go duration (`time.ParseDuration`: `10s`, `1m30s`, `1.5h`, `-2ms`, `0`) into nanoseconds.
fn parse_go_duration(text: &str) -> Result<i128, String> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err("empty".to_string());
    }
    let not_digit = |c: char| !c.is_ascii_digit();
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_end = rest.find(not_digit).unwrap_or(rest.len());
        let (int_digits, mut after) = rest.split_at(int_end);
        let mut fraction_digits = "";
        if let Some(fraction) = after.strip_prefix('.') {
            let fraction_end = fraction.find(not_digit).unwrap_or(fraction.len());
            (fraction_digits, after) = fraction.split_at(fraction_end);
        }
        if int_digits.is_empty() && fraction_digits.is_empty() {
            return Err("expected a number".to_string());
        }
        let unit_end = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let unit_nanos: i128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err("missing unit".to_string()),
            _ => return Err(format!("unknown unit {unit:?}")),
        };
        // Digits beyond the 18th after the point cannot change a nanosecond count.
        let fraction_digits = &fraction_digits[..fraction_digits.len().min(18)];
        let int_value: i128 = if int_digits.is_empty() {
            0
        } else {
            int_digits.parse().unwrap_or(i128::MAX)
        };
        let fraction_value: i128 = fraction_digits.parse().unwrap_or(0);
        let fraction_nanos =
            fraction_value * unit_nanos / 10_i128.pow(fraction_digits.len() as u32);
        total = int_value
            .checked_mul(unit_nanos)
            .and_then(|n| n.checked_add(fraction_nanos))
            .and_then(|n| n.checked_add(total))
            .filter(|n| *n <= i64::MAX as i128 + i128::from(negative))
            .ok_or_else(|| "out of range".to_string())?;
        rest = next;
    }
    Ok(if negative { -total } else { total })
}

/// Whether `value` has the OpenAPI `type` `expected`. Integers are numbers, and an integral float (`5.0`) is
/// an integer, as in the API server's JSON decoding.
fn has_type(value: &Value, expected: &str) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => is_integer(value),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => false,
    }
}

fn is_integer(value: &Value) -> bool {
    value.is_i64()
        || value.is_u64()
        || value
            .as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// JSON equality, except that numbers compare by value (`301` equals `301.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A value for messages: `string "3"`, `integer 3`, `object`, ...
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) if is_integer(value) => format!("integer {n}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(_) => format!("string {value}"),
        Value::Array(_) => "array".to_string(),
        Value::Object(_) => "object".to_string(),
    }
}

/// The strings of a JSON array such as `required: [a, b]`; nothing for anything else.
fn string_list(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// `spec` + `http` → `spec.http`.
fn join(path: &str, name: &str) -> String {
    format!("{path}.{name}")
}

/// A DNS-1123 label: 1–63 lower-case alphanumerics or `-`, starting and ending with an alphanumeric.
fn is_dns1123_label(text: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    text.len() <= 63
        && text.starts_with(alphanumeric)
        && text.ends_with(alphanumeric)
        && text.chars().all(|c| alphanumeric(c) || c == '-')
}

/// A DNS-1123 subdomain: at most 253 characters, dot-separated DNS-1123 labels.
fn is_dns1123_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(is_dns1123_label)
}

/// A label or annotation key: an optional DNS-1123 subdomain prefix and `/`, then a name of 1–63
/// alphanumerics, `-`, `_` or `.`, starting and ending with an alphanumeric.
fn is_qualified_name(text: &str) -> bool {
    let (prefix, name) = match text.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, text),
    };
    prefix.is_none_or(is_dns1123_subdomain) && !name.is_empty() && is_label_value(name)
}

/// A label value: empty, or at most 63 alphanumerics, `-`, `_` or `.`, starting and ending with an
/// alphanumeric.
fn is_label_value(text: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_alphanumeric();
    text.is_empty()
        || (text.len() <= 63
            && text.starts_with(alphanumeric)
            && text.ends_with(alphanumeric)
            && text
                .chars()
                .all(|c| alphanumeric(c) || matches!(c, '-' | '_' | '.')))
}

// ---------------------------------------------------------------------------------------------
// Streams of manifests (`meshc validate`)
// ---------------------------------------------------------------------------------------------

/// Where each field of one YAML document is written: every mapping key (as `a.b` and as the map
/// entry `a[b]`, the two ways the errors above name a field) and every list item (`a[0]`).
#[derive(Debug, Default)]
struct Places {
    /// Path → byte range of the key, or of the item's first token.
    at: crate::hash::HashMap<String, (usize, usize)>,
    /// The document's first byte and its end.
    range: (usize, usize),
    /// Whether the document holds anything (an empty document is skipped, as `kubectl` does).
    empty: bool,
}

impl Places {
    /// The range of `path`, or of the nearest enclosing field that is written (a missing field
    /// is reported at its parent), or of the document's start.
    fn find(&self, mut path: &str) -> (usize, usize) {
        loop {
            if let Some(&range) = self.at.get(path) {
                return range;
            }
            let parent = if path.ends_with(']') {
                path.rfind('[').map(|open| &path[..open])
            } else {
                path.rfind('.').map(|dot| &path[..dot])
            };
            match parent {
                Some(parent) if !parent.is_empty() => path = parent,
                _ => return (self.range.0, self.range.0),
            }
        }
    }
}

/// A collection being walked: a mapping (and its pending key) or a list (and its next index).
enum Frame {
    Mapping { path: String, key: Option<String> },
    List { path: String, next: usize },
}

/// The places of every document of `text`, in order, up to the first that is not YAML; then
/// where and why that one cannot be read.
fn places(text: &str) -> (Vec<Places>, Option<(usize, String)>) {
    use serde_saphyr::granit_parser::{Event, Parser};
    let mut documents = Vec::new();
    let mut current = Places::default();
    let mut stack: Vec<Frame> = Vec::new();
    // Whether the document's root node has been seen, and whether it is a null scalar.
    let mut root_null = true;
    let offset = |marker: &serde_saphyr::granit_parser::Marker| {
        marker.byte_offset().unwrap_or(marker.index())
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(event) => event,
            Err(e) => return (documents, Some((offset(e.marker()), e.info().to_string()))),
        };
        let (start, end) = (offset(&span.start), offset(&span.end));
        // The path of a node in the current position, and whether it is a mapping key.
        let position = |current: &mut Places, stack: &mut Vec<Frame>| -> Option<String> {
            match stack.last_mut() {
                None => Some(String::new()),
                Some(Frame::List { path, next }) => {
                    let item = format!("{path}[{next}]");
                    *next += 1;
                    current.at.entry(item.clone()).or_insert((start, end));
                    Some(item)
                }
                // After a key, its value; otherwise the next key (`None`).
                Some(Frame::Mapping { key, .. }) => key.take(),
            }
        };
        match event {
            Event::DocumentStart(..) => {
                current = Places {
                    range: (start, start),
                    ..Places::default()
                };
                stack.clear();
                root_null = true;
            }
            Event::DocumentEnd => {
                current.range.1 = end;
                current.empty = root_null;
                documents.push(std::mem::take(&mut current));
            }
            Event::Scalar(value, style, ..) => {
                let is_root = stack.is_empty();
                match position(&mut current, &mut stack) {
                    Some(_) => {
                        if is_root {
                            root_null =
                                matches!(value.as_ref(), "~" | "" | "null" | "Null" | "NULL")
                                    && style == serde_saphyr::granit_parser::ScalarStyle::Plain;
                        }
                    }
                    None => {
                        // A mapping key: its field's path, both ways.
                        if let Some(Frame::Mapping { path, key }) = stack.last_mut() {
                            let (dotted, entry) = if path.is_empty() {
                                (value.to_string(), value.to_string())
                            } else {
                                (format!("{path}.{value}"), format!("{path}[{value}]"))
                            };
                            let end = end.max(one_char(text, start));
                            current.at.entry(dotted.clone()).or_insert((start, end));
                            current.at.entry(entry).or_insert((start, end));
                            *key = Some(dotted);
                        }
                    }
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_root = stack.is_empty();
                // A collection used as a key is not a field: it gets the path `?`.
                let path = position(&mut current, &mut stack).unwrap_or_else(|| "?".to_string());
                if is_root {
                    root_null = false;
                }
                stack.push(match event {
                    Event::MappingStart(..) => Frame::Mapping { path, key: None },
                    _ => Frame::List { path, next: 0 },
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            Event::Alias(..) | Event::UnresolvedAlias(..) => {
                if stack.is_empty() {
                    root_null = false;
                }
                position(&mut current, &mut stack);
            }
            _ => {}
        }
    }
    (documents, None)
}

/// The end of the character at `start` in `text` (`start` itself at the end of the text), so
/// that a place is never empty and never ends inside a character.
fn one_char(text: &str, start: usize) -> usize {
    text.get(start..)
        .and_then(|rest| rest.chars().next())
        .map_or(start, |c| start + c.len_utf8())
}

/// Splits `line L column C: why` into the byte offset of line L, column C of `text` (1-based,
/// columns in characters) and `why`; no offset when the message names no place in `text`.
fn locate<'m>(text: &str, message: &'m str) -> (Option<usize>, &'m str) {
    let place = message.strip_prefix("line ").and_then(|rest| {
        let (line, rest) = rest.split_once(" column ")?;
        let (column, why) = rest.split_once(": ")?;
        let (line, column) = (line.parse::<usize>().ok()?, column.parse::<usize>().ok()?);
        let start = text
            .split_inclusive('\n')
            .take(line.checked_sub(1)?)
            .map(str::len)
            .sum::<usize>();
        let rest = text.get(start..)?;
        let offset = rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i);
        Some((start + offset, why))
    });
    match place {
        Some((offset, why)) => (Some(offset), why),
        None => (None, message),
    }
}

/// Why a field is rejected, as the help of its diagnostic.
fn help_for(what: &str) -> &'static str {
    if what.contains("unknown field") {
        "remove the field, or check its spelling and indentation against the schema"
    } else if what.contains("required") || what.contains("missing") {
        "add the missing field"
    } else if what.contains("must be one of") || what.contains("supported values") {
        "use one of the values the schema lists"
    } else {
        "change the value to one the schema accepts: the API server rejects the manifest as it is"
    }
}

/// Checks every document of a YAML stream (`file`, holding `text`) as the API server would
/// (the embedded schemas and CEL rules, with the HTTPRoute CRD of `channel`): E0501 for each
/// field a schema rejects, at the line it is written on; E0502 for text that is not YAML, or a
/// document that is not a Kubernetes object; N0003 for a kind without an embedded schema,
/// which is skipped. Returns the diagnostics and the number of documents checked (not skipped).
pub fn check_stream(
    file: crate::FileId,
    text: &str,
    channel: Channel,
) -> (Vec<crate::Diagnostic>, usize) {
    let stream = read_stream(file, text, channel);
    (stream.diagnostics, stream.checked)
}

/// A YAML stream read and checked by [`read_stream`].
pub(crate) struct Stream {
    /// What [`check_stream`] reports.
    pub(crate) diagnostics: Vec<crate::Diagnostic>,
    /// Every Kubernetes object of the stream (checked or skipped), with where its `kind` is.
    pub(crate) objects: Vec<(Value, crate::Span)>,
    /// How many objects were checked (not skipped).
    pub(crate) checked: usize,
}

/// [`check_stream`], keeping the objects it read (for `meshc import`).
pub(crate) fn read_stream(file: crate::FileId, text: &str, channel: Channel) -> Stream {
    use crate::{Code, Diagnostic, Span};
    let span = |(start, end): (usize, usize)| Span {
        file,
        start: u32::try_from(start).unwrap_or(u32::MAX),
        end: u32::try_from(end.max(start)).unwrap_or(u32::MAX),
    };
    let mut out = Vec::new();
    let (documents, unreadable) = places(text);
    if let Some((offset, message)) = unreadable {
        let offset = offset.min(text.len());
        let end = text[offset..].find('\n').map_or(text.len(), |n| offset + n);
        out.push(Diagnostic::new(
            Code::E0502,
            format!("this is not YAML: {message}"),
            span((offset, end)),
            "cannot be read from here on",
            "fix the YAML syntax (indentation, quotes, `:` after keys)",
        ));
    }
    let mut checked = 0;
    let mut objects = Vec::new();
    for document in documents.iter().filter(|d| !d.empty) {
        // From the start of the line the document starts on (its first key may be indented).
        let line_start = text[..document.range.0].rfind('\n').map_or(0, |n| n + 1);
        let begin = if text[line_start..document.range.0].trim().is_empty() {
            line_start
        } else {
            document.range.0
        };
        let slice = &text[begin..document.range.1.min(text.len())];
        let value: Value = match serde_saphyr::from_str(slice) {
            Ok(value) => value,
            Err(e) => {
                // The reader's first line: `error: line L column C: why` (its other lines
                // quote the text, which the diagnostic shows itself).
                let message = e.to_string();
                let first = message.lines().next().unwrap_or_default();
                let first = first.strip_prefix("error: ").unwrap_or(first);
                let (at, why) = locate(slice, first);
                let why = if why.starts_with("budget breached") {
                    "its aliases expand to too many nodes"
                } else if why.starts_with("recursive references") {
                    "an alias refers to the node it is in"
                } else {
                    why
                };
                let at = begin + at.unwrap_or(0);
                out.push(Diagnostic::new(
                    Code::E0502,
                    format!("this document cannot be read: {why}"),
                    span((at, one_char(text, at))),
                    "here",
                    "fix the document: an alias that refers to itself, or aliases that expand to too many nodes, cannot be read",
                ));
                continue;
            }
        };
        let kind = value.get("kind").and_then(Value::as_str);
        let api_version = value.get("apiVersion").and_then(Value::as_str);
        let (Some(kind), Some(api_version)) = (kind, api_version) else {
            out.push(Diagnostic::new(
                Code::E0502,
                "this document is not a Kubernetes object",
                span(document.find("kind")),
                "no `apiVersion` and `kind`",
                "every manifest starts with `apiVersion:` and `kind:` (a list of objects is not read either: write one document per object, separated by `---`)",
            ));
            continue;
        };
        let (kind, api_version) = (kind.to_string(), api_version.to_string());
        let (start, end) = document.find("kind");
        let kind_at = span((start, end.max(one_char(text, start))));
        checked += 1;
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("(no name)");
        let errors = validate_with_channel(&value, channel)
            .err()
            .unwrap_or_default();
        for error in errors {
            let (path, what) = error.split_once(": ").unwrap_or(("", error.as_str()));
            if path == "apiVersion" && what.starts_with("no embedded CRD or built-in schema") {
                out.push(
                    Diagnostic::new(
                        Code::N0003,
                        format!("{kind} `{name}` is not checked: meshc has no schema for {api_version} {kind}"),
                        kind_at,
                        "skipped",
                        "nothing to do; meshc checks Istio, Gateway API, Linkerd, Consul, Flagger, Argo Rollouts and prometheus-operator objects, and Deployments and Services",
                    ),
                );
                checked -= 1;
                break;
            }
            out.push(Diagnostic::new(
                Code::E0501,
                format!("{kind} `{name}`: {error}"),
                span(document.find(path)),
                format!("rejected by the schema of {api_version} {kind}"),
                help_for(what),
            ));
        }
        objects.push((value, kind_at));
    }
    crate::diagnostics::sort(&mut out);
    Stream {
        diagnostics: out,
        objects,
        checked,
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    /// Each embedded CRD is found by its own group and kind: the lines `embedded_crds` looks
    /// for before parsing a file name them.
    #[test]
    fn every_embedded_crd_is_found_by_its_group_and_kind() {
        let mut found = 0;
        for (index, &(_, file, text)) in EMBEDDED.iter().enumerate() {
            let (groups, kinds) = names_in(index);
            for crd in parse_crds(file, &without_helm_directives(text)) {
                let crd = crd.expect("an embedded CRD parses");
                let group = crd.pointer("/spec/group").and_then(Value::as_str);
                let kind = crd.pointer("/spec/names/kind").and_then(Value::as_str);
                let (group, kind) = group.zip(kind).expect("a CRD names its group and kind");
                assert!(groups.contains(&group), "{file}: group {group}");
                assert!(kinds.contains(&kind), "{file}: kind {kind}");
                found += 1;
            }
        }
        assert_eq!(found, 17, "embedded CRDs");
    }

    /// The line (1-based) of the place `places` finds for `path` in the first document.
    fn line_of(text: &str, path: &str) -> usize {
        let (documents, unreadable) = places(text);
        assert!(unreadable.is_none(), "{unreadable:?}");
        let (start, _) = documents[0].find(path);
        text[..start].matches('\n').count() + 1
    }

    #[test]
    fn fields_items_and_map_entries_are_found_at_their_lines() {
        let text = "kind: X\nmetadata:\n  labels:\n    app.kubernetes.io/name: a\nspec:\n  list:\n  - a: 1\n  - b: {c: [1, 2]}\n";
        assert_eq!(line_of(text, "kind"), 1);
        assert_eq!(line_of(text, "metadata.labels[app.kubernetes.io/name]"), 4);
        assert_eq!(line_of(text, "spec.list[1].b"), 8);
        assert_eq!(line_of(text, "spec.list[1].b.c[1]"), 8);
        // A missing field is found at its parent; an unknown path at the document's start.
        assert_eq!(line_of(text, "spec.list[0].missing"), 7);
        assert_eq!(line_of(text, "status"), 1);
    }

    #[test]
    fn aliases_that_cannot_be_expanded_are_reported_where_used() {
        let mut sources = crate::SourceMap::new();
        let text = "kind: Service\napiVersion: v1\nself: &a [*a]\n";
        let id = sources.add("s.yaml", text);
        let (diagnostics, checked) = check_stream(id, text, Channel::Standard);
        assert_eq!(checked, 0);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].code, crate::Code::E0502);
        assert!(diagnostics[0]
            .message
            .contains("an alias refers to the node it is in"));
        assert_eq!(
            &text[diagnostics[0].primary.span.start as usize..][..2],
            "*a"
        );
        assert_eq!(locate("ab\ncd", "line 2 column 2: why"), (Some(4), "why"));
        assert_eq!(locate("ab", "no place"), (None, "no place"));
    }

    #[test]
    fn an_indented_first_document_is_read() {
        let mut sources = crate::SourceMap::new();
        let text = "  apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n  spec:\n    ports:\n    - port: 80\n";
        let id = sources.add("s.yaml", text);
        let (diagnostics, checked) = check_stream(id, text, Channel::Standard);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(checked, 1);
    }

    #[test]
    fn empty_documents_are_skipped_and_the_rest_counted() {
        let mut sources = crate::SourceMap::new();
        let text = "---\n---\n# nothing\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n  - port: 80\n";
        let id = sources.add("s.yaml", text);
        let (diagnostics, checked) = check_stream(id, text, Channel::Standard);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(checked, 1);
    }
}
