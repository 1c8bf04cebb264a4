//! The error a run shows, as the upstream's retrieve API shows it: the stored JSON is read as one
//! of the four kinds of task-run error (anything else shows no error at all), process exits and
//! out-of-memory kills are recognised as internal errors, and an internal error shows only its
//! code.

use serde_json::Value;

/// The error a failed run shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunError {
    pub name: Option<String>,
    pub message: String,
    pub stack_trace: Option<String>,
}

/// The codes an internal error may carry; a stored code outside this list does not parse.
const INTERNAL_ERROR_CODES: &[&str] = &[
    "COULD_NOT_FIND_EXECUTOR",
    "COULD_NOT_FIND_TASK",
    "COULD_NOT_IMPORT_TASK",
    "CONFIGURED_INCORRECTLY",
    "TASK_ALREADY_RUNNING",
    "TASK_EXECUTION_FAILED",
    "TASK_EXECUTION_ABORTED",
    "TASK_PROCESS_EXITED_WITH_NON_ZERO_CODE",
    "TASK_PROCESS_SIGKILL_TIMEOUT",
    "TASK_PROCESS_SIGSEGV",
    "TASK_PROCESS_SIGTERM",
    "TASK_PROCESS_OOM_KILLED",
    "TASK_PROCESS_MAYBE_OOM_KILLED",
    "TASK_RUN_CANCELLED",
    "TASK_INPUT_ERROR",
    "TASK_OUTPUT_ERROR",
    "TASK_MIDDLEWARE_ERROR",
    "HANDLE_ERROR_ERROR",
    "GRACEFUL_EXIT_TIMEOUT",
    "TASK_RUN_HEARTBEAT_TIMEOUT",
    "TASK_RUN_CRASHED",
    "TASK_RUN_UNCAUGHT_EXCEPTION",
    "MAX_DURATION_EXCEEDED",
    "DISK_SPACE_EXCEEDED",
    "POD_EVICTED",
    "POD_UNKNOWN_ERROR",
    "TASK_HAS_N0_EXECUTION_SNAPSHOT",
    "TASK_DEQUEUED_INVALID_STATE",
    "TASK_DEQUEUED_QUEUE_NOT_FOUND",
    "TASK_RUN_DEQUEUED_MAX_RETRIES",
    "TASK_RUN_STALLED_EXECUTING",
    "TASK_RUN_STALLED_EXECUTING_WITH_WAITPOINTS",
    "OUTDATED_SDK_VERSION",
    "TASK_DID_CONCURRENT_WAIT",
    "RECURSIVE_WAIT_DEADLOCK",
    "BATCH_ITEM_COULD_NOT_TRIGGER",
    "PAYLOAD_TOO_LARGE",
    "UNSPECIFIED_ERROR",
];

const EXITED_WITH_NON_ZERO_CODE: &str = "TASK_PROCESS_EXITED_WITH_NON_ZERO_CODE";
const OOM_KILLED: &str = "TASK_PROCESS_OOM_KILLED";

/// A stored error that parsed as one of the four kinds.
#[derive(Debug, PartialEq)]
enum TaskRunError<'a> {
    BuiltIn {
        name: &'a str,
        message: &'a str,
        stack_trace: &'a str,
    },
    /// A string or custom error: only its raw text is kept.
    Raw(&'a str),
    Internal {
        code: &'a str,
        message: Option<&'a str>,
    },
}

/// The error the retrieve API shows for a run's stored `error` JSON, or `None` when it does not
/// parse as a task-run error (the upstream then shows none either).
pub fn api_error(stored: &Value) -> Option<RunError> {
    let error = parse(stored)?;
    Some(match enhance(error) {
        TaskRunError::BuiltIn {
            name,
            message,
            stack_trace,
        } => RunError {
            name: Some(name.to_owned()),
            message: message.to_owned(),
            stack_trace: Some(stack_trace.to_owned()),
        },
        TaskRunError::Raw(raw) => RunError {
            message: raw.to_owned(),
            ..RunError::default()
        },
        // The friendly texts of internal errors never reach the API: only the code does.
        TaskRunError::Internal { code, .. } => RunError {
            message: format!("trigger.dev internal error ({code})"),
            ..RunError::default()
        },
    })
}

/// The schema is lenient about extra fields and strict about the ones it names: a required
/// string must be a string, and an optional one may be absent but not null.
fn parse(stored: &Value) -> Option<TaskRunError<'_>> {
    let object = stored.as_object()?;
    let required = |field: &str| object.get(field)?.as_str();
    let optional = |field: &str| match object.get(field) {
        None => Some(None),
        Some(value) => value.as_str().map(Some),
    };
    match required("type")? {
        "BUILT_IN_ERROR" => Some(TaskRunError::BuiltIn {
            name: required("name")?,
            message: required("message")?,
            stack_trace: required("stackTrace")?,
        }),
        "STRING_ERROR" | "CUSTOM_ERROR" => Some(TaskRunError::Raw(required("raw")?)),
        "INTERNAL_ERROR" => {
            let code = required("code")?;
            INTERNAL_ERROR_CODES.contains(&code).then_some(())?;
            optional("stackTrace")?;
            Some(TaskRunError::Internal {
                code,
                message: optional("message")?,
            })
        }
        _ => None,
    }
}

/// Recognises what the raw error hides: a process killed by a signal, an out-of-memory kill, a
/// concurrency deadlock.
fn enhance(error: TaskRunError<'_>) -> TaskRunError<'_> {
    match error {
        TaskRunError::BuiltIn {
            name: "UnexpectedExitError",
            message,
            stack_trace,
        } if message.starts_with("Unexpected exit with code -1") => TaskRunError::Internal {
            code: exit_code(Some(stack_trace)),
            message: Some(message),
        },
        TaskRunError::BuiltIn {
            name: "Error",
            message: "ffmpeg was killed with signal SIGKILL",
            ..
        }
        | TaskRunError::BuiltIn {
            message: "MANUAL_OOM_KILL_ERROR",
            ..
        } => TaskRunError::Internal {
            code: OOM_KILLED,
            message: None,
        },
        TaskRunError::BuiltIn {
            name: "TriggerApiError",
            message,
            ..
        } if message.starts_with("Deadlock detected:") => TaskRunError::BuiltIn {
            name: "Concurrency Deadlock Error",
            message,
            stack_trace: "",
        },
        TaskRunError::Internal {
            code: EXITED_WITH_NON_ZERO_CODE,
            message,
        } => TaskRunError::Internal {
            code: exit_code(message),
            message,
        },
        other => other,
    }
}

/// The code of a process exit, from the signal named near the start of `text`.
fn exit_code(text: Option<&str>) -> &'static str {
    // The upstream looks at the first 100 UTF-16 code units only.
    let mut units = 0;
    let head: String = text
        .unwrap_or_default()
        .chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= 100
        })
        .collect();
    let signals = [
        ("SIGTERM", "TASK_PROCESS_SIGTERM"),
        ("SIGSEGV", "TASK_PROCESS_SIGSEGV"),
        ("SIGKILL", "TASK_PROCESS_MAYBE_OOM_KILLED"),
        ("SIGABRT", "TASK_PROCESS_MAYBE_OOM_KILLED"),
    ];
    signals
        .into_iter()
        .find(|(signal, _)| head.contains(signal))
        .map_or(EXITED_WITH_NON_ZERO_CODE, |(_, code)| code)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shown(stored: Value) -> Option<(Option<String>, String, Option<String>)> {
        api_error(&stored).map(|error| (error.name, error.message, error.stack_trace))
    }

    fn message_only(message: &str) -> Option<(Option<String>, String, Option<String>)> {
        Some((None, message.to_owned(), None))
    }

    #[test]
    fn a_built_in_error_shows_its_name_message_and_stack() {
        let stored = json!({"type": "BUILT_IN_ERROR", "name": "TypeError",
            "message": "x is undefined", "stackTrace": "TypeError: x is undefined\n  at run"});
        assert_eq!(
            shown(stored),
            Some((
                Some("TypeError".to_owned()),
                "x is undefined".to_owned(),
                Some("TypeError: x is undefined\n  at run".to_owned())
            ))
        );
    }

    #[test]
    fn string_and_custom_errors_show_their_raw_text_as_the_message() {
        let string = json!({"type": "STRING_ERROR", "raw": "boom"});
        assert_eq!(shown(string), message_only("boom"));
        let custom = json!({"type": "CUSTOM_ERROR", "raw": "{\"reason\":1}", "extra": true});
        assert_eq!(shown(custom), message_only("{\"reason\":1}"));
    }

    #[test]
    fn an_internal_error_shows_only_its_code() {
        let stored = json!({"type": "INTERNAL_ERROR", "code": "MAX_DURATION_EXCEEDED",
            "message": "Run exceeded maximum compute time", "stackTrace": "at worker"});
        assert_eq!(
            shown(stored),
            message_only("trigger.dev internal error (MAX_DURATION_EXCEEDED)")
        );
    }

    #[test]
    fn unexpected_exits_are_named_by_the_signal_in_the_stack() {
        let exit = |stack: &str| {
            json!({"type": "BUILT_IN_ERROR", "name": "UnexpectedExitError",
                "message": "Unexpected exit with code -1", "stackTrace": stack})
        };
        let cases = [
            ("killed by SIGTERM", "TASK_PROCESS_SIGTERM"),
            ("SIGSEGV in native code", "TASK_PROCESS_SIGSEGV"),
            ("signal SIGKILL", "TASK_PROCESS_MAYBE_OOM_KILLED"),
            ("SIGABRT", "TASK_PROCESS_MAYBE_OOM_KILLED"),
            // SIGTERM wins over a signal named earlier in the text.
            ("SIGKILL then SIGTERM", "TASK_PROCESS_SIGTERM"),
            ("no signal at all", "TASK_PROCESS_EXITED_WITH_NON_ZERO_CODE"),
        ];
        for (stack, code) in cases {
            assert_eq!(
                shown(exit(stack)),
                message_only(&format!("trigger.dev internal error ({code})")),
                "{stack}"
            );
        }
        let late_signal = format!("{}SIGTERM", "x".repeat(100));
        assert_eq!(
            shown(exit(&late_signal)),
            message_only("trigger.dev internal error (TASK_PROCESS_EXITED_WITH_NON_ZERO_CODE)")
        );
    }

    #[test]
    fn an_internal_non_zero_exit_is_named_by_the_signal_in_its_message() {
        let stored = json!({"type": "INTERNAL_ERROR",
            "code": "TASK_PROCESS_EXITED_WITH_NON_ZERO_CODE", "message": "exited after SIGTERM"});
        assert_eq!(
            shown(stored),
            message_only("trigger.dev internal error (TASK_PROCESS_SIGTERM)")
        );
    }

    #[test]
    fn out_of_memory_kills_become_internal_errors() {
        let ffmpeg = json!({"type": "BUILT_IN_ERROR", "name": "Error",
            "message": "ffmpeg was killed with signal SIGKILL", "stackTrace": ""});
        let manual = json!({"type": "BUILT_IN_ERROR", "name": "OutOfMemoryError",
            "message": "MANUAL_OOM_KILL_ERROR", "stackTrace": "at task"});
        for stored in [ffmpeg, manual] {
            assert_eq!(
                shown(stored),
                message_only("trigger.dev internal error (TASK_PROCESS_OOM_KILLED)")
            );
        }
    }

    #[test]
    fn a_deadlock_is_named_and_loses_its_stack() {
        let stored = json!({"type": "BUILT_IN_ERROR", "name": "TriggerApiError",
            "message": "Deadlock detected: run_a waits for run_b", "stackTrace": "at wait"});
        assert_eq!(
            shown(stored),
            Some((
                Some("Concurrency Deadlock Error".to_owned()),
                "Deadlock detected: run_a waits for run_b".to_owned(),
                Some(String::new())
            ))
        );
    }

    #[test]
    fn an_error_that_does_not_parse_shows_nothing() {
        let unparsable = [
            json!("oops"),
            json!(42),
            json!(["BUILT_IN_ERROR"]),
            json!({"message": "no type"}),
            json!({"type": "WEIRD_ERROR", "raw": "x"}),
            json!({"type": "BUILT_IN_ERROR", "name": "E", "message": "m"}),
            json!({"type": "BUILT_IN_ERROR", "name": "E", "message": "m", "stackTrace": null}),
            json!({"type": "STRING_ERROR"}),
            json!({"type": "CUSTOM_ERROR", "raw": {"a": 1}}),
            json!({"type": "INTERNAL_ERROR", "code": "NOT_A_CODE"}),
            json!({"type": "INTERNAL_ERROR", "code": "TASK_RUN_CRASHED", "message": null}),
        ];
        for stored in unparsable {
            assert_eq!(shown(stored.clone()), None, "{stored}");
        }
    }
}
