//! `mesh.toml`: the settings of a project, in the directory that is its root.
//!
//! The file is TOML, of which meshc reads a small part: `key = value` lines with string or
//! boolean values, one `[lints]` table, `#` comments. Anything else — an unknown key, a value
//! of the wrong type, another table — is an error with its line, so that a typo never silently
//! turns a setting off. Parsing is here (no I/O); the CLI finds and reads the file.
//!
//! ```toml
//! namespace = "team1"          # for files without a `namespace` line
//! target = "istio"             # istio, gateway-api, flagger, argo-rollouts, linkerd, consul
//! gateway-channel = "standard" # standard, experimental
//! linkerd-flavour = "http-route" # http-route, service-profile
//! out-dir = "deploy/mesh"      # where `meshc build` writes without `-o`
//! deny-warnings = false
//!
//! [lints]
//! missing-timeout = "deny"     # allow, warn, deny
//! ```

use crate::diagnostics::lints::{self, Level};
use crate::diagnostics::Code;
use crate::target::{Channel, LinkerdFlavour, Named, Target};

/// The settings of a `mesh.toml`; `None` (or empty) where the file says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The namespace of files that declare none.
    pub namespace: Option<String>,
    /// The target, unless `--target` is given.
    pub target: Option<Target>,
    /// The Gateway API channel, unless `--gateway-channel` is given.
    pub channel: Option<Channel>,
    /// Linkerd's flavour, unless `--linkerd-flavour` is given.
    pub linkerd: Option<LinkerdFlavour>,
    /// Where `meshc build` writes without `-o`, relative to the project root.
    pub out_dir: Option<String>,
    /// `--deny-warnings` for every run.
    pub deny_warnings: bool,
    /// Lint levels, in the file's order; `-A`, `-W` and `-D` apply after them.
    pub lints: Vec<(Code, Level)>,
}

/// A mistake in `mesh.toml`: its 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The line.
    pub line: usize,
    /// What is wrong, and how to fix it.
    pub message: String,
}

/// A value as written.
enum Value {
    String(String),
    Bool(bool),
}

/// The file's name.
pub const FILE_NAME: &str = "mesh.toml";

/// Reads the text of a `mesh.toml`.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    let mut in_lints = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let error = |message: String| ConfigError { line, message };
        let content = strip_comment(raw).trim();
        if content.is_empty() {
            continue;
        }
        if let Some(table) = content.strip_prefix('[') {
            let name = table
                .strip_suffix(']')
                .ok_or_else(|| error("a table header is `[NAME]`".into()))?
                .trim();
            if name != "lints" {
                return Err(error(format!(
                    "unknown table `[{name}]`; the only table is `[lints]`"
                )));
            }
            in_lints = true;
            continue;
        }
        let (key, value) = content
            .split_once('=')
            .ok_or_else(|| error("expected `key = value`".into()))?;
        let key = key.trim().trim_matches('"');
        let value = parse_value(value.trim()).map_err(error)?;
        if in_lints {
            let code = lints::lookup(key).map_err(|near| {
                error(match near {
                    Some(near) => format!("unknown lint `{key}`; did you mean `{near}`?"),
                    None => format!("unknown lint `{key}`; `meshc explain` lists every lint"),
                })
            })?;
            let level = match expect_string(key, value).map_err(error)?.as_str() {
                "allow" => Level::Allow,
                "warn" => Level::Warn,
                "deny" => Level::Deny,
                other => {
                    return Err(error(format!(
                        "`{key} = \"{other}\"`: a lint level is \"allow\", \"warn\" or \"deny\""
                    )))
                }
            };
            config.lints.push((code, level));
            continue;
        }
        match key {
            "namespace" => {
                let namespace = expect_string(key, value).map_err(error)?;
                crate::check::valid_namespace(&namespace)
                    .map_err(|why| error(format!("`namespace = \"{namespace}\"`: {why}")))?;
                config.namespace = Some(namespace);
            }
            "target" => config.target = Some(one_of(key, value, "target").map_err(error)?),
            "gateway-channel" => {
                config.channel = Some(one_of(key, value, "channel").map_err(error)?)
            }
            "linkerd-flavour" => {
                config.linkerd = Some(one_of(key, value, "Linkerd flavour").map_err(error)?)
            }
            "out-dir" => config.out_dir = Some(expect_string(key, value).map_err(error)?),
            "deny-warnings" => match value {
                Value::Bool(b) => config.deny_warnings = b,
                Value::String(_) => {
                    return Err(error("`deny-warnings` is `true` or `false`".into()))
                }
            },
            _ => {
                return Err(error(format!(
                    "unknown setting `{key}`; mesh.toml has `namespace`, `target`, `gateway-channel`, `linkerd-flavour`, `out-dir`, `deny-warnings` and a `[lints]` table"
                )))
            }
        }
    }
    Ok(config)
}

/// The line without a `#` comment (a `#` inside a string stays).
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            '\\' if in_string => escaped = !escaped,
            '"' if !escaped => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    line
}

fn parse_value(text: &str) -> Result<Value, String> {
    match text {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|_| text.len() >= 2)
        .ok_or_else(|| {
            format!("`{text}`: a value is a string in double quotes, `true` or `false`")
        })?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                other => {
                    return Err(format!(
                        "unsupported escape `\\{}` in a string",
                        other.map(String::from).unwrap_or_default()
                    ))
                }
            },
            '"' => {
                return Err(format!(
                    "`{text}`: a `\"` inside a string is written `\\\"`"
                ))
            }
            c => out.push(c),
        }
    }
    Ok(Value::String(out))
}

/// A string value that names one of `T`'s values.
fn one_of<T: Named>(key: &str, value: Value, what: &str) -> Result<T, String> {
    let name = expect_string(key, value)?;
    T::named(&name).ok_or_else(|| format!("unknown {what} \"{name}\": one of {}", T::names()))
}

fn expect_string(key: &str, value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Bool(_) => Err(format!("`{key}` is a string in double quotes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_a_name() {
        let names = [
            ("istio", Target::Istio),
            ("gateway-api", Target::GatewayApi),
            ("flagger", Target::Flagger),
            ("argo-rollouts", Target::ArgoRollouts),
            ("linkerd", Target::Linkerd),
            ("consul", Target::Consul),
            ("resilience4j", Target::Resilience4j),
        ];
        for (name, target) in names {
            let config = parse(&format!("target = \"{name}\"\n")).unwrap();
            assert_eq!(config.target, Some(target), "{name}");
        }
        let unknown = parse("target = \"kuma\"\n").unwrap_err().message;
        assert!(unknown.contains("\"resilience4j\""), "{unknown}");
    }

    #[test]
    fn reads_every_setting() {
        let config = parse(
            "# project\nnamespace = \"team1\"  # default\ntarget = \"gateway-api\"\n\
             gateway-channel = \"experimental\"\nlinkerd-flavour = \"service-profile\"\nout-dir = \"deploy/#mesh\"\ndeny-warnings = true\n\n\
             [lints]\nmissing-timeout = \"deny\"\nW0102 = \"allow\"\n",
        )
        .unwrap();
        assert_eq!(config.namespace.as_deref(), Some("team1"));
        assert_eq!(config.target, Some(Target::GatewayApi));
        assert_eq!(config.channel, Some(Channel::Experimental));
        assert_eq!(config.linkerd, Some(LinkerdFlavour::ServiceProfile));
        assert_eq!(config.out_dir.as_deref(), Some("deploy/#mesh"));
        assert!(config.deny_warnings);
        assert_eq!(
            config.lints,
            vec![(Code::W0101, Level::Deny), (Code::W0102, Level::Allow)]
        );
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn names_the_line_of_every_mistake() {
        let cases = [
            ("namespace = team1", 1, "a value is a string"),
            ("\ntarget = \"kuma\"", 2, "unknown target"),
            ("out = \"x\"", 1, "unknown setting `out`"),
            ("[lint]", 1, "unknown table"),
            (
                "[lints]\nmissing-timout = \"deny\"",
                2,
                "did you mean `missing-timeout`",
            ),
            ("[lints]\nmissing-timeout = \"error\"", 2, "a lint level is"),
            ("namespace = \"Team_1\"", 1, "namespace = \"Team_1\""),
            ("deny-warnings = \"yes\"", 1, "`true` or `false`"),
            ("namespace", 1, "expected `key = value`"),
        ];
        for (text, line, message) in cases {
            let error = parse(text).expect_err(text);
            assert_eq!(error.line, line, "{text}");
            assert!(error.message.contains(message), "{text}: {}", error.message);
        }
    }
}
