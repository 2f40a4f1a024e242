//! `meshc import`: Istio `VirtualService`s and `DestinationRule`s → `.mesh` (one text per
//! namespace), in the canonical layout of `meshc fmt`.
//!
//! The contract is the round trip: `meshc build` of the imported text gives the input back as
//! data (the comparison rules of the guide's reference manifests). So the importer is strict:
//! every field it reads has a `.mesh` form; any other field, and any value that form cannot
//! hold, is an error (E0503) naming the field, and that object is not imported. Nothing is
//! dropped silently. Each object is first checked against its schema (`meshc validate`): an
//! invalid manifest is reported as such (E0501, E0502), not imported.
//!
//! Grouping: a `DestinationRule` and a `VirtualService` with the same host are one `service`;
//! its name is the host's first label, `routes named` / `policy named` keep the objects' names,
//! and a host that is not `NAME.NAMESPACE.svc.cluster.local` is written as `host`. A service
//! that routes name only as a destination is declared too (`service NAME { }`), so that the
//! program compiles. Deprecated fields are written in their current form (`consecutiveErrors`
//! as `after N consecutive 5xx`, `LEAST_CONN` as `least request`), which the checker notes.

use indexmap::IndexMap;
use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::validate::Channel;

/// The `.mesh` program of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The namespace.
    pub namespace: String,
    /// The program, formatted.
    pub text: String,
}

/// One service being assembled.
#[derive(Default)]
struct Service {
    host: String,
    policy_name: Option<String>,
    routes_name: Option<String>,
    /// Lines of the service block.
    items: Vec<String>,
    /// `route` declarations.
    routes: Vec<String>,
    /// The subsets its DestinationRule declares.
    subsets: Vec<String>,
    /// The (host, subset) pairs its routes send to.
    uses: Vec<(String, String)>,
    /// Where its VirtualService is.
    routes_at: Option<Span>,
}

/// Imports every `DestinationRule` and `VirtualService` of a YAML stream (`file`, holding
/// `text`). Objects of other kinds are skipped with N0003; what cannot be imported is an error.
pub fn import_stream(file: FileId, text: &str) -> (Vec<Imported>, Vec<Diagnostic>) {
    let (mut diagnostics, _) = crate::validate::check_stream(file, text, Channel::Standard);
    diagnostics.retain(|d| d.code != Code::N0003);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (Vec::new(), diagnostics);
    }
    let here = Span {
        file,
        start: 0,
        end: 0,
    };
    let documents: Vec<Value> = match serde_saphyr::from_multiple(text) {
        Ok(documents) => documents,
        Err(e) => {
            diagnostics.push(Diagnostic::new(
                Code::E0502,
                format!(
                    "this is not YAML: {}",
                    e.to_string().lines().next().unwrap_or("")
                ),
                here,
                "cannot be read",
                "fix the YAML syntax",
            ));
            return (Vec::new(), diagnostics);
        }
    };
    // namespace → host → service.
    let mut namespaces: IndexMap<String, IndexMap<String, Service>> = IndexMap::new();
    let places = crate::validate::object_places(text);
    for (index, document) in documents.iter().enumerate() {
        let here = places.get(index).map_or(here, |&(start, end)| Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        });
        let kind = document["kind"].as_str().unwrap_or_default();
        let name = document["metadata"]["name"].as_str().unwrap_or_default();
        let namespace = document["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let result = match kind {
            "DestinationRule" => destination_rule(document, &namespace),
            "VirtualService" => virtual_service(document, &namespace),
            _ => continue,
        };
        match result {
            Ok((host, apply)) => {
                let services = namespaces.entry(namespace.clone()).or_default();
                let service = services.entry(host.clone()).or_default();
                service.host = host;
                if let Err(why) = apply(service, name) {
                    diagnostics.push(cannot(kind, name, &why, here));
                } else if kind == "VirtualService" {
                    service.routes_at = Some(here);
                }
            }
            Err(why) => diagnostics.push(cannot(kind, name, &why, here)),
        }
    }
    // A subset is declared by a DestinationRule: without one, its labels are unknown.
    for (namespace, services) in &namespaces {
        for service in services.values() {
            for (host, subset) in &service.uses {
                let declared = services
                    .get(host)
                    .is_some_and(|s| s.subsets.contains(subset));
                if !declared {
                    let name = service.routes_name.as_deref().unwrap_or_default();
                    diagnostics.push(cannot(
                        "VirtualService",
                        name,
                        &format!("it routes to subset `{subset}` of `{host}` (namespace `{namespace}`), which no DestinationRule of the input declares: import the VirtualService with its DestinationRule"),
                        service.routes_at.unwrap_or(here),
                    ));
                }
            }
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (Vec::new(), diagnostics);
    }
    let mut out = Vec::new();
    for (namespace, services) in namespaces {
        let mut text = format!("namespace {namespace}\n");
        // Services that routes name without declaring them.
        let mut declared: Vec<String> = services.keys().cloned().collect();
        let mut extra = Vec::new();
        for service in services.values() {
            for route in &service.routes {
                for host in route_hosts(route) {
                    if !declared.contains(&host) {
                        declared.push(host.clone());
                        extra.push(host);
                    }
                }
            }
        }
        for (host, service) in &services {
            let name = service_name(host);
            text.push_str(&format!("\nservice {name} {{\n"));
            if host != &crate::ir::cluster_host(&name, &namespace) {
                text.push_str(&format!("  host \"{host}\"\n"));
            }
            if let Some(routes) = service.routes_name.as_ref().filter(|n| **n != name) {
                text.push_str(&format!("  routes named \"{routes}\"\n"));
            }
            if let Some(policy) = service.policy_name.as_ref().filter(|n| **n != name) {
                text.push_str(&format!("  policy named \"{policy}\"\n"));
            }
            for item in &service.items {
                text.push_str(&format!("  {item}\n"));
            }
            text.push_str("}\n");
            for route in &service.routes {
                text.push_str(&format!("route {name} {}\n", strip_hosts(route)));
            }
        }
        for host in extra {
            text.push_str(&format!("\nservice {} {{ }}\n", service_name(&host)));
        }
        match crate::syntax::print::format(file, &text) {
            Ok(text) => out.push(Imported { namespace, text }),
            Err(diagnostic) => diagnostics.push(*diagnostic),
        }
    }
    (out, diagnostics)
}

/// E0503 for an object that cannot be imported.
fn cannot(kind: &str, name: &str, why: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0503,
        format!("{kind} `{name}` cannot be imported: {why}"),
        span,
        "not imported",
        "write this part by hand in `.mesh`, or leave the object as YAML beside meshc's output",
    )
}

type Apply = Box<dyn FnOnce(&mut Service, &str) -> Result<(), String>>;

/// The service name of a host: its first label.
fn service_name(host: &str) -> String {
    host.split('.').next().unwrap_or(host).to_string()
}

/// Routes keep the hosts they send to in `⟨host⟩` marks until the services are known: the
/// marks name the services a program must declare.
fn route_hosts(route: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = route;
    while let Some(open) = rest.find('⟨') {
        let after = &rest[open + '⟨'.len_utf8()..];
        let Some(close) = after.find('⟩') else {
            break;
        };
        out.push(after[..close].to_string());
        rest = &after[close + '⟩'.len_utf8()..];
    }
    out
}

/// A route with its host marks replaced by service names.
fn strip_hosts(route: &str) -> String {
    let mut out = String::new();
    let mut rest = route;
    while let Some(open) = rest.find('⟨') {
        out.push_str(&rest[..open]);
        let after = &rest[open + '⟨'.len_utf8()..];
        let close = after.find('⟩').unwrap_or(after.len());
        out.push_str(&service_name(&after[..close]));
        rest = after.get(close + '⟩'.len_utf8()..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Fails unless `object` has only the keys in `known`.
fn only(object: &Value, at: &str, known: &[&str]) -> Result<(), String> {
    if let Some(map) = object.as_object() {
        if let Some(other) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("`{at}.{other}` has no `.mesh` form yet"));
        }
    }
    Ok(())
}

/// A string literal.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number as written in `.mesh` (`10`, `0.5`).
fn number(value: &Value) -> Result<String, String> {
    match value {
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or_default();
            if f.fract() == 0.0 && f >= 0.0 {
                Ok(format!("{}", f as u64))
            } else {
                Ok(format!("{f}"))
            }
        }
        other => Err(format!("expected a number, found {other}")),
    }
}

fn text(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("expected a string, found {value}"))
}

fn destination_rule(document: &Value, namespace: &str) -> Result<(String, Apply), String> {
    let spec = &document["spec"];
    only(spec, "spec", &["host", "trafficPolicy", "subsets"])?;
    let host = full_host(text(&spec["host"])?, namespace);
    let mut items = Vec::new();
    let mut subsets = Vec::new();
    for subset in spec["subsets"].as_array().into_iter().flatten() {
        subsets.push(text(&subset["name"])?.to_string());
        only(
            subset,
            "spec.subsets[]",
            &["name", "labels", "trafficPolicy"],
        )?;
        let labels: Vec<String> = subset["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| Ok(format!("{k} = {}", quote(text(v)?))))
            .collect::<Result<_, String>>()?;
        let mut line = format!("subset {} ({})", text(&subset["name"])?, labels.join(", "));
        let policy = traffic_policy(&subset["trafficPolicy"], "spec.subsets[].trafficPolicy")?;
        if !policy.is_empty() {
            line.push_str(&format!(" {{ {} }}", policy.join("  ")));
        }
        items.push(line);
    }
    items.extend(traffic_policy(
        &spec["trafficPolicy"],
        "spec.trafficPolicy",
    )?);
    let apply: Apply = Box::new(move |service: &mut Service, name: &str| {
        if service.policy_name.is_some() {
            return Err("a second DestinationRule for the same host".to_string());
        }
        service.policy_name = Some(name.to_string());
        service.items.splice(0..0, items);
        service.subsets = subsets;
        Ok(())
    });
    Ok((host, apply))
}

/// A host as the full name meshc would write (a short name is a service of the namespace).
fn full_host(host: &str, namespace: &str) -> String {
    if host.contains('.') {
        host.to_string()
    } else {
        crate::ir::cluster_host(host, namespace)
    }
}

/// The `pool`, `eject` and `balance` items of a `trafficPolicy`.
fn traffic_policy(policy: &Value, at: &str) -> Result<Vec<String>, String> {
    if policy.is_null() {
        return Ok(Vec::new());
    }
    only(
        policy,
        at,
        &["connectionPool", "outlierDetection", "loadBalancer"],
    )?;
    let mut out = Vec::new();
    let pool = &policy["connectionPool"];
    if !pool.is_null() {
        only(pool, &format!("{at}.connectionPool"), &["tcp", "http"])?;
        let tcp = &pool["tcp"];
        let http = &pool["http"];
        only(
            tcp,
            &format!("{at}.connectionPool.tcp"),
            &["maxConnections", "connectTimeout"],
        )?;
        only(
            http,
            &format!("{at}.connectionPool.http"),
            &[
                "http1MaxPendingRequests",
                "http2MaxRequests",
                "maxRequestsPerConnection",
                "maxRetries",
                "idleTimeout",
                "h2UpgradePolicy",
            ],
        )?;
        let mut settings = Vec::new();
        let fields: [(&Value, &str, &str); 8] = [
            (tcp, "maxConnections", "max connections"),
            (tcp, "connectTimeout", "connect timeout"),
            (http, "http1MaxPendingRequests", "max pending requests"),
            (http, "http2MaxRequests", "max requests"),
            (
                http,
                "maxRequestsPerConnection",
                "max requests per connection",
            ),
            (http, "maxRetries", "max retries"),
            (http, "idleTimeout", "idle timeout"),
            (http, "h2UpgradePolicy", "h2 upgrade"),
        ];
        for (object, field, words) in fields {
            let value = &object[field];
            if value.is_null() {
                continue;
            }
            let value = match (field, value) {
                ("h2UpgradePolicy", Value::String(s)) => match s.as_str() {
                    "UPGRADE" => "on".to_string(),
                    "DO_NOT_UPGRADE" => "off".to_string(),
                    "DEFAULT" => "default".to_string(),
                    other => return Err(format!("`h2UpgradePolicy: {other}` is not known")),
                },
                (_, Value::String(s)) => s.clone(),
                (_, other) => number(other)?,
            };
            settings.push(format!("{words} {value}"));
        }
        out.push(format!("pool {{ {} }}", settings.join("  ")));
    }
    let eject = &policy["outlierDetection"];
    if !eject.is_null() {
        only(
            eject,
            &format!("{at}.outlierDetection"),
            &[
                "consecutive5xxErrors",
                "consecutiveErrors",
                "consecutiveGatewayErrors",
                "interval",
                "baseEjectionTime",
                "maxEjectionPercent",
                "minHealthPercent",
            ],
        )?;
        let mut settings = Vec::new();
        let count = eject["consecutive5xxErrors"]
            .as_u64()
            .or(eject["consecutiveErrors"].as_u64());
        if let Some(count) = count {
            settings.push(format!("after {count} consecutive 5xx"));
        }
        if let Some(count) = eject["consecutiveGatewayErrors"].as_u64() {
            settings.push(format!("after {count} consecutive gateway errors"));
        }
        for (field, words) in [("interval", "check every"), ("baseEjectionTime", "for")] {
            if let Some(value) = eject[field].as_str() {
                settings.push(format!("{words} {value}"));
            }
        }
        if let Some(value) = eject["maxEjectionPercent"].as_u64() {
            settings.push(format!("at most {value}%"));
        }
        if let Some(value) = eject["minHealthPercent"].as_u64() {
            settings.push(format!("keep {value}% healthy"));
        }
        out.push(format!("eject {{ {} }}", settings.join("  ")));
    }
    let balance = &policy["loadBalancer"];
    if !balance.is_null() {
        only(
            balance,
            &format!("{at}.loadBalancer"),
            &["simple", "consistentHash"],
        )?;
        let kind = if let Some(simple) = balance["simple"].as_str() {
            match simple {
                "ROUND_ROBIN" => "round robin".to_string(),
                "LEAST_REQUEST" | "LEAST_CONN" => "least request".to_string(),
                "RANDOM" => "random".to_string(),
                "PASSTHROUGH" => "passthrough".to_string(),
                other => {
                    return Err(format!(
                        "`loadBalancer.simple: {other}` has no `.mesh` form"
                    ))
                }
            }
        } else {
            let hash = &balance["consistentHash"];
            only(
                hash,
                &format!("{at}.loadBalancer.consistentHash"),
                &[
                    "httpHeaderName",
                    "httpCookie",
                    "useSourceIp",
                    "httpQueryParameterName",
                ],
            )?;
            if let Some(header) = hash["httpHeaderName"].as_str() {
                format!("hash header {}", quote(header))
            } else if let Some(query) = hash["httpQueryParameterName"].as_str() {
                format!("hash query {}", quote(query))
            } else if hash["useSourceIp"] == Value::Bool(true) {
                "hash source ip".to_string()
            } else {
                let cookie = &hash["httpCookie"];
                only(
                    cookie,
                    "consistentHash.httpCookie",
                    &["name", "ttl", "path"],
                )?;
                let mut out = format!("hash cookie {}", quote(text(&cookie["name"])?));
                if let Some(ttl) = cookie["ttl"].as_str() {
                    out.push_str(&format!(" ttl {ttl}"));
                }
                if let Some(path) = cookie["path"].as_str() {
                    out.push_str(&format!(" path {}", quote(path)));
                }
                out
            }
        };
        out.push(format!("balance {kind}"));
    }
    Ok(out)
}

fn virtual_service(document: &Value, namespace: &str) -> Result<(String, Apply), String> {
    let spec = &document["spec"];
    only(spec, "spec", &["hosts", "http"])?;
    let hosts = spec["hosts"].as_array().cloned().unwrap_or_default();
    let [host] = hosts.as_slice() else {
        return Err(
            "`spec.hosts` must name one host: meshc writes one VirtualService per service"
                .to_string(),
        );
    };
    let host = full_host(text(host)?, namespace);
    let mut routes = Vec::new();
    let mut uses = Vec::new();
    for rule in spec["http"].as_array().into_iter().flatten() {
        routes.push(http_route(rule, &host, namespace, &mut uses)?);
    }
    let apply: Apply = Box::new(move |service: &mut Service, name: &str| {
        if service.routes_name.is_some() {
            return Err("a second VirtualService for the same host".to_string());
        }
        service.routes_name = Some(name.to_string());
        service.routes = routes;
        service.uses = uses;
        Ok(())
    });
    Ok((host, apply))
}

/// A string match: `= "v"`, `prefix "v"`, `regex "v"`.
fn string_match(value: &Value, at: &str) -> Result<String, String> {
    only(value, at, &["exact", "prefix", "regex"])?;
    for (key, op) in [("exact", "="), ("prefix", "prefix"), ("regex", "regex")] {
        if let Some(s) = value[key].as_str() {
            return Ok(format!("{op} {}", quote(s)));
        }
    }
    Err(format!("`{at}` has no `exact`, `prefix` or `regex`"))
}

/// A destination: the own service (and subset), or another service as a `⟨host⟩` mark.
fn destination(
    value: &Value,
    own: &str,
    namespace: &str,
    uses: &mut Vec<(String, String)>,
) -> Result<String, String> {
    only(value, "destination", &["host", "subset"])?;
    let host = full_host(text(&value["host"])?, namespace);
    let subset = value["subset"].as_str();
    if let Some(subset) = subset {
        uses.push((host.clone(), subset.to_string()));
    }
    let suffix = format!(".{namespace}.svc.cluster.local");
    match (host == own, subset) {
        (true, Some(subset)) => Ok(subset.to_string()),
        (true, None) => Ok(format!("⟨{host}⟩")),
        (false, _) if !host.ends_with(&suffix) => Err(format!(
            "destination `{host}` is not a service of namespace `{namespace}`"
        )),
        (false, Some(subset)) => Ok(format!("⟨{host}⟩.{subset}")),
        (false, None) => Ok(format!("⟨{host}⟩")),
    }
}

fn http_route(
    rule: &Value,
    own: &str,
    namespace: &str,
    uses: &mut Vec<(String, String)>,
) -> Result<String, String> {
    only(
        rule,
        "spec.http[]",
        &[
            "match",
            "route",
            "timeout",
            "retries",
            "fault",
            "mirror",
            "mirrorPercentage",
            "headers",
        ],
    )?;
    let mut out = Vec::new();
    let alternatives = rule["match"].as_array().cloned().unwrap_or_default();
    if !alternatives.is_empty() {
        let mut alts = Vec::new();
        for alt in &alternatives {
            only(
                alt,
                "spec.http[].match[]",
                &["headers", "uri", "method", "queryParams"],
            )?;
            let mut conditions = Vec::new();
            for (name, matcher) in alt["headers"].as_object().into_iter().flatten() {
                conditions.push(format!(
                    "header {} {}",
                    quote(name),
                    string_match(matcher, "headers")?
                ));
            }
            if !alt["uri"].is_null() {
                conditions.push(format!("uri {}", string_match(&alt["uri"], "uri")?));
            }
            if !alt["method"].is_null() {
                conditions.push(format!(
                    "method {}",
                    string_match(&alt["method"], "method")?
                ));
            }
            for (name, matcher) in alt["queryParams"].as_object().into_iter().flatten() {
                conditions.push(format!(
                    "query {} {}",
                    quote(name),
                    string_match(matcher, "queryParams")?
                ));
            }
            alts.push(conditions.join(" and "));
        }
        out.push(format!("when {}", alts.join(" or ")));
    }
    let mut destinations = Vec::new();
    for route in rule["route"].as_array().into_iter().flatten() {
        only(route, "spec.http[].route[]", &["destination", "weight"])?;
        let mut text = destination(&route["destination"], own, namespace, uses)?;
        if !route["weight"].is_null() {
            text.push_str(&format!(" {}%", number(&route["weight"])?));
        }
        destinations.push(text);
    }
    // Without `->`, a route goes to its own service, as the VirtualService's one destination.
    let own_only = destinations.len() == 1 && destinations[0] == format!("⟨{own}⟩");
    if !own_only {
        out.push(format!("-> {}", destinations.join(", ")));
    }
    if let Some(timeout) = rule["timeout"].as_str() {
        out.push(format!("timeout {timeout}"));
    }
    let retries = &rule["retries"];
    if !retries.is_null() {
        only(
            retries,
            "spec.http[].retries",
            &["attempts", "perTryTimeout", "retryOn"],
        )?;
        let mut text = format!("retry {}", number(&retries["attempts"])?);
        if let Some(per_try) = retries["perTryTimeout"].as_str() {
            text.push_str(&format!(" per try {per_try}"));
        }
        if let Some(on) = retries["retryOn"].as_str() {
            let on: Vec<&str> = on.split(',').map(str::trim).collect();
            text.push_str(&format!(" on {}", on.join(", ")));
        }
        out.push(text);
    }
    let fault = &rule["fault"];
    if !fault.is_null() {
        only(fault, "spec.http[].fault", &["delay", "abort"])?;
        let delay = &fault["delay"];
        if !delay.is_null() {
            only(delay, "fault.delay", &["fixedDelay", "percentage"])?;
            out.push(format!(
                "fault delay {} for {}%",
                text(&delay["fixedDelay"])?,
                number(&delay["percentage"]["value"])?
            ));
        }
        let abort = &fault["abort"];
        if !abort.is_null() {
            only(
                abort,
                "fault.abort",
                &["httpStatus", "grpcStatus", "percentage"],
            )?;
            let status = match abort["grpcStatus"].as_str() {
                Some(grpc) => format!("grpc {grpc}"),
                None => number(&abort["httpStatus"])?,
            };
            out.push(format!(
                "fault abort {status} for {}%",
                number(&abort["percentage"]["value"])?
            ));
        }
    }
    if !rule["mirror"].is_null() {
        let target = destination(&rule["mirror"], own, namespace, uses)?;
        let percent = number(&rule["mirrorPercentage"]["value"])?;
        out.push(format!("mirror {target} {percent}%"));
    }
    let headers = &rule["headers"];
    if !headers.is_null() {
        only(headers, "spec.http[].headers", &["request", "response"])?;
        for dir in ["request", "response"] {
            let ops = &headers[dir];
            if ops.is_null() {
                continue;
            }
            only(ops, &format!("headers.{dir}"), &["set", "add", "remove"])?;
            for op in ["set", "add"] {
                for (name, value) in ops[op].as_object().into_iter().flatten() {
                    out.push(format!(
                        "{dir} {op} {} = {}",
                        quote(name),
                        quote(text(value)?)
                    ));
                }
            }
            let removed: Vec<String> = ops["remove"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| text(n).map(quote))
                .collect::<Result<_, _>>()?;
            if !removed.is_empty() {
                out.push(format!("{dir} remove {}", removed.join(", ")));
            }
        }
    }
    Ok(out.join(" "))
}
