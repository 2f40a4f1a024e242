//! Validates Kubernetes manifests against the upstream CRDs copied into `tests/data/crds/`.
//!
//! This is a small OpenAPI v3 validator for the structural schemas of Kubernetes CRDs, written for the test
//! suite: it says whether the API server would accept a manifest that `meshc` emits. It is stricter than the
//! API server in three ways: unknown fields are errors (the API server prunes them unless the client asks
//! for strict field validation, which `kubectl apply` does); so is `null` in a field that is not `nullable`
//! (the API server drops it); and so is a number outside its `format: int32 | uint32 | int64` (the API server
//! ignores these formats, but the Go and protobuf fields behind them cannot hold such a number).
//!
//! Each error is one string, `<JSON path>: <what is wrong>`, e.g. `spec.http[0].retries.attemps: unknown
//! field`; map entries are written `headers[x-user-type]`. All errors are reported, sorted.
//!
//! Checked: top-level fields, `metadata` (name, namespace, labels, annotations), and for `spec`: `type`,
//! `x-kubernetes-int-or-string`, `nullable`, `x-kubernetes-preserve-unknown-fields`, `properties`,
//! `additionalProperties`, unknown fields (allowed under `x-kubernetes-preserve-unknown-fields`, where
//! declared fields are still checked), `required` (a missing field with a `default` counts as present,
//! because the API server fills it in first), `enum`, `pattern`, `minimum`/`maximum` (+ exclusive),
//! `minLength`/`maxLength` (in characters), `minItems`/`maxItems`, `minProperties`/`maxProperties`, the ranges
//! of `format: int32 | uint32 | int64`, `oneOf`/`anyOf`/`allOf`/`not` with JSON-schema semantics, and
//! `x-kubernetes-list-type: set | map` uniqueness.
//!
//! Not checked: CEL rules (`x-kubernetes-validations`) are not evaluated, with one exception: Istio's duration
//! rule `duration(self) >= duration('1ms')`, recognised by its text, is checked by parsing the string as a Go
//! duration. The independent tool `shared/tools/k8s-validate`, run by hand, evaluates all CEL rules. Other
//! `format`s (`date-time`, `byte`, `double`, ...) are ignored. `pattern` is run with the `regex` crate, which
//! is not ECMA-262: a pattern it cannot compile is reported as an error, never ignored. A schema keyword this
//! file does not know is reported as an error too, so nothing is skipped silently. `status` is not validated.

use serde_json::{Map, Value};
use std::sync::OnceLock;

/// Which Gateway API release channel's HTTPRoute CRD to validate against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Standard,
    Experimental,
}

const VIRTUAL_SERVICE: &str = include_str!("../data/crds/istio/virtualservice.crd.yaml");
const DESTINATION_RULE: &str = include_str!("../data/crds/istio/destinationrule.crd.yaml");
const HTTP_ROUTE_STANDARD: &str =
    include_str!("../data/crds/gateway-api/standard/gateway.networking.k8s.io_httproutes.yaml");
const HTTP_ROUTE_EXPERIMENTAL: &str =
    include_str!("../data/crds/gateway-api/experimental/gateway.networking.k8s.io_httproutes.yaml");

/// Schema keywords that are checked below, or deliberately ignored (`description`, `default`, `example`,
/// `title`, `x-kubernetes-map-type`). Any other keyword is reported instead of being skipped.
const KNOWN_KEYWORDS: &str = "type nullable x-kubernetes-int-or-string x-kubernetes-preserve-unknown-fields
    properties additionalProperties required enum pattern minimum maximum exclusiveMinimum exclusiveMaximum
    minLength maxLength minItems maxItems minProperties maxProperties format items oneOf anyOf allOf not
    x-kubernetes-list-type x-kubernetes-list-map-keys x-kubernetes-validations
    description default example title x-kubernetes-map-type";

/// ObjectMeta fields a manifest may carry besides `name`, `namespace`, `labels` and `annotations`.
const OTHER_METADATA_FIELDS: &str = "generateName uid resourceVersion generation creationTimestamp
    deletionTimestamp deletionGracePeriodSeconds ownerReferences finalizers managedFields selfLink";

/// An embedded CRD: the channel it belongs to (`None`: every channel) and the parsed document.
type ParsedCrd = (Option<Channel>, Result<Value, String>);

/// Validates one Kubernetes manifest (already parsed into serde_json::Value) against the embedded upstream
/// CRD whose group/kind match its apiVersion/kind; picks the schema of the served version named in
/// apiVersion. HTTPRoute is checked against the standard channel's CRD.
pub fn validate(manifest: &Value) -> Result<(), Vec<String>> {
    validate_with_channel(manifest, Channel::Standard)
}

/// Like [`validate`], with the Gateway API channel whose HTTPRoute CRD is "installed".
pub fn validate_with_channel(manifest: &Value, channel: Channel) -> Result<(), Vec<String>> {
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
    let root_schema = match find_schema(api_version, kind, channel) {
        Ok(schema) => schema,
        Err(message) => return Err(vec![message]),
    };

    for (key, value) in object {
        match key.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => check_metadata(value, &mut errors),
            "spec" => match root_schema.pointer("/properties/spec") {
                Some(spec_schema) => check_value(spec_schema, value, "spec", true, &mut errors),
                None => errors.push("spec: the CRD does not define spec".to_string()),
            },
            _ => errors.push(format!("{key}: unknown field")),
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
    if errors.is_empty() {
        return Ok(());
    }
    // Sorted, so that the order does not depend on how serde_json orders object keys.
    errors.sort();
    errors.dedup();
    Err(errors)
}

/// The embedded CRDs, parsed once.
fn parsed_crds() -> &'static [ParsedCrd] {
    static CRDS: OnceLock<Vec<ParsedCrd>> = OnceLock::new();
    CRDS.get_or_init(|| {
        let parse = |text: &str| serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string());
        vec![
            (None, parse(VIRTUAL_SERVICE)),
            (None, parse(DESTINATION_RULE)),
            (Some(Channel::Standard), parse(HTTP_ROUTE_STANDARD)),
            (Some(Channel::Experimental), parse(HTTP_ROUTE_EXPERIMENTAL)),
        ]
    })
}

/// Finds the `openAPIV3Schema` for `apiVersion` (`group/version`) and `kind`.
fn find_schema(api_version: &str, kind: &str, channel: Channel) -> Result<&'static Value, String> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    for (crd_channel, crd) in parsed_crds() {
        if crd_channel.is_some_and(|c| c != channel) {
            continue;
        }
        let crd = crd
            .as_ref()
            .map_err(|e| format!("an embedded CRD is not valid YAML: {e}"))?;
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
        "apiVersion: no embedded CRD for kind {kind:?} in apiVersion {api_version:?} (known: \
         networking.istio.io VirtualService and DestinationRule, gateway.networking.k8s.io HTTPRoute)"
    ))
}

/// Checks `metadata`: `name` (required, DNS-1123 subdomain), `namespace` (DNS-1123 label), `labels` and
/// `annotations` (maps from qualified names to strings; label values at most 63 characters).
fn check_metadata(metadata: &Value, errors: &mut Vec<String>) {
    let Some(metadata) = metadata.as_object() else {
        errors.push(format!(
            "metadata: expected object, got {}",
            describe(metadata)
        ));
        return;
    };
    match metadata.get("name") {
        None => errors.push("metadata.name: required field is missing".to_string()),
        Some(Value::String(name)) if !is_dns1123_subdomain(name) => errors.push(format!(
            "metadata.name: {name:?} is not a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.', at \
             most 253 characters)"
        )),
        Some(Value::String(_)) => {}
        Some(other) => errors.push(format!("metadata.name: expected string, got {}", describe(other))),
    }
    for (key, value) in metadata {
        let path = format!("metadata.{key}");
        match (key.as_str(), value) {
            ("name", _) => {}
            ("namespace", Value::String(namespace)) => {
                if !is_dns1123_label(namespace) {
                    errors.push(format!(
                        "{path}: {namespace:?} is not a DNS-1123 label (lower-case alphanumerics and '-', \
                         at most 63 characters)"
                    ));
                }
            }
            ("labels" | "annotations", Value::Object(map)) => {
                for (entry_key, entry_value) in map {
                    let entry_path = format!("{path}[{entry_key}]");
                    if !is_qualified_name(entry_key) {
                        errors.push(format!(
                            "{entry_path}: key is not a qualified name ([prefix/]name)"
                        ));
                    }
                    match entry_value {
                        Value::String(text) if key == "labels" && !is_label_value(text) => errors
                            .push(format!("{entry_path}: {text:?} is not a valid label value")),
                        Value::String(_) => {}
                        other => errors.push(format!(
                            "{entry_path}: expected string, got {}",
                            describe(other)
                        )),
                    }
                }
            }
            ("namespace", other) => {
                errors.push(format!("{path}: expected string, got {}", describe(other)))
            }
            ("labels" | "annotations", other) => {
                errors.push(format!("{path}: expected object, got {}", describe(other)))
            }
            (other, _) if OTHER_METADATA_FIELDS.split_whitespace().any(|f| f == other) => {}
            _ => errors.push(format!("{path}: unknown field")),
        }
    }
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
}

/// `minLength`, `maxLength`, `pattern` and Istio's duration rule.
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
    let rules = schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array);
    for rule in rules.into_iter().flatten() {
        let Some(minimum) = rule
            .get("rule")
            .and_then(Value::as_str)
            .and_then(duration_rule_minimum)
        else {
            continue; // Any other CEL rule is not evaluated.
        };
        let message = rule
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("invalid duration");
        match parse_go_duration(text) {
            Ok(nanos) if nanos >= minimum.1 => {}
            Ok(_) => errors.push(format!(
                "{path}: {message}: {text:?} is less than {}",
                minimum.0
            )),
            Err(why) => errors.push(format!(
                "{path}: {message}: {text:?} is not a Go duration ({why})"
            )),
        }
    }
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

/// For the CEL rule `duration(self) >= duration('<min>')`: `<min>` and its length in nanoseconds.
fn duration_rule_minimum(rule: &str) -> Option<(&str, i128)> {
    let min = rule
        .trim()
        .strip_prefix("duration(self) >= duration('")?
        .strip_suffix("')")?;
    Some((min, parse_go_duration(min).ok()?))
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
    // The identity of an item: the whole item in a set; in a map, the values of the map keys (or their
    // defaults, which the API server fills in first).
    let identity = |item: &Value| -> Value {
        if list_type == Some("set") {
            return item.clone();
        }
        let key_value = |key: &&str| match item.get(*key) {
            Some(value) => value.clone(),
            None => (schema.get("items"))
                .and_then(|s| s.pointer(&format!("/properties/{key}/default")))
                .cloned()
                .unwrap_or(Value::Null),
        };
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
        let has_default = properties
            .and_then(|p| p.get(name))
            .is_some_and(|p| p.get("default").is_some());
        if !fields.contains_key(name) && !has_default {
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
            Some(Value::Bool(false)) => errors.push(format!("{field_path}: unknown field")),
            _ if strict => errors.push(format!("{field_path}: unknown field")),
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
