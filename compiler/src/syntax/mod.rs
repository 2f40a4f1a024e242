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

/// Parses one file. Syntax errors stop at the first one (pest does not recover).
///
/// No call limit is set: the grammar has no recursive rule, so nesting depth is bounded by the
/// grammar itself and pest cannot overflow the stack, however large the file (pest's limit
/// counts every rule call of the whole parse, which would reject large valid files).
pub fn parse(file: FileId, text: &str) -> Result<ast::File, Box<Diagnostic>> {
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
