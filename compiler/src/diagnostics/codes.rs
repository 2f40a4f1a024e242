//! Every diagnostic code meshc can emit, in one place.
//!
//! Codes are stable: never reuse or renumber one. A code that is no longer emitted keeps its
//! entry and its book page, with a note saying so. Ranges: `E00xx` syntax, `E01xx` names,
//! `E02xx` values, `E03xx` rules that span several values, `E04xx` what a target cannot express or
//! limits it sets; `W0xxx` are warnings and `N0xxx` notes.
//! Each code's explanation is its book page (`book/src/errors/CODE.md`), which `meshc explain`
//! prints; a test checks that every code has a page, a fixture and a SUMMARY.md entry.

macro_rules! codes {
    ($($code:ident => $summary:literal,)*) => {
        /// A diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = $summary]
                $code,
            )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// The code as written in diagnostics: `E0101`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }

            /// A one-line summary.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$code => $summary,)* }
            }

            /// The long explanation: the code's book page.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$code => include_str!(concat!("../../../book/src/errors/", stringify!($code), ".md")),)*
                }
            }
        }
    };
}

codes! {
    E0001 => "syntax error",
    E0101 => "unknown service",
    E0102 => "unknown subset",
    E0103 => "duplicate definition",
    E0104 => "ambiguous destination",
    E0105 => "missing or repeated namespace",
    E0106 => "unknown lint or misplaced `@allow`",
    E0107 => "subset that selects no declared Deployment",
    E0110 => "import that cannot be resolved",
    E0111 => "unknown policy or module",
    E0201 => "wrong kind of value",
    E0202 => "value out of range",
    E0203 => "unknown retry condition",
    E0204 => "invalid duration",
    E0205 => "invalid name",
    E0206 => "unknown keyword value",
    E0207 => "invalid path",
    E0208 => "invalid resource quantity",
    E0301 => "percentages do not total 100%",
    E0302 => "some destinations have a weight and some do not",
    E0303 => "retry settings with zero retries",
    E0304 => "setting given twice",
    E0305 => "empty policy block",
    E0306 => "per-try or backend timeout longer than the route timeout",
    E0307 => "regular expression RE2 cannot compile",
    E0308 => "required setting missing",
    E0309 => "invalid canary steps",
    E0310 => "policy argument that does not fit its parameter",
    E0311 => "policy part that does not belong where it is applied",
    E0312 => "policies nested too deeply",
    E0401 => "not expressible on this target",
    E0402 => "Gateway API limit exceeded",
    E0403 => "prefix rewrite without a prefix match",
    E0404 => "conflicting route actions",
    E0405 => "backend service without a port",
    E0406 => "ingress without a gateway",
    E0407 => "HTTPRoute backend that is not a Kubernetes Service",
    E0408 => "routes whose order Linkerd cannot keep",
    E0409 => "ServiceProfile routes with different destinations",
    E0410 => "a service split more than one way in Consul",
    E0411 => "a timeout that Resilience4j cannot keep around retries",
    E0501 => "manifest rejected by its schema",
    E0502 => "YAML that is not a Kubernetes object",
    E0503 => "manifest that meshc cannot import",
    E0504 => "`extra` setting of a field meshc writes",
    E0505 => "`extra` setting that does not fit the object",
    E0506 => "`extra` value rejected by the object's schema",
    W0001 => "deprecated Istio field",
    W0002 => "unreachable route",
    W0003 => "a name for a resource that is not emitted",
    W0004 => "template syntax sent literally",
    W0005 => "field imported into an `extra` block",
    W0101 => "route without a timeout",
    W0102 => "service without circuit breaking",
    W0103 => "retries that can repeat non-idempotent requests",
    W0104 => "retries that cannot fit in the timeout",
    W0105 => "fault injection disables retries and timeouts",
    W0106 => "mirroring to a destination of the same route",
    W0107 => "outlier detection that can eject every instance",
    W0108 => "match shadowed by an earlier route",
    W0109 => "Deployment without a readiness probe",
    W0110 => "Deployment that no subset selects",
    W0111 => "unused import",
    W0112 => "retry count that a ServiceProfile cannot keep",
    W0113 => "`extra` block that extends nothing",
    N0001 => "ReferenceGrant emitted",
    N0002 => "consistent hashing sends retries back to the same pod",
    N0003 => "manifest of a kind meshc has no schema for",
    N0004 => "deprecated field modernised on import",
}

impl Code {
    /// Looks a code up by its text, ignoring ASCII case.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|code| code.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether the code is a warning.
    pub fn is_warning(self) -> bool {
        self.as_str().starts_with('W')
    }

    /// Whether the code is a note: information, never a reason to fail.
    pub fn is_note(self) -> bool {
        self.as_str().starts_with('N')
    }

    /// The severity of diagnostics with this code.
    pub fn severity(self) -> super::Severity {
        if self.is_warning() {
            super::Severity::Warning
        } else if self.is_note() {
            super::Severity::Note
        } else {
            super::Severity::Error
        }
    }
}
