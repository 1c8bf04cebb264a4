//! Starting and stopping the private server with pg_ctl.

use std::fs::{self, OpenOptions};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::LocalDbError;
use crate::cluster::Cluster;
use crate::process::{ProcessState, postmaster_pid, process_state, wait_for_exit};

/// Seconds pg_ctl waits for the server to come up or go down.
const PG_CTL_TIMEOUT_SECS: &str = "60";

/// How long the postmaster may take to exit once it has given up its lock file.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of the server log a start failure reports.
const LOG_TAIL_LINES: usize = 20;

#[derive(Debug, Clone, Copy)]
pub(crate) enum StopMode {
    /// Lets sessions end cleanly: the normal way down.
    Fast,
    /// For a server left behind by a crashed run, whose state does not matter.
    Immediate,
}

impl StopMode {
    fn as_arg(self) -> &'static str {
        match self {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        }
    }
}

impl Cluster {
    fn pg_ctl(&self, action: &str) -> Command {
        let mut command = self.user.command(&self.binaries.program("pg_ctl"));
        command.arg(action).arg("-D").arg(&self.data_dir).args([
            "-w",
            "-t",
            PG_CTL_TIMEOUT_SECS,
            "-s",
        ]);
        command
    }

    /// Starts the server and waits until it accepts connections.
    pub(crate) fn start_server(&self) -> Result<(), LocalDbError> {
        let log = self.log_file();
        // pg_ctl opens the log as the server user, who may not write to the directory holding it.
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| LocalDbError::io_at("creating", &log, e))?;
        self.user.take_ownership(&log)?;

        let mut start = self.pg_ctl("start");
        start.arg("-l").arg(&log);
        run(start).map_err(|cause| {
            // A server that came up too slowly would otherwise outlive the failed start.
            let _ = self.stop_server(StopMode::Immediate);
            LocalDbError::Start {
                data_dir: self.data_dir.clone(),
                log_tail: log_tail(&log),
                log,
                cause: Box::new(cause),
            }
        })
    }

    /// Stops the server and waits until its process is gone; a server that is not running is fine.
    pub(crate) fn stop_server(&self, mode: StopMode) -> Result<(), LocalDbError> {
        let Some(pid) = postmaster_pid(&self.data_dir)? else {
            return Ok(());
        };
        let mut stop = self.pg_ctl("stop");
        stop.args(["-m", mode.as_arg()]);
        match run(stop) {
            Err(e) if process_state(pid) == ProcessState::Running => Err(e),
            _ => wait_for_exit(pid, EXIT_TIMEOUT),
        }
    }
}

/// Runs a command to completion; a failure carries what it printed.
pub(crate) fn run(mut command: Command) -> Result<(), LocalDbError> {
    let described = describe(&command);
    let output = command
        .output()
        .map_err(|e| LocalDbError::io(format!("running `{described}`"), e))?;
    if output.status.success() {
        return Ok(());
    }
    let printed = [output.stderr, output.stdout]
        .iter()
        .map(|bytes| String::from_utf8_lossy(bytes).trim().to_owned())
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Err(LocalDbError::Command {
        command: described,
        status: output.status,
        output: printed,
    })
}

fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program());
    let name = program.file_name().unwrap_or(program.as_os_str());
    std::iter::once(name)
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}
