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
pub mod print;

use pest::Parser;

use crate::ast;
use crate::diagnostics::Diagnostic;
use crate::source::FileId;

/// Parses one file. Syntax errors stop at the first one (pest does not recover).
///
/// A file of 1 MiB or more is parsed in two halves on two threads when the machine has two
/// cores (`fast::parse_split`): the result is the same.
pub fn parse(file: FileId, text: &str) -> Result<ast::File, Box<Diagnostic>> {
    const SPLIT_FROM: usize = 1 << 20;
    let split = (text.len() >= SPLIT_FROM)
        .then(|| fast::split_point(text))
        .flatten()
        .filter(|_| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1));
    let fast = match split {
        Some(split) => fast::parse_split(file, text, split),
        None => fast::parse(file, text),
    };
    match fast {
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

/// Where [`parse`] splits a large file: see `fast::split_point`. For tests.
#[doc(hidden)]
pub fn split_point(text: &str) -> Option<usize> {
    fast::split_point(text)
}

/// [`parse_fast`] in two halves split at byte `split` (a line start, say), on two threads:
/// always the same result as `parse_fast`. For tests and fuzzing.
#[doc(hidden)]
pub fn parse_fast_split(file: FileId, text: &str, split: usize) -> Option<ast::File> {
    fast::parse_split(file, text, split)
}
