//! This test process's peak memory, for tests of what a flood costs.

/// The largest memory this process has held since the last reset, in KB
/// (`VmHWM`; `reset` starts a new peak through `clear_refs`).
pub fn peak_kb(reset: bool) -> u64 {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak");
    }
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}
