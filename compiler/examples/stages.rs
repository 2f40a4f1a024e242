//! Where the time goes: each stage of compiling the benchmark's program, best of five runs.
//! `scripts/bench` measures the whole command; this measures the library's parts in-process:
//!
//! ```text
//! cargo run --release --example stages [N]      (N services, 10,000 by default)
//! ```
//!
//! Stages: the fast parser and the reference parser (pest) alone, the whole library compile
//! (parse, expand, check, emit), writing the YAML stream of the manifests with meshc's writer
//! and with serde-saphyr (its oracle), and streaming the YAML as `meshc build` does
//! (`write_yaml`, on one thread: Istio's objects written without models). For each, the most
//! heap it had in use at once (peak), what is still allocated once it returns (kept), and how
//! many blocks it allocated or resized, counted by a wrapper around the system allocator.
//!
//! These are the library's own costs, with the system's allocator: each stage alone runs on
//! one thread; the whole compile parses a large file in two halves and checks on every core.
//! `meshc build` also allocates with mimalloc and emits on every core, so `scripts/bench` is
//! the measure of the command.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use meshc::syntax::{parse_fast, parse_reference};
use meshc::SourceMap;

/// The system allocator, counting the bytes in use and the most ever in use.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to `System` unchanged; only the counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        let now = IN_USE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(now, Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        let now = if new_size >= layout.size() {
            IN_USE.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size()
        } else {
            IN_USE.fetch_sub(layout.size() - new_size, Relaxed) - (layout.size() - new_size)
        };
        PEAK.fetch_max(now, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One stage's figures.
struct Measure {
    /// Best of five, in milliseconds.
    ms: f64,
    /// The most heap in use at once during a run, above what was in use before it, in MB.
    peak_mb: f64,
    /// Heap still held by what the run returned, in MB.
    kept_mb: f64,
    /// Calls to allocate or resize a block in one run, in thousands.
    allocs_k: f64,
}

/// Times `run` five times (what it returns is dropped untimed) and counts its heap.
fn measure<T>(run: impl Fn() -> T) -> Measure {
    measure_with(|| (), |()| run())
}

/// Like [`measure`], for a `run` that takes what `setup` makes (made untimed, before the
/// counting starts).
fn measure_with<S, T>(setup: impl Fn() -> S, run: impl Fn(S) -> T) -> Measure {
    let mut best = f64::MAX;
    let mut peak = 0;
    let mut kept = 0;
    let mut allocs = 0;
    for _ in 0..5 {
        let input = setup();
        let before = IN_USE.load(Relaxed);
        PEAK.store(before, Relaxed);
        let calls = ALLOCS.load(Relaxed);
        let start = Instant::now();
        let result = run(input);
        best = best.min(start.elapsed().as_secs_f64());
        peak = PEAK.load(Relaxed).saturating_sub(before);
        kept = IN_USE.load(Relaxed).saturating_sub(before);
        allocs = ALLOCS.load(Relaxed) - calls;
        drop(result);
    }
    Measure {
        ms: best * 1e3,
        peak_mb: peak as f64 / 1e6,
        kept_mb: kept as f64 / 1e6,
        allocs_k: allocs as f64 / 1e3,
    }
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
    let yaml_bytes = meshc::emit::yaml::stream(&compilation.manifests()).len() as f64 / 1e6;
    let report = |stage: &str, m: Measure, mb: f64| {
        println!(
            "{stage:<24} {:>9.1} ms {:>8.0} MB/s {:>9.1} {:>9.1} {:>9.0}",
            m.ms,
            mb / (m.ms / 1e3),
            m.peak_mb,
            m.kept_mb,
            m.allocs_k
        );
    };
    println!("{n} services: {megabytes:.2} MB of source, {yaml_bytes:.2} MB of YAML");
    println!(
        "{:<24} {:>12} {:>13} {:>9} {:>9} {:>9}",
        "stage", "best of 5", "throughput", "heap peak", "kept (MB)", "allocs(k)"
    );
    report(
        "parse (fast)",
        measure(|| parse_fast(0, &text).expect("accepted")),
        megabytes,
    );
    report(
        "parse (pest, reference)",
        measure(|| parse_reference(0, &text).expect("valid")),
        megabytes,
    );
    let files = vec![parse_fast(0, &text).expect("accepted")];
    let options = meshc::target::Options::default();
    let (silenced, _) = meshc::diagnostics::lints::Silenced::new(&files, &Default::default());
    report(
        "check (parsed)",
        measure_with(
            || files.clone(),
            |files| meshc::check::check(files, false, options, None, &silenced, 1),
        ),
        megabytes,
    );
    let (program, _) = meshc::check::check(files, false, options, None, &silenced, 1);
    report(
        "emit (checked)",
        measure(|| meshc::emit::emit(&program, options)),
        megabytes,
    );
    drop(program);
    report("compile (library)", measure(compile), megabytes);
    let manifests = &compilation.manifests();
    report(
        "YAML (meshc)",
        measure(|| meshc::emit::yaml::stream(manifests)),
        yaml_bytes,
    );
    report(
        "write_yaml, one thread",
        measure(|| {
            // What `meshc build` does after compiling: the default target's objects are
            // written straight from the IR, without their models.
            let mut bytes = 0;
            let written = compilation.write_yaml(1, &mut |piece| {
                bytes += piece.len();
                Ok::<(), ()>(())
            });
            (written, bytes)
        }),
        yaml_bytes,
    );
    report(
        "YAML (serde-saphyr)",
        measure(|| serde_saphyr::to_string_multiple(manifests).expect("writes")),
        yaml_bytes,
    );
}
