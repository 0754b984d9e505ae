//! This process's CPU time, memory and threads, read from Linux's `/proc`, for
//! the system page. Parsing is pure; reading is two small files.

/// One look at the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// User and system CPU time so far, in clock ticks.
    pub cpu_ticks: u64,
    pub rss_bytes: u64,
    pub threads: u64,
}

/// utime + stime from `/proc/<pid>/stat` (fields 14 and 15; the command name
/// in parentheses may hold spaces, so fields are counted after its `)`).
pub fn parse_stat(stat: &str) -> Option<u64> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Resident memory (bytes) and threads from `/proc/<pid>/status`.
pub fn parse_status(status: &str) -> (Option<u64>, Option<u64>) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    (field("VmRSS:").map(|kb| kb * 1024), field("Threads:"))
}

/// Reads this process's sample.
pub fn read() -> std::io::Result<Sample> {
    let bad = |what: &str| std::io::Error::other(format!("cannot read {what}"));
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let status = std::fs::read_to_string("/proc/self/status")?;
    let (rss, threads) = parse_status(&status);
    Ok(Sample {
        cpu_ticks: parse_stat(&stat).ok_or_else(|| bad("/proc/self/stat"))?,
        rss_bytes: rss.ok_or_else(|| bad("VmRSS in /proc/self/status"))?,
        threads: threads.unwrap_or(0),
    })
}

/// Clock ticks per second (`_SC_CLK_TCK`, 100 on Linux).
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a constant of the system.
    let n = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(n).ok().filter(|n| *n > 0).unwrap_or(100)
}

/// CPU use between two samples `secs` apart, in % of one core.
pub fn cpu_percent(before_ticks: u64, after_ticks: u64, secs: f64, hz: u64) -> f64 {
    if secs <= 0.0 {
        return 0.0;
    }
    after_ticks.saturating_sub(before_ticks) as f64 / hz as f64 / secs * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_from_proc_text() {
        let stat =
            "4242 (hearth (web) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 9 0 100";
        assert_eq!(parse_stat(stat), Some(325));
        assert_eq!(parse_stat("4242 (cut"), None);
        let status = "Name:\thearth\nVmRSS:\t   55300 kB\nThreads:\t9\n";
        assert_eq!(parse_status(status), (Some(55300 * 1024), Some(9)));
        assert_eq!(parse_status("Name: x\n"), (None, None));
        assert!((cpu_percent(100, 150, 2.0, 100) - 25.0).abs() < 1e-9);
        assert_eq!(cpu_percent(150, 100, 2.0, 100), 0.0);
        let me = read().unwrap();
        assert!(me.rss_bytes > 0 && me.threads >= 1);
    }
}
