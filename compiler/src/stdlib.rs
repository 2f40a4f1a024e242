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

/// The book's reference page of the standard library (`book/src/stdlib.md`), generated from the
/// modules' `//!` and `///` comments and their source, so that it cannot drift from them.
pub fn reference() -> String {
    let mut out = String::from(
        "# Standard library reference\n\n\
         <!-- Generated from stdlib/*.mesh by meshc::stdlib::reference(); tests/book.rs checks that\n\
         this page is up to date. Edit the .mesh files, then run\n\
         `MESHC_UPDATE_BOOK=1 cargo test --test book` to regenerate it. -->\n\n\
         The standard library is built into meshc: `import std/NAME` needs no file, and its\n\
         policies are applied with `use NAME.POLICY(ARGUMENTS)` (see [Modules and\n\
         policies](reference/modules.md)). Each policy below shows its parameters with their\n\
         defaults, and its source: what applying it adds, with the arguments in place of the\n\
         parameters. `examples/stdlib/` applies every one of them.\n\n\
         The standard library is part of meshc and versioned with it: this page describes the\n\
         policies of meshc ",
    );
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str(
        ". A change to what a policy emits is a change of meshc's version, so a project that pins\n\
         meshc pins its policies, and `meshc test` shows the change in the diff of every\n\
         expectation that applies the policy.\n",
    );
    for (name, text) in MODULES {
        out.push_str(&format!("\n## `std/{name}`\n\n"));
        let module_doc: Vec<&str> = text
            .lines()
            .map_while(|line| line.strip_prefix("//!"))
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect();
        if !module_doc.is_empty() {
            out.push_str(&module_doc.join("\n"));
            out.push('\n');
        }
        let file = match crate::syntax::parse(0, text) {
            Ok(file) => file,
            Err(diagnostic) => {
                out.push_str(&format!("\n(does not parse: {})\n", diagnostic.message));
                continue;
            }
        };
        for policy in &file.policies {
            let params: Vec<String> = policy
                .params
                .iter()
                .map(|p| match &p.default {
                    Some(default) => format!(
                        "{}: {} = {}",
                        p.name.node,
                        p.ty.node,
                        source(text, default.span)
                    ),
                    None => format!("{}: {}", p.name.node, p.ty.node),
                })
                .collect();
            out.push_str(&format!(
                "\n### `{}`\n\n`use {name}.{}({})`\n\n",
                policy.name.node,
                policy.name.node,
                params.join(", ")
            ));
            if !policy.doc.is_empty() {
                out.push_str(&policy.doc);
                out.push_str("\n\n");
            }
            out.push_str("```mesh,ignore\n");
            out.push_str(source(text, policy.span));
            out.push_str("\n```\n");
        }
    }
    out
}

fn source(text: &str, span: crate::Span) -> &str {
    &text[span.range()]
}
