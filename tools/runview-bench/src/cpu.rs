//! CPU accounting from /proc, to tell the work of the processes under test (runview, PostgreSQL,
//! this process and the pgbench it runs) from whatever else the machine was doing meanwhile.

use std::fs;

/// Clock ticks per second of /proc's CPU times; 100 on every Linux platform in use.
pub const TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime of `pid`, and its reaped children's, in ticks.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessTimes {
    pub own: u64,
    pub children: u64,
}

/// Fields after the `(comm)` of /proc/<pid>/stat, which may itself hold spaces.
fn stat_fields(pid: &str) -> Option<(String, Vec<u64>)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_owned();
    // state is a letter; the numbers start with ppid (field 4).
    let numbers = text[close + 2..]
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    Some((comm, numbers))
}

/// utime is field 14 of the stat line; `numbers` starts at field 4.
fn times(numbers: &[u64]) -> ProcessTimes {
    let at = |field: usize| numbers.get(field - 4).copied().unwrap_or(0);
    ProcessTimes {
        own: at(14) + at(15),
        children: at(16) + at(17),
    }
}

pub fn process(pid: u32) -> ProcessTimes {
    stat_fields(&pid.to_string())
        .map(|(_, numbers)| times(&numbers))
        .unwrap_or_default()
}

pub fn this_process() -> ProcessTimes {
    stat_fields("self")
        .map(|(_, numbers)| times(&numbers))
        .unwrap_or_default()
}

/// Every PostgreSQL process: the running ones, plus what exited backends left in their parent's
/// children times (backends are children of the postmaster).
pub fn postgres() -> u64 {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if let Some((comm, numbers)) = stat_fields(pid)
            && (comm == "postgres" || comm == "postmaster")
        {
            let process = times(&numbers);
            total += process.own + process.children;
        }
    }
    total
}

/// Busy ticks of the whole machine, summed over CPUs: user, nice, system and steal (time other
/// virtual machines took). Interrupt time is left out: it is mostly the loopback traffic of the
/// run itself, which the kernel accounts to no process.
pub fn machine_busy() -> u64 {
    let Ok(text) = fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal
    [0, 1, 2, 7]
        .iter()
        .map(|&i| values.get(i).copied().unwrap_or(0))
        .sum()
}

/// Peak and current resident set of `pid`, in KiB.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// A snapshot of the counters a measurement compares.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    at: std::time::Instant,
    busy: u64,
    server: u64,
    postgres: u64,
    bench: u64,
}

impl Snapshot {
    pub fn take(server_pid: u32) -> Self {
        let bench = this_process();
        Self {
            at: std::time::Instant::now(),
            busy: machine_busy(),
            server: process(server_pid).own,
            postgres: postgres(),
            bench: bench.own + bench.children,
        }
    }

    /// What happened between `self` and `later`.
    pub fn until(&self, later: &Snapshot) -> Usage {
        let seconds = later.at.duration_since(self.at).as_secs_f64();
        let server = later.server.saturating_sub(self.server);
        let ours = server
            + later.postgres.saturating_sub(self.postgres)
            + later.bench.saturating_sub(self.bench);
        let foreign = later.busy.saturating_sub(self.busy).saturating_sub(ours);
        Usage {
            server_seconds: server as f64 / TICKS_PER_SECOND,
            postgres_seconds: later.postgres.saturating_sub(self.postgres) as f64
                / TICKS_PER_SECOND,
            foreign_cores: foreign as f64 / TICKS_PER_SECOND / seconds.max(1e-3),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// CPU time runview used.
    pub server_seconds: f64,
    /// CPU time every PostgreSQL process used, exited backends included.
    pub postgres_seconds: f64,
    /// Average cores busy with other work than the processes under test.
    pub foreign_cores: f64,
}
