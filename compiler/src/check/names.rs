//! Syntax rules for the names that end up in manifests: Kubernetes object names, hosts,
//! subset names, labels and HTTP header names.
//!
//! Each function returns `Err(reason)` in the user's terms; the caller turns it into E0205.

/// A Kubernetes DNS-1123 label: lower-case alphanumerics and `-`, at most 63, alphanumeric at
/// both ends. Service and namespace names.
pub(crate) fn dns_label(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err(format!(
            "must be 1 to 63 characters long, not {}",
            name.len()
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("may only contain lower-case letters, digits and `-`".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A Kubernetes DNS-1123 subdomain: dot-separated labels, at most 253. Resource names.
pub(crate) fn dns_subdomain(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!(
            "must be at most 253 characters long, not {}",
            name.len()
        ));
    }
    name.split('.').try_for_each(dns_label)
}

/// Istio's subset-name rule: a DNS-1123 label where upper case is allowed.
pub(crate) fn subset_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err(format!(
            "must be 1 to 63 characters long, not {}",
            name.len()
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("may only contain letters, digits and `-`".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A fully qualified host name: labels of letters, digits and `-`, at most 255 in all, the last
/// not all digits.
pub(crate) fn host(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 255 {
        return Err("must be 1 to 255 characters long".into());
    }
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    for label in &labels {
        if label.is_empty()
            || label.len() > 63
            || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(format!("label `{label}` is not a valid DNS label"));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("the top-level domain cannot be all digits".into());
    }
    Ok(())
}

/// A Gateway API hostname: lower-case DNS labels, optionally `*.` in front, at most 253.
pub(crate) fn gateway_hostname(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 253 {
        return Err(format!(
            "must be 1 to 253 characters long, not {}",
            name.len()
        ));
    }
    let rest = name.strip_prefix("*.").unwrap_or(name);
    if rest.contains('*') {
        return Err("may only have a wildcard as its first label (`*.example.com`)".into());
    }
    rest.split('.').try_for_each(dns_label)
}

/// A path Gateway API accepts in an `Exact` or `PathPrefix` match: absolute, without `//`,
/// `/./`, `/../`, `%2f`, `#`, not ending in `/.` or `/..`, of URL path characters only.
pub(crate) fn gateway_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("must start with `/`".into());
    }
    if path.len() > 1024 {
        return Err("must be at most 1024 characters long".into());
    }
    for bad in ["//", "/./", "/../", "%2f", "%2F", "#"] {
        if path.contains(bad) {
            return Err(format!("must not contain `{bad}`"));
        }
    }
    if path.ends_with("/..") || path.ends_with("/.") {
        return Err("must not end with `/.` or `/..`".into());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-/._~!$&'()*+,;=:@%".contains(c);
    if let Some(bad) = path.chars().find(|c| !allowed(*c)) {
        let encoded: String = bad
            .to_string()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect();
        return Err(format!(
            "must not contain {bad:?}: percent-encode it as `{encoded}`"
        ));
    }
    // Every `%` starts an escape of two hex digits.
    let bytes = path.as_bytes();
    for (at, byte) in bytes.iter().enumerate() {
        let hex = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_hexdigit);
        if *byte == b'%' && !(hex(at + 1) && hex(at + 2)) {
            return Err(
                "has a `%` that is not followed by two hex digits: write `%25` for a percent sign"
                    .into(),
            );
        }
    }
    Ok(())
}

/// A label key: optional DNS prefix and `/`, then a name of alphanumerics, `-`, `_`, `.`
/// (at most 63, alphanumeric at both ends).
pub(crate) fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        dns_subdomain(prefix).map_err(|reason| format!("has a prefix `{prefix}` that {reason}"))?;
    }
    label_value(name).and_then(|()| {
        if name.is_empty() {
            Err("must have a name after the `/`".into())
        } else if name.len() > 63 {
            Err("must have a name part of at most 63 characters".into())
        } else {
            Ok(())
        }
    })
}

/// A label value: empty, or alphanumerics, `-`, `_`, `.` with alphanumerics at both ends.
pub(crate) fn label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("may only contain letters, digits, `-`, `_` and `.`".into());
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(value.chars().next()) || !alnum(value.chars().last()) {
        return Err("must start and end with a letter or digit".into());
    }
    if value.len() > 63 {
        return Err("must be at most 63 characters long".into());
    }
    Ok(())
}

/// An HTTP header name (RFC 7230 token).
pub(crate) fn header_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("cannot be empty".into());
    }
    if name.len() > 256 {
        return Err("must be at most 256 characters long".into());
    }
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !name.chars().all(token) {
        return Err("may only contain letters, digits and ``!#$%&'*+-.^_`|~``".into());
    }
    Ok(())
}

/// A header value Istio accepts: no control characters except TAB, and `%` only as Envoy's
/// `%%` escape or around a `%VARIABLE%`.
pub(crate) fn header_value(value: &str) -> Result<(), String> {
    if value
        .chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{7f}')
    {
        return Err("contains a control character".into());
    }
    let mut rest = value;
    while let Some(at) = rest.find('%') {
        let after = &rest[at + 1..];
        if let Some(stripped) = after.strip_prefix('%') {
            rest = stripped;
            continue;
        }
        let Some(end) = after.find('%') else {
            return Err("has a lone `%`: write `%%` for a literal percent sign".into());
        };
        let variable = &after[..end];
        if variable.is_empty() || variable.contains(char::is_whitespace) {
            return Err("has a lone `%`: write `%%` for a literal percent sign".into());
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns_label("research-agent").is_ok());
        assert!(dns_label("Research").is_err());
        assert!(dns_label("-x").is_err());
        assert!(subset_name("V2-test").is_ok());
        assert!(host("research-agent.team1.svc.cluster.local").is_ok());
        assert!(host("a.123").is_err());
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("bad key").is_err());
        assert!(header_name("x-user-id").is_ok());
        assert!(header_name("x user").is_err());
        assert!(header_value("100%%").is_ok());
        assert!(header_value("%HOSTNAME%").is_ok());
        assert!(header_value("abc%123").is_err());
    }
}
