//! Helpers shared by the integration tests. A test file uses them with `mod support;`.

// Each test file is its own crate and uses only some of these helpers; the rest would be reported as
// dead code in that crate.
#![allow(dead_code)]

/// The validator the tests check manifests with: the library's own, which `meshc validate` runs.
#[allow(unused_imports)]
pub use meshc::validate as crd;
pub mod mesh;
