//! Parsing: source text → [`ast::File`].
//!
//! Two parsers produce the same AST:
//!
//! - **pest + `lower`** is the reference: `grammar/mesh.pest` is the normative grammar, `lower.rs`
//!   turns pest's pairs into the span-carrying AST by hand, and `error.rs` turns pest's errors
//!   into human words. It produces every syntax error (E0001).
//! - **`fast`** is a hand-written recursive-descent parser over a cursor lexer (`lex.rs`) that
//!   builds the AST directly, an order of magnitude faster and allocating nothing but the AST.
//!   It returns `None` for anything it does not accept: any syntax error, or a case it leaves to
//!   pest.
//!
//! [`parse`] tries `fast` first and runs pest when it declines. So `fast` must be *sound* (when
//! it accepts a file, pest + `lower` accept it with an identical AST, spans included) and should
//! be *complete* (accept every valid file, or the slow path runs). `tests/parser.rs` checks both
//! on every `.mesh` file of the repository and on mutations of them, through [`parse_reference`]
//! and [`parse_fast`]. The meanings both need (string escapes, doc comments, attaching an
//! `@allow` to its declaration) have one implementation, in `lower.rs`; which items an `@allow`
//! may precede is decided by each parser's item loop (`lower.rs`, `fast.rs`), and the
//! differential tests keep the two in step.
//!
//! A change to the grammar changes both parsers; the differential tests fail until they agree.
//!
//! **Architecture invariant:** pest's `Pair` and `Rule` never leave this module.

mod error;
mod fast;
mod grammar;
mod lex;
mod lower;

use pest::Parser;

use crate::ast;
use crate::diagnostics::Diagnostic;
use crate::source::FileId;

/// Parses one file. Syntax errors stop at the first one (pest does not recover).
pub fn parse(file: FileId, text: &str) -> Result<ast::File, Box<Diagnostic>> {
    match fast::parse(file, text) {
        Some(ast) => Ok(ast),
        None => parse_reference(file, text),
    }
}

/// Parses one file with pest and `lower` only: the reference parser, which [`parse`] falls back
/// to. For tests and fuzzing; use [`parse`].
///
/// No call limit is set: the grammar has no recursive rule, so nesting depth is bounded by the
/// grammar itself and pest cannot overflow the stack, however large the file (pest's limit
/// counts every rule call of the whole parse, which would reject large valid files).
#[doc(hidden)]
pub fn parse_reference(file: FileId, text: &str) -> Result<ast::File, Box<Diagnostic>> {
    match grammar::MeshParser::parse(grammar::Rule::file, text) {
        Ok(mut pairs) => {
            let root = pairs
                .next()
                .expect("grammar: a successful parse yields `file`");
            Ok(lower::Lowerer { file, text }.file(root))
        }
        Err(err) => Err(Box::new(error::syntax_error(file, text, &err))),
    }
}

/// Parses one file with the fast parser only: `None` where [`parse`] would fall back to pest.
/// For tests and fuzzing; use [`parse`].
#[doc(hidden)]
pub fn parse_fast(file: FileId, text: &str) -> Option<ast::File> {
    fast::parse(file, text)
}
