//! The part of Go's text/template that ghz call data uses, so that the same configuration file
//! renders the same requests here as under ghz: `{{.Field}}` over the call's data and the
//! functions `newUUID`, `randomString n` and `randomInt min max`.

use std::fmt::Write as _;

use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use rand::distr::{Alphanumeric, SampleString};
use uuid::Uuid;

/// The names of the called method, as ghz exposes them to templates.
#[derive(Clone, Debug)]
pub struct MethodNames {
    /// `runview.v1.ReadService.GetRun`
    pub fully_qualified: String,
    /// `GetRun`
    pub method: String,
    /// `ReadService`
    pub service: String,
    /// `GetRunRequest`
    pub input: String,
    /// `Run`
    pub output: String,
}

/// What one call's templates may refer to.
pub struct CallData<'a> {
    pub names: &'a MethodNames,
    pub worker_id: &'a str,
    pub request_number: u64,
    pub timestamp: DateTime<Utc>,
    /// One per call: every `{{.UUID}}` of a call renders the same value, unlike `newUUID`.
    pub uuid: Uuid,
}

impl<'a> CallData<'a> {
    pub fn now(names: &'a MethodNames, worker_id: &'a str, request_number: u64) -> Self {
        Self {
            names,
            worker_id,
            request_number,
            timestamp: Utc::now(),
            uuid: Uuid::new_v4(),
        }
    }
}

/// A string split into literal text and actions, parsed once and rendered per call.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Text(String),
    Field(Field),
    NewUuid,
    RandomString(i64),
    RandomInt(i64, i64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Field {
    WorkerId,
    RequestNumber,
    FullyQualifiedName,
    MethodName,
    ServiceName,
    InputName,
    OutputName,
    IsClientStreaming,
    IsServerStreaming,
    Timestamp,
    TimestampUnix,
    TimestampUnixMilli,
    TimestampUnixNano,
    Uuid,
}

const FIELDS: &[(&str, Field)] = &[
    ("WorkerID", Field::WorkerId),
    ("RequestNumber", Field::RequestNumber),
    ("FullyQualifiedName", Field::FullyQualifiedName),
    ("MethodName", Field::MethodName),
    ("ServiceName", Field::ServiceName),
    ("InputName", Field::InputName),
    ("OutputName", Field::OutputName),
    ("IsClientStreaming", Field::IsClientStreaming),
    ("IsServerStreaming", Field::IsServerStreaming),
    ("Timestamp", Field::Timestamp),
    ("TimestampUnix", Field::TimestampUnix),
    ("TimestampUnixMilli", Field::TimestampUnixMilli),
    ("TimestampUnixNano", Field::TimestampUnixNano),
    ("UUID", Field::Uuid),
];

impl Template {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut segments = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                segments.push(Segment::Text(rest[..start].to_owned()));
            }
            let after_open = &rest[start + 2..];
            let end = after_open
                .find("}}")
                .with_context(|| format!("unclosed {{{{ in template {text:?}"))?;
            segments.push(
                parse_action(&after_open[..end])
                    .with_context(|| format!("in template {text:?}"))?,
            );
            rest = &after_open[end + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.to_owned()));
        }
        Ok(Self { segments })
    }

    /// Whether rendering can give anything but the text itself.
    pub fn has_actions(&self) -> bool {
        self.segments.iter().any(|s| !matches!(s, Segment::Text(_)))
    }

    pub fn render(&self, data: &CallData<'_>) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            // Writing to a String cannot fail.
            let _ = match segment {
                Segment::Text(text) => write!(out, "{text}"),
                Segment::Field(field) => write_field(&mut out, *field, data),
                Segment::NewUuid => write!(out, "{}", Uuid::new_v4()),
                Segment::RandomString(length) => write!(out, "{}", random_string(*length)),
                Segment::RandomInt(min, max) => write!(out, "{}", random_int(*min, *max)),
            };
        }
        out
    }
}

fn parse_action(action: &str) -> anyhow::Result<Segment> {
    let action = action.trim();
    if let Some(name) = action.strip_prefix('.') {
        return FIELDS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, field)| Segment::Field(*field))
            .with_context(|| {
                let known: Vec<_> = FIELDS.iter().map(|(n, _)| format!(".{n}")).collect();
                format!("unknown field .{name}; known: {}", known.join(", "))
            });
    }
    let mut words = action.split_whitespace();
    let function = words.next().unwrap_or_default();
    let args = words
        .map(|w| {
            w.parse::<i64>()
                .with_context(|| format!("{function}: {w:?} is not an integer"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    match (function, args.as_slice()) {
        ("newUUID", []) => Ok(Segment::NewUuid),
        ("randomString", [length]) => Ok(Segment::RandomString(*length)),
        ("randomInt", [min, max]) => Ok(Segment::RandomInt(*min, *max)),
        ("newUUID" | "randomString" | "randomInt", _) => {
            bail!("wrong arguments in {{{{{action}}}}}: newUUID, randomString n, randomInt min max")
        }
        _ => bail!(
            "unsupported action {{{{{action}}}}}: use .Field, newUUID, randomString n or randomInt min max"
        ),
    }
}

fn write_field(out: &mut String, field: Field, data: &CallData<'_>) -> std::fmt::Result {
    let names = data.names;
    match field {
        Field::WorkerId => write!(out, "{}", data.worker_id),
        Field::RequestNumber => write!(out, "{}", data.request_number),
        Field::FullyQualifiedName => write!(out, "{}", names.fully_qualified),
        Field::MethodName => write!(out, "{}", names.method),
        Field::ServiceName => write!(out, "{}", names.service),
        Field::InputName => write!(out, "{}", names.input),
        Field::OutputName => write!(out, "{}", names.output),
        // Only unary methods are run.
        Field::IsClientStreaming | Field::IsServerStreaming => write!(out, "false"),
        Field::Timestamp => write!(
            out,
            "{}",
            data.timestamp.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
        Field::TimestampUnix => write!(out, "{}", data.timestamp.timestamp()),
        Field::TimestampUnixMilli => write!(out, "{}", data.timestamp.timestamp_millis()),
        Field::TimestampUnixNano => write!(
            out,
            "{}",
            data.timestamp.timestamp_nanos_opt().unwrap_or_default()
        ),
        Field::Uuid => write!(out, "{}", data.uuid),
    }
}

/// ghz: a length of zero or less means a random length from 2 to 16.
fn random_string(length: i64) -> String {
    let mut rng = rand::rng();
    let length = match usize::try_from(length) {
        Ok(n) if n > 0 => n,
        _ => rng.random_range(2..=16),
    };
    Alphanumeric.sample_string(&mut rng, length)
}

/// ghz: a non-negative number in `[min, max)`.
fn random_int(min: i64, max: i64) -> i64 {
    let min = min.max(0);
    if max <= min {
        return min;
    }
    rand::rng().random_range(min..max)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn names() -> MethodNames {
        MethodNames {
            fully_qualified: "runview.v1.ReadService.GetRun".into(),
            method: "GetRun".into(),
            service: "ReadService".into(),
            input: "GetRunRequest".into(),
            output: "Run".into(),
        }
    }

    fn render(text: &str, request_number: u64) -> String {
        let names = names();
        let data = CallData {
            names: &names,
            worker_id: "g3c1",
            request_number,
            timestamp: Utc
                .timestamp_opt(1_700_000_000, 123_000_000)
                .single()
                .expect("a valid time"),
            uuid: Uuid::from_u128(0x1234),
        };
        Template::parse(text)
            .expect("a valid template")
            .render(&data)
    }

    #[test]
    fn renders_call_data_fields() {
        assert_eq!(render("req-{{.RequestNumber}}", 41), "req-41");
        assert_eq!(render("{{ .WorkerID }}/{{.RequestNumber}}", 7), "g3c1/7");
        assert_eq!(render("{{.TimestampUnix}}", 0), "1700000000");
        assert_eq!(render("{{.TimestampUnixMilli}}", 0), "1700000000123");
        assert_eq!(render("{{.Timestamp}}", 0), "2023-11-14T22:13:20Z");
        assert_eq!(
            render("{{.UUID}}={{.UUID}}", 0),
            format!("{0}={0}", Uuid::from_u128(0x1234))
        );
        assert_eq!(
            render(
                "{{.ServiceName}}.{{.MethodName}}({{.InputName}}) {{.FullyQualifiedName}}",
                0
            ),
            "ReadService.GetRun(GetRunRequest) runview.v1.ReadService.GetRun"
        );
    }

    #[test]
    fn renders_functions_within_their_documented_ranges() {
        assert_eq!(render("{{randomString 8}}", 0).len(), 8);
        let free = render("{{randomString 0}}", 0).len();
        assert!((2..=16).contains(&free));
        for _ in 0..100 {
            let n: i64 = render("{{randomInt 5 10}}", 0).parse().expect("an integer");
            assert!((5..10).contains(&n));
        }
        assert_ne!(render("{{newUUID}}", 0), render("{{newUUID}}", 0));
    }

    #[test]
    fn text_without_actions_is_left_as_is() {
        let template = Template::parse("run_abc { not an action }").expect("plain text parses");
        assert!(!template.has_actions());
        assert_eq!(
            render("run_abc { not an action }", 0),
            "run_abc { not an action }"
        );
    }

    #[test]
    fn unknown_actions_are_refused_when_parsed() {
        for bad in [
            "{{.Nope}}",
            "{{sprigThing 1}}",
            "{{randomInt 1}}",
            "{{.RequestNumber",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
