//! Printing benchmark figures: the median and p95 of timed samples.

use std::time::Duration;

/// Prints the median and p95 of `samples` under `name`; returns them.
pub fn summary(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<52} median {:>7.1} ms   p95 {:>7.1} ms   ({} runs)",
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        samples.len()
    );
    (at(0.5), at(0.95))
}
