//! Istio: a service's routes → `VirtualService`, its subsets and policy → `DestinationRule`.

use super::yaml::Direct;
use super::{k8s, metadata, MANAGED_BY};
use crate::ir;

const API_VERSION: &str = "networking.istio.io/v1";

/// Whether the service has a `DestinationRule`: it declares subsets or policy.
fn has_destination_rule(service: &ir::Service) -> bool {
    !service.subsets.is_empty() || !service.policy.is_empty()
}

/// The service's `DestinationRule`, when it declares subsets or policy.
pub fn destination_rule(service: &ir::Service) -> Option<k8s::Object<k8s::DestinationRuleSpec>> {
    if !has_destination_rule(service) {
        return None;
    }
    let subsets = service
        .subsets
        .iter()
        .map(|subset| k8s::Subset {
            name: subset.name.clone(),
            labels: subset.labels.clone(),
            traffic_policy: traffic_policy(&subset.policy),
        })
        .collect();
    Some(k8s::Object {
        api_version: API_VERSION,
        kind: "DestinationRule",
        metadata: metadata(&service.policy_name, &service.namespace),
        spec: k8s::DestinationRuleSpec {
            host: service.host.clone(),
            traffic_policy: traffic_policy(&service.policy),
            subsets,
        },
    })
}

pub(crate) fn traffic_policy(policy: &ir::TrafficPolicy) -> Option<k8s::TrafficPolicy> {
    if policy.is_empty() {
        return None;
    }
    Some(k8s::TrafficPolicy {
        load_balancer: policy.balance.as_deref().map(load_balancer),
        connection_pool: policy.pool.as_deref().map(connection_pool),
        outlier_detection: policy.eject.as_ref().map(|eject| k8s::OutlierDetection {
            consecutive_5xx_errors: eject.consecutive_5xx,
            consecutive_gateway_errors: eject.consecutive_gateway_errors,
            interval: eject.interval.map(|d| d.to_string()),
            base_ejection_time: eject.base_ejection_time.map(|d| d.to_string()),
            max_ejection_percent: eject.max_ejection_percent,
            min_health_percent: eject.min_health_percent,
        }),
    })
}

/// Istio's name for a balance that is a simple algorithm; `None` for consistent hashing.
fn simple(balance: &ir::Balance) -> Option<&'static str> {
    Some(match balance {
        ir::Balance::RoundRobin => "ROUND_ROBIN",
        ir::Balance::LeastRequest => "LEAST_REQUEST",
        ir::Balance::Random => "RANDOM",
        ir::Balance::Passthrough => "PASSTHROUGH",
        ir::Balance::HashHeader(_)
        | ir::Balance::HashCookie { .. }
        | ir::Balance::HashSourceIp
        | ir::Balance::HashQuery(_) => return None,
    })
}

/// Istio's name for an HTTP/2 upgrade policy.
fn h2_upgrade_policy(policy: ir::H2Upgrade) -> &'static str {
    match policy {
        ir::H2Upgrade::Default => "DEFAULT",
        ir::H2Upgrade::DoNotUpgrade => "DO_NOT_UPGRADE",
        ir::H2Upgrade::Upgrade => "UPGRADE",
    }
}

/// `retryOn`: the conditions, comma-separated; `None` when there is none.
fn retry_on(retry: &ir::Retry) -> Option<String> {
    (!retry.on.is_empty()).then(|| retry.on.join(","))
}

fn load_balancer(balance: &ir::Balance) -> k8s::LoadBalancer {
    if let Some(algorithm) = simple(balance) {
        return k8s::LoadBalancer::Simple(algorithm);
    }
    let mut hash = k8s::ConsistentHash::default();
    match balance {
        ir::Balance::HashHeader(name) => hash.http_header_name = Some(name.clone()),
        ir::Balance::HashQuery(name) => hash.http_query_parameter_name = Some(name.clone()),
        ir::Balance::HashSourceIp => hash.use_source_ip = Some(true),
        ir::Balance::HashCookie { name, ttl, path } => {
            hash.http_cookie = Some(k8s::HttpCookie {
                name: name.clone(),
                path: path.clone(),
                ttl: ttl.map(|d| d.to_string()),
            });
        }
        // Named by `simple`.
        ir::Balance::RoundRobin
        | ir::Balance::LeastRequest
        | ir::Balance::Random
        | ir::Balance::Passthrough => {}
    }
    k8s::LoadBalancer::ConsistentHash(hash)
}

/// Whether a pool sets any of Istio's `tcp` settings, and any of its `http` ones: each section
/// is left out when none is.
fn pool_sections(pool: &ir::Pool) -> (bool, bool) {
    let tcp = pool.max_connections.is_some() || pool.connect_timeout.is_some();
    let http = pool.max_pending_requests.is_some()
        || pool.max_requests.is_some()
        || pool.max_requests_per_connection.is_some()
        || pool.max_retries.is_some()
        || pool.idle_timeout.is_some()
        || pool.h2_upgrade.is_some();
    (tcp, http)
}

fn connection_pool(pool: &ir::Pool) -> k8s::ConnectionPool {
    let (has_tcp, has_http) = pool_sections(pool);
    let tcp = k8s::TcpSettings {
        max_connections: pool.max_connections,
        connect_timeout: pool.connect_timeout.map(|d| d.to_string()),
    };
    let http = k8s::HttpSettings {
        http1_max_pending_requests: pool.max_pending_requests,
        http2_max_requests: pool.max_requests,
        max_requests_per_connection: pool.max_requests_per_connection,
        max_retries: pool.max_retries,
        idle_timeout: pool.idle_timeout.map(|d| d.to_string()),
        h2_upgrade_policy: pool.h2_upgrade.map(h2_upgrade_policy),
    };
    k8s::ConnectionPool {
        tcp: has_tcp.then_some(tcp),
        http: has_http.then_some(http),
    }
}

/// The service's `VirtualService`, when any route names it.
pub fn virtual_service(service: &ir::Service) -> Option<k8s::Object<k8s::VirtualServiceSpec>> {
    if service.routes.is_empty() {
        return None;
    }
    Some(k8s::Object {
        api_version: API_VERSION,
        kind: "VirtualService",
        metadata: metadata(&service.routes_name, &service.namespace),
        spec: k8s::VirtualServiceSpec {
            hosts: vec![service.host.clone()],
            http: service.routes.iter().map(http_route).collect(),
        },
    })
}

fn string_match(matcher: &ir::StringMatch) -> k8s::StringMatch {
    match matcher {
        ir::StringMatch::Exact(s) => k8s::StringMatch::Exact(s.clone()),
        ir::StringMatch::Prefix(s) => k8s::StringMatch::Prefix(s.clone()),
        ir::StringMatch::Regex(s) => k8s::StringMatch::Regex(s.clone()),
    }
}

fn header_operations(ops: &ir::HeaderOps) -> Option<k8s::HeaderOperations> {
    (!ops.is_empty()).then(|| k8s::HeaderOperations {
        set: ops.set.clone(),
        add: ops.add.clone(),
        remove: ops.remove.clone(),
    })
}

fn http_route(rule: &ir::RouteRule) -> k8s::HttpRoute {
    let percent = |value: f64| k8s::Percent { value };
    let fault = (rule.fault.delay.is_some() || rule.fault.abort.is_some()).then(|| k8s::Fault {
        delay: rule.fault.delay.map(|(delay, share)| k8s::FaultDelay {
            percentage: percent(share),
            fixed_delay: delay.to_string(),
        }),
        abort: rule
            .fault
            .abort
            .as_ref()
            .map(|(status, share)| k8s::FaultAbort {
                percentage: percent(*share),
                http_status: match status {
                    ir::AbortStatus::Http(code) => Some(*code),
                    ir::AbortStatus::Grpc(_) => None,
                },
                grpc_status: match status {
                    ir::AbortStatus::Grpc(name) => Some(name.clone()),
                    ir::AbortStatus::Http(_) => None,
                },
            }),
    });
    let headers = match (
        header_operations(rule.request_ops()),
        header_operations(rule.response_ops()),
    ) {
        (None, None) => None,
        (request, response) => Some(k8s::Headers { request, response }),
    };
    let rewrite = &rule.rewrite;
    k8s::HttpRoute {
        name: rule.name.clone(),
        matches: rule
            .matches
            .iter()
            .map(|m| k8s::HttpMatch {
                uri: m.uri.as_ref().map(string_match),
                method: m.method.as_ref().map(string_match),
                headers: m
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), string_match(v)))
                    .collect(),
                query_params: m
                    .query
                    .iter()
                    .map(|(k, v)| (k.clone(), string_match(v)))
                    .collect(),
            })
            .collect(),
        fault,
        route: rule
            .destinations
            .iter()
            .map(|dest| k8s::RouteDestination {
                destination: k8s::Destination {
                    host: dest.service.host.clone(),
                    subset: dest.subset.clone(),
                },
                weight: dest.weight,
            })
            .collect(),
        mirror: rule.mirror.as_ref().map(|m| k8s::Destination {
            host: m.service.host.clone(),
            subset: m.subset.clone(),
        }),
        mirror_percentage: rule.mirror.as_ref().map(|m| percent(m.percent)),
        redirect: rule.redirect.as_ref().map(|redirect| {
            let (uri, prefix_rewrite) = match &redirect.path {
                Some(ir::PathRewrite::Full(path)) => (Some(path.clone()), None),
                Some(ir::PathRewrite::Prefix(prefix)) => (None, Some(prefix.clone())),
                None => (None, None),
            };
            k8s::Redirect {
                uri,
                prefix_rewrite,
                authority: redirect.host.clone(),
                port: redirect.port,
                scheme: redirect.scheme.clone(),
                redirect_code: redirect.status,
            }
        }),
        // The checker made sure a prefix rewrite has prefix matches and a full one has none:
        // Istio's `rewrite.uri` replaces the matched prefix, or else the whole path.
        rewrite: (rewrite.path.is_some() || rewrite.authority.is_some()).then(|| k8s::Rewrite {
            uri: rewrite.path.as_ref().map(|path| match path {
                ir::PathRewrite::Full(path) | ir::PathRewrite::Prefix(path) => path.clone(),
            }),
            authority: rewrite.authority.clone(),
        }),
        timeout: rule.timeout.map(|d| d.to_string()),
        retries: rule.retry.as_ref().map(retries),
        headers,
    }
}

/// Istio's `retries` for a retry policy (also Flagger's, which passes it through).
pub(crate) fn retries(retry: &ir::Retry) -> k8s::Retries {
    k8s::Retries {
        attempts: retry.attempts,
        per_try_timeout: retry.per_try_timeout.map(|d| d.to_string()),
        retry_on: retry_on(retry),
        retry_remote_localities: retry.remote_localities,
    }
}

// ---------------------------------------------------------------------------------------------
// The same two objects written straight to YAML.
//
// `emit::write_yaml` writes the DestinationRules and VirtualServices (with `--target istio`,
// `argo-rollouts`, and `flagger` for the services it does not roll out) with these instead of
// building the models above and serialising them: most of the time of writing a large program
// went to building those models (each name copied again) and to serde's generic calls. The
// models stay the reference: `manifests()`, `extra` blocks, the other targets and objects with
// a key that must be quoted use them, and the tests write both ways and compare the bytes:
// every example (on every target, at several batch sizes and thread counts), every program of
// the book, and a program of what those leave out (`tests/examples.rs`, `tests/book.rs`); so
// does the compile fuzz target, on every program.

/// Writes the service's DestinationRule as [`destination_rule`]'s model is written
/// (`---` first). `false`, with nothing written, when a subset's label key would need quotes:
/// that document is left to the model.
pub(crate) fn write_destination_rule(out: &mut String, service: &ir::Service) -> bool {
    if !has_destination_rule(service) {
        return true;
    }
    let plain = |subset: &ir::Subset| subset.labels.keys().all(|key| Direct::plain_key(key));
    if !service.subsets.iter().all(plain) {
        return false;
    }
    let mut d = document(
        out,
        "DestinationRule",
        &service.policy_name,
        &service.namespace,
    );
    d.string(1, "host", &service.host);
    write_traffic_policy(&mut d, 1, &service.policy);
    if !service.subsets.is_empty() {
        d.open(1, "subsets");
        for subset in &service.subsets {
            d.item(1);
            d.string(2, "name", &subset.name);
            d.open_map(2, "labels", !subset.labels.is_empty());
            for (key, value) in &subset.labels {
                d.string(3, key, value);
            }
            write_traffic_policy(&mut d, 2, &subset.policy);
            d.end_item();
        }
    }
    true
}

/// Writes the service's VirtualService as [`virtual_service`]'s model is written (`---`
/// first). `false`, with nothing written, when a header or query parameter name would need
/// quotes: that document is left to the model.
pub(crate) fn write_virtual_service(out: &mut String, service: &ir::Service) -> bool {
    if service.routes.is_empty() {
        return true;
    }
    if !service.routes.iter().all(plain_keys) {
        return false;
    }
    let mut d = document(
        out,
        "VirtualService",
        &service.routes_name,
        &service.namespace,
    );
    d.open(1, "hosts");
    d.string_item(1, &service.host);
    d.open(1, "http");
    for rule in &service.routes {
        d.item(1);
        write_http_route(&mut d, 2, rule);
        d.end_item();
    }
    true
}

/// Whether every key a rule writes from the program (header and query parameter names, the
/// headers it sets or adds) may be written plain.
fn plain_keys(rule: &ir::RouteRule) -> bool {
    let matches = rule
        .matches
        .iter()
        .flat_map(|m| m.headers.keys().chain(m.query.keys()));
    let ops = [rule.request_ops(), rule.response_ops()];
    let set = ops
        .iter()
        .flat_map(|ops| ops.set.keys().chain(ops.add.keys()));
    matches.chain(set).all(|key| Direct::plain_key(key))
}

/// A document of `out`: `apiVersion`, `kind`, `metadata` as [`metadata`] makes it, and `spec:`,
/// whose fields the caller writes.
fn document<'o>(out: &'o mut String, kind: &str, name: &str, namespace: &str) -> Direct<'o> {
    let mut d = Direct::document(out);
    d.string(0, "apiVersion", API_VERSION);
    d.string(0, "kind", kind);
    d.open(0, "metadata");
    d.string(1, "name", name);
    d.string(1, "namespace", namespace);
    d.open(1, "labels");
    d.string(2, MANAGED_BY.0, MANAGED_BY.1);
    d.open(0, "spec");
    d
}

/// [`traffic_policy`], written.
fn write_traffic_policy(d: &mut Direct, depth: usize, policy: &ir::TrafficPolicy) {
    if policy.is_empty() {
        return;
    }
    d.open(depth, "trafficPolicy");
    let depth = depth + 1;
    if let Some(balance) = policy.balance.as_deref() {
        d.open(depth, "loadBalancer");
        match simple(balance) {
            Some(algorithm) => d.string(depth + 1, "simple", algorithm),
            None => write_consistent_hash(d, depth + 1, balance),
        }
    }
    if let Some(pool) = policy.pool.as_deref() {
        let (tcp, http) = pool_sections(pool);
        d.open_map(depth, "connectionPool", tcp || http);
        let depth = depth + 1;
        if tcp {
            d.open(depth, "tcp");
            if let Some(n) = pool.max_connections {
                d.integer(depth + 1, "maxConnections", n);
            }
            if let Some(timeout) = pool.connect_timeout {
                d.display(depth + 1, "connectTimeout", timeout);
            }
        }
        if http {
            d.open(depth, "http");
            let depth = depth + 1;
            let counts = [
                ("http1MaxPendingRequests", pool.max_pending_requests),
                ("http2MaxRequests", pool.max_requests),
                ("maxRequestsPerConnection", pool.max_requests_per_connection),
                ("maxRetries", pool.max_retries),
            ];
            for (key, count) in counts {
                if let Some(n) = count {
                    d.integer(depth, key, n);
                }
            }
            if let Some(timeout) = pool.idle_timeout {
                d.display(depth, "idleTimeout", timeout);
            }
            if let Some(policy) = pool.h2_upgrade {
                d.string(depth, "h2UpgradePolicy", h2_upgrade_policy(policy));
            }
        }
    }
    if let Some(eject) = policy.eject.as_deref() {
        let durations = [
            ("interval", eject.interval),
            ("baseEjectionTime", eject.base_ejection_time),
        ];
        let counts = [
            ("consecutive5xxErrors", eject.consecutive_5xx),
            ("consecutiveGatewayErrors", eject.consecutive_gateway_errors),
        ];
        let percents = [
            ("maxEjectionPercent", eject.max_ejection_percent),
            ("minHealthPercent", eject.min_health_percent),
        ];
        d.open_map(depth, "outlierDetection", *eject != ir::Eject::default());
        for (key, count) in counts {
            if let Some(n) = count {
                d.integer(depth + 1, key, n);
            }
        }
        for (key, duration) in durations {
            if let Some(duration) = duration {
                d.display(depth + 1, key, duration);
            }
        }
        for (key, percent) in percents {
            if let Some(n) = percent {
                d.integer(depth + 1, key, n);
            }
        }
    }
}

/// `consistentHash`, for a balance that is not a [`simple`] algorithm.
fn write_consistent_hash(d: &mut Direct, depth: usize, balance: &ir::Balance) {
    d.open(depth, "consistentHash");
    let depth = depth + 1;
    match balance {
        ir::Balance::HashHeader(name) => d.string(depth, "httpHeaderName", name),
        ir::Balance::HashCookie { name, ttl, path } => {
            d.open(depth, "httpCookie");
            d.string(depth + 1, "name", name);
            if let Some(path) = path {
                d.string(depth + 1, "path", path);
            }
            if let Some(ttl) = ttl {
                d.display(depth + 1, "ttl", ttl);
            }
        }
        ir::Balance::HashSourceIp => d.boolean(depth, "useSourceIp", true),
        ir::Balance::HashQuery(name) => d.string(depth, "httpQueryParameterName", name),
        // Named by `simple`.
        ir::Balance::RoundRobin
        | ir::Balance::LeastRequest
        | ir::Balance::Random
        | ir::Balance::Passthrough => {}
    }
}

/// One `http` rule, [`http_route`]'s model written, its keys at `depth`.
fn write_http_route(d: &mut Direct, depth: usize, rule: &ir::RouteRule) {
    if let Some(name) = &rule.name {
        d.string(depth, "name", name);
    }
    if !rule.matches.is_empty() {
        d.open(depth, "match");
        for alternative in &rule.matches {
            d.item(depth);
            write_match(d, depth + 1, alternative);
            d.end_item();
        }
    }
    let fault = &rule.fault;
    if fault.delay.is_some() || fault.abort.is_some() {
        d.open(depth, "fault");
        if let Some((delay, share)) = fault.delay {
            d.open(depth + 1, "delay");
            write_percentage(d, depth + 2, "percentage", share);
            d.display(depth + 2, "fixedDelay", delay);
        }
        if let Some((status, share)) = &fault.abort {
            d.open(depth + 1, "abort");
            write_percentage(d, depth + 2, "percentage", *share);
            match status {
                ir::AbortStatus::Http(code) => d.integer(depth + 2, "httpStatus", *code),
                ir::AbortStatus::Grpc(name) => d.string(depth + 2, "grpcStatus", name),
            }
        }
    }
    if !rule.destinations.is_empty() {
        d.open(depth, "route");
        for destination in &rule.destinations {
            d.item(depth);
            let subset = destination.subset.as_deref();
            write_destination(d, depth + 1, "destination", &destination.service, subset);
            if let Some(weight) = destination.weight {
                d.integer(depth + 1, "weight", weight);
            }
            d.end_item();
        }
    }
    if let Some(redirect) = rule.redirect.as_deref() {
        let (uri, prefix) = match &redirect.path {
            Some(ir::PathRewrite::Full(path)) => (Some(path), None),
            Some(ir::PathRewrite::Prefix(prefix)) => (None, Some(prefix)),
            None => (None, None),
        };
        let strings = [
            ("uri", uri),
            ("prefixRewrite", prefix),
            ("authority", redirect.host.as_ref()),
        ];
        d.open_map(depth, "redirect", *redirect != ir::Redirect::default());
        for (key, value) in strings {
            if let Some(value) = value {
                d.string(depth + 1, key, value);
            }
        }
        if let Some(port) = redirect.port {
            d.integer(depth + 1, "port", port);
        }
        if let Some(scheme) = &redirect.scheme {
            d.string(depth + 1, "scheme", scheme);
        }
        if let Some(status) = redirect.status {
            d.integer(depth + 1, "redirectCode", status);
        }
    }
    if let Some(mirror) = rule.mirror.as_deref() {
        write_destination(
            d,
            depth,
            "mirror",
            &mirror.service,
            mirror.subset.as_deref(),
        );
        write_percentage(d, depth, "mirrorPercentage", mirror.percent);
    }
    let rewrite = &rule.rewrite;
    if rewrite.path.is_some() || rewrite.authority.is_some() {
        d.open(depth, "rewrite");
        if let Some(ir::PathRewrite::Full(path) | ir::PathRewrite::Prefix(path)) = &rewrite.path {
            d.string(depth + 1, "uri", path);
        }
        if let Some(authority) = &rewrite.authority {
            d.string(depth + 1, "authority", authority);
        }
    }
    if let Some(timeout) = rule.timeout {
        d.display(depth, "timeout", timeout);
    }
    if let Some(retry) = &rule.retry {
        d.open(depth, "retries");
        d.integer(depth + 1, "attempts", retry.attempts);
        if let Some(timeout) = retry.per_try_timeout {
            d.display(depth + 1, "perTryTimeout", timeout);
        }
        if let Some(on) = retry_on(retry) {
            d.string(depth + 1, "retryOn", &on);
        }
        if let Some(remote) = retry.remote_localities {
            d.boolean(depth + 1, "retryRemoteLocalities", remote);
        }
    }
    let (request, response) = (rule.request_ops(), rule.response_ops());
    if !request.is_empty() || !response.is_empty() {
        d.open(depth, "headers");
        for (key, ops) in [("request", request), ("response", response)] {
            if !ops.is_empty() {
                d.open(depth + 1, key);
                write_header_operations(d, depth + 2, ops);
            }
        }
    }
}

/// One `match` alternative, its keys at `depth`.
fn write_match(d: &mut Direct, depth: usize, alternative: &ir::Match) {
    if let Some(uri) = &alternative.uri {
        write_string_match(d, depth, "uri", uri);
    }
    if let Some(method) = &alternative.method {
        write_string_match(d, depth, "method", method);
    }
    for (key, map) in [
        ("headers", &alternative.headers),
        ("queryParams", &alternative.query),
    ] {
        if !map.is_empty() {
            d.open(depth, key);
            for (name, matcher) in map {
                write_string_match(d, depth + 1, name, matcher);
            }
        }
    }
}

/// `key:` and one of `exact`, `prefix` or `regex` below it.
fn write_string_match(d: &mut Direct, depth: usize, key: &str, matcher: &ir::StringMatch) {
    d.open(depth, key);
    let (kind, value) = match matcher {
        ir::StringMatch::Exact(value) => ("exact", value),
        ir::StringMatch::Prefix(value) => ("prefix", value),
        ir::StringMatch::Regex(value) => ("regex", value),
    };
    d.string(depth + 1, kind, value);
}

/// `key:` and a destination's `host` and `subset` below it.
fn write_destination(
    d: &mut Direct,
    depth: usize,
    key: &str,
    service: &ir::ServiceRef,
    subset: Option<&str>,
) {
    d.open(depth, key);
    d.string(depth + 1, "host", &service.host);
    if let Some(subset) = subset {
        d.string(depth + 1, "subset", subset);
    }
}

/// `key:` and `value:` below it, a percentage.
fn write_percentage(d: &mut Direct, depth: usize, key: &str, value: f64) {
    d.open(depth, key);
    d.float(depth + 1, "value", value);
}

/// `set`, `add` and `remove`, at `depth`.
fn write_header_operations(d: &mut Direct, depth: usize, ops: &ir::HeaderOps) {
    for (key, map) in [("set", &ops.set), ("add", &ops.add)] {
        if !map.is_empty() {
            d.open(depth, key);
            for (name, value) in map {
                d.string(depth + 1, name, value);
            }
        }
    }
    if !ops.remove.is_empty() {
        d.open(depth, "remove");
        for name in &ops.remove {
            d.string_item(depth, name);
        }
    }
}
