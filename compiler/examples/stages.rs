//! Where the time goes: each stage of compiling the benchmark's program, best of five runs.
//! `scripts/bench` measures the whole command; this measures the library's parts in-process:
//!
//! ```text
//! cargo run --release --example stages [N]      (N services, 10,000 by default)
//! ```
//!
//! Stages: the fast parser and the reference parser (pest) alone, the whole library compile
//! (parse, expand, check, emit), and writing the YAML stream with meshc's writer and with
//! serde-saphyr (its oracle).

use std::time::Instant;

use meshc::syntax::{parse_fast, parse_reference};
use meshc::SourceMap;

/// The best of five timings of `run`, in milliseconds; what it returns is dropped untimed.
fn best_of_five<T>(run: impl Fn() -> T) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let result = run();
        best = best.min(start.elapsed().as_secs_f64());
        drop(result);
    }
    best * 1e3
}

fn main() {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: stages [N]");
            std::process::exit(2);
        }
    };
    let text = meshc::testing::benchmark_program(n);
    let megabytes = text.len() as f64 / 1e6;
    let compile = || {
        let mut sources = SourceMap::new();
        sources.add("bench.mesh", text.as_str());
        meshc::compile(&mut sources)
    };
    let compilation = compile();
    assert!(!compilation.has_errors(), "the benchmark program compiles");
    let yaml_bytes = meshc::emit::yaml::stream(&compilation.manifests).len() as f64 / 1e6;
    let report = |stage: &str, ms: f64, mb: f64| {
        println!("{stage:<24} {ms:>9.1} ms {:>8.0} MB/s", mb / (ms / 1e3));
    };
    println!("{n} services: {megabytes:.2} MB of source, {yaml_bytes:.2} MB of YAML");
    report(
        "parse (fast)",
        best_of_five(|| parse_fast(0, &text).expect("accepted")),
        megabytes,
    );
    report(
        "parse (pest, reference)",
        best_of_five(|| parse_reference(0, &text).expect("valid")),
        megabytes,
    );
    report("compile (library)", best_of_five(compile), megabytes);
    let manifests = &compilation.manifests;
    report(
        "YAML (meshc)",
        best_of_five(|| meshc::emit::yaml::stream(manifests)),
        yaml_bytes,
    );
    report(
        "YAML (serde-saphyr)",
        best_of_five(|| serde_saphyr::to_string_multiple(manifests).expect("writes")),
        yaml_bytes,
    );
}
