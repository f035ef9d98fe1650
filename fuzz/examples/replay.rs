//! Runs the `pipeline` target's body natively (no sanitizer, no coverage) over every file of
//! the given folders, `ROUNDS` times, and prints the rate: to profile what a run costs with
//! `perf` or `valgrind --tool=callgrind`, without libFuzzer's own work mixed in.
//!
//!   cd fuzz && cargo build --release --example replay
//!   target/release/examples/replay ROUNDS DIR...
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut inputs = Vec::new();
    for dir in args {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("replay: {dir}: not a readable folder");
            std::process::exit(2);
        };
        for e in entries.flatten() {
            if let Ok(bytes) = std::fs::read(e.path()) {
                inputs.push(bytes);
            }
        }
    }
    // The first run sets up the process (the samples, regular expressions, templates).
    if let Some(first) = inputs.first() {
        sbdiag_fuzz::pipeline(first);
    }
    let start = Instant::now();
    for _ in 0..rounds {
        for i in &inputs {
            sbdiag_fuzz::pipeline(i);
        }
    }
    let runs = rounds * inputs.len();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{runs} runs in {secs:.2} s: {:.0} runs/s",
        runs as f64 / secs.max(1e-9)
    );
}
