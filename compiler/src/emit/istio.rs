//! Istio: a service's routes → `VirtualService`, its subsets and policy → `DestinationRule`.

use super::{k8s, metadata};
use crate::ir;

const API_VERSION: &str = "networking.istio.io/v1";

/// The service's `DestinationRule`, when it declares subsets or policy.
pub fn destination_rule(service: &ir::Service) -> Option<k8s::Object<k8s::DestinationRuleSpec>> {
    if service.subsets.is_empty() && service.policy.is_empty() {
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

fn load_balancer(balance: &ir::Balance) -> k8s::LoadBalancer {
    let hash = |hash: k8s::ConsistentHash| k8s::LoadBalancer::ConsistentHash(hash);
    match balance {
        ir::Balance::RoundRobin => k8s::LoadBalancer::Simple("ROUND_ROBIN"),
        ir::Balance::LeastRequest => k8s::LoadBalancer::Simple("LEAST_REQUEST"),
        ir::Balance::Random => k8s::LoadBalancer::Simple("RANDOM"),
        ir::Balance::Passthrough => k8s::LoadBalancer::Simple("PASSTHROUGH"),
        ir::Balance::HashHeader(name) => hash(k8s::ConsistentHash {
            http_header_name: Some(name.clone()),
            ..Default::default()
        }),
        ir::Balance::HashQuery(name) => hash(k8s::ConsistentHash {
            http_query_parameter_name: Some(name.clone()),
            ..Default::default()
        }),
        ir::Balance::HashSourceIp => hash(k8s::ConsistentHash {
            use_source_ip: Some(true),
            ..Default::default()
        }),
        ir::Balance::HashCookie { name, ttl, path } => hash(k8s::ConsistentHash {
            http_cookie: Some(k8s::HttpCookie {
                name: name.clone(),
                path: path.clone(),
                ttl: ttl.map(|d| d.to_string()),
            }),
            ..Default::default()
        }),
    }
}

fn connection_pool(pool: &ir::Pool) -> k8s::ConnectionPool {
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
        h2_upgrade_policy: pool.h2_upgrade.map(|policy| match policy {
            ir::H2Upgrade::Default => "DEFAULT",
            ir::H2Upgrade::DoNotUpgrade => "DO_NOT_UPGRADE",
            ir::H2Upgrade::Upgrade => "UPGRADE",
        }),
    };
    k8s::ConnectionPool {
        tcp: (tcp != k8s::TcpSettings::default()).then_some(tcp),
        http: (http != k8s::HttpSettings::default()).then_some(http),
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
        retry_on: (!retry.on.is_empty()).then(|| retry.on.join(",")),
        retry_remote_localities: retry.remote_localities,
    }
}
