//! Parsing: source text → [`ast::File`].
//!
//! pest does the parsing (`grammar/mesh.pest`); `lower` turns its pairs into the span-carrying
//! AST by hand; `error` turns pest's errors into human words.
//! **Architecture invariant:** pest's `Pair` and `Rule` never leave this module.

mod error;
mod grammar;
mod lower;

use pest::Parser;

use crate::ast;
use crate::diagnostics::Diagnostic;
use crate::source::FileId;

/// The deepest rule nesting pest may enter before it gives up with an error instead of
/// overflowing the stack.
const CALL_LIMIT: usize = 5_000_000;

/// Parses one file. Syntax errors stop at the first one (pest does not recover).
pub fn parse(file: FileId, text: &str) -> Result<ast::File, Box<Diagnostic>> {
    pest::set_call_limit(std::num::NonZeroUsize::new(CALL_LIMIT));
    match grammar::MeshParser::parse(grammar::Rule::file, text) {
        Ok(mut pairs) => {
            let root = pairs
                .next()
                .expect("grammar: a successful parse yields `file`");
            Ok(lower::Lowerer { file }.file(root))
        }
        Err(err) => Err(Box::new(error::syntax_error(file, text, &err))),
    }
}
