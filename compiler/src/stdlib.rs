//! The standard policy library (`stdlib/*.mesh` in the repository), embedded in the compiler so
//! that `import std/NAME` works without files: the library does no I/O, and a project's build
//! never depends on where meshc was installed.

/// Every module: its name (as in `import std/NAME`) and its source, in alphabetical order.
pub const MODULES: &[(&str, &str)] = &[
    ("balancing", include_str!("../../stdlib/balancing.mesh")),
    ("breakers", include_str!("../../stdlib/breakers.mesh")),
    ("canary", include_str!("../../stdlib/canary.mesh")),
    ("chaos", include_str!("../../stdlib/chaos.mesh")),
    ("retries", include_str!("../../stdlib/retries.mesh")),
    ("timeouts", include_str!("../../stdlib/timeouts.mesh")),
];

/// The source of a module, by name.
pub fn module(name: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
