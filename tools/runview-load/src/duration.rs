//! Durations in Go's `time.ParseDuration` syntax (`10s`, `1m30s`, `500ms`, `1.5h`), because that
//! is what ghz configuration files and flags use.

use std::time::Duration;

use anyhow::{Context, bail};

/// Parses a Go duration: a sequence of decimal numbers, each with an optional fraction and a
/// unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`); `0` alone needs no unit. Negative durations mean
/// nothing for a load test and are refused.
pub fn parse_go_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.starts_with('-') {
        bail!("invalid duration {text:?}: negative durations are not allowed");
    }
    if rest.is_empty() {
        bail!("invalid duration {text:?}: expected a number and a unit such as 10s");
    }
    let mut nanos: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after_number) = rest.split_at(number_len);
        let unit_len = after_number
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after_number.len());
        let (unit, after_unit) = after_number.split_at(unit_len);
        nanos +=
            component_nanos(number, unit).with_context(|| format!("invalid duration {text:?}"))?;
        rest = after_unit;
    }
    let nanos = u64::try_from(nanos).with_context(|| format!("duration {text:?} is too long"))?;
    Ok(Duration::from_nanos(nanos))
}

fn component_nanos(number: &str, unit: &str) -> anyhow::Result<u128> {
    let unit_nanos: u128 = match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "" => bail!("missing unit after {number:?} (ns, us, ms, s, m, h)"),
        other => bail!("unknown unit {other:?} (ns, us, ms, s, m, h)"),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        bail!("expected a number before {unit:?}");
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().context("bad number")?
    };
    // Digits past nanosecond precision of an hour cannot change the result.
    let fraction = &fraction[..fraction.len().min(18)];
    let fraction_nanos = if fraction.is_empty() {
        0
    } else {
        let digits: u128 = fraction.parse().context("bad fraction")?;
        digits * unit_nanos / 10u128.pow(fraction.len() as u32)
    };
    whole
        .checked_mul(unit_nanos)
        .and_then(|n| n.checked_add(fraction_nanos))
        .context("number too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_ghz_configurations_use() {
        let cases = [
            ("10s", Duration::from_secs(10)),
            ("1m30s", Duration::from_secs(90)),
            ("500ms", Duration::from_millis(500)),
            ("1.5h", Duration::from_secs(5400)),
            ("250us", Duration::from_micros(250)),
            ("3µs", Duration::from_micros(3)),
            ("7ns", Duration::from_nanos(7)),
            ("1h2m3.5s", Duration::from_millis(3_723_500)),
            ("0", Duration::ZERO),
            (".5s", Duration::from_millis(500)),
        ];
        for (text, expected) in cases {
            let parsed = parse_go_duration(text).unwrap_or_else(|e| panic!("{text}: {e:#}"));
            assert_eq!(parsed, expected, "{text}");
        }
    }

    #[test]
    fn refuses_durations_go_would_refuse_or_that_make_no_sense_here() {
        for bad in ["", "10", "s", "10x", "-1s", "1.2.3s", "ms10"] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
