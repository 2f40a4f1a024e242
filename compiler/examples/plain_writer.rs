//! The benchmark's floor: writes to stdout the YAML that `meshc build` writes for the
//! benchmark's program of N services (`scripts/bench-input N`), with `write!` and nothing else —
//! no parsing, no checking, no model. `scripts/bench` times it beside meshc.
//!
//! ```text
//! cargo run --release --example plain_writer [N] > out.yaml      (N = 10,000 by default)
//! ```

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: plain_writer [N]");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 17, std::io::stdout().lock());
    match meshc::testing::write_benchmark_yaml(n, &mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plain_writer: cannot write: {e}");
            ExitCode::from(2)
        }
    }
}
