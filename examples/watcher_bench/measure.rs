//! What the benchmark reads about its own process: CPU time (getrusage), the CPU of the sandbox's
//! threads (from /proc, so the simulator's share can be told apart), peak RSS, and small stats.

use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

/// The name of the sandbox runtime's threads (at most 15 characters: Linux truncates `comm`).
pub const SANDBOX_THREAD: &str = "sandbox";

/// User + system CPU time of the whole process so far (getrusage, `RUSAGE_SELF`).
pub fn process_cpu() -> Duration {
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => timeval(u.user_time()) + timeval(u.system_time()),
        Err(_) => Duration::ZERO,
    }
}

fn timeval(t: nix::sys::time::TimeVal) -> Duration {
    let secs = u64::try_from(t.tv_sec()).unwrap_or(0);
    let micros = u64::try_from(t.tv_usec()).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(micros)
}

/// User + system CPU time of the live threads named [`SANDBOX_THREAD`] (from
/// `/proc/self/task/*/stat`, in clock ticks of 10 ms: Linux's `CLK_TCK` is 100).
pub fn sandbox_cpu() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let mut ticks = 0u64;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((comm, t)) = thread_ticks(&stat)
            && comm.starts_with(SANDBOX_THREAD)
        {
            ticks += t;
        }
    }
    Duration::from_millis(ticks * 10)
}

/// The thread name and utime + stime of one `/proc/.../stat` line.
fn thread_ticks(stat: &str) -> Option<(&str, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?;
    // After the name: state is field 3, utime field 14 and stime field 15 (proc(5)).
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// A `VmXXX:` figure of /proc/self/status, in KiB (`VmHWM` is the peak RSS).
pub fn vm_kib(field: &str) -> Option<u64> {
    proc_vm_kib("self", field)
}

/// The same figure of process `pid` (a number, or `self`).
pub fn proc_vm_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_kib(&status, field)
}

/// The KiB of `field` in the text of a /proc status file.
fn status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "?".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

/// The 1-minute load average, to tell a quiet machine from a busy one.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The value at quantile `q` (0..=1) of `values`, nearest rank; `None` when empty.
pub fn quantile<T: Copy + Ord>(values: &[T], q: f64) -> Option<T> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let last = sorted.len().checked_sub(1)?;
    let rank = ((last as f64) * q.clamp(0.0, 1.0)).round() as usize;
    sorted.get(rank.min(last)).copied()
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_stat_line_gives_its_name_and_ticks() {
        let line = "4242 (sandbox) S 1 2 3 4 5 6 7 8 9 10 31 7 0 0 20 0 1 0 100 0 0";
        assert_eq!(thread_ticks(line), Some(("sandbox", 38)));
        // A name with spaces and parentheses is read up to the last ')'.
        let odd = "7 (a (b) c) R 1 2 3 4 5 6 7 8 9 10 1 2 0 0";
        assert_eq!(thread_ticks(odd), Some(("a (b) c", 3)));
    }

    #[test]
    fn reads_kib_figures_of_a_proc_status() {
        let status = "Name:\torange-ticket-bot\nVmHWM:\t   31520 kB\nVmRSS:\t   29804 kB\n";
        assert_eq!(status_kib(status, "VmRSS"), Some(29_804));
        assert_eq!(status_kib(status, "VmHWM"), Some(31_520));
        assert_eq!(status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        assert_eq!(quantile::<u32>(&[], 0.5), None);
        assert_eq!(quantile(&[3, 1, 2], 0.5), Some(2));
        assert_eq!(quantile(&[3, 1, 2], 1.0), Some(3));
        assert_eq!(quantile(&[5], 0.95), Some(5));
    }
}
