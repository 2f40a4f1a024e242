//! The pest parser generated from `grammar/mesh.pest`.

#![allow(missing_docs)]

/// The generated parser; its `Rule` enum has one variant per grammar rule.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/mesh.pest"]
pub(crate) struct MeshParser;
