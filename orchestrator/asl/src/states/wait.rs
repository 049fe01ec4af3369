//! Wait: delays its frame for `Seconds` / `SecondsPath` or until `Timestamp` / `TimestampPath`.

use std::sync::Arc;

use serde_json::Value;

use crate::compile::{Fields, Site};
use crate::execution::{Failure, Flow, StateCx, Wait};
use crate::ir::{NumSource, StrSource};
use crate::machine::{Builder, State};
use crate::model::WaitState;
use crate::states::Kind;
use crate::timestamp::Timestamp;

/// AWS rejects waits longer than a signed 32-bit number of seconds.
const MAX_DELAY_MS: i64 = i32::MAX as i64 * 1000;

/// How long a Wait state waits.
#[derive(Clone, Debug)]
pub(crate) enum Spec {
    /// `Seconds` / `SecondsPath`.
    Seconds(NumSource),
    /// `Timestamp` / `TimestampPath`.
    Timestamp(StrSource),
}

pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, w: &WaitState) -> State {
    let loc = site.loc;
    let own = w.query_language;
    let set = [w.seconds.is_some(), w.seconds_path.is_some(), w.timestamp.is_some(), w.timestamp_path.is_some()];
    if set.iter().filter(|b| **b).count() != 1 {
        b.diag(
            "SCHEMA_VALIDATION_FAILED",
            loc,
            "A Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
        );
    }
    let spec = if w.seconds.is_some() || w.seconds_path.is_some() {
        b.num_source(site, own, w.seconds.as_ref(), w.seconds_path.as_ref(), "Seconds").map(Spec::Seconds)
    } else {
        let literal = match &w.timestamp {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                b.diag("SCHEMA_VALIDATION_FAILED", &site.at("Timestamp"), "Timestamp must be a string");
                None
            }
            None => None,
        };
        let source = b.str_source(site, own, literal.as_ref(), w.timestamp_path.as_ref(), "Timestamp");
        if let Some(StrSource::Literal(s)) = &source
            && Timestamp::parse_rfc3339(s).is_none()
        {
            b.diag("SCHEMA_VALIDATION_FAILED", &site.at("Timestamp"), format!("'{s}' is not an RFC 3339 timestamp"));
        }
        source.map(Spec::Timestamp)
    };
    let fields = Fields {
        input_path: w.input_path.as_ref(),
        output_path: w.output_path.as_ref(),
        assign: w.assign.as_ref(),
        output: w.output.as_ref(),
        next: w.next.as_deref(),
        end: w.end,
        query_language: w.query_language,
        ..Fields::default()
    };
    let spec = spec.unwrap_or(Spec::Seconds(NumSource::Fixed(Value::from(0))));
    State { common: b.common(site, &fields), kind: Kind::Wait(spec) }
}

/// When the wait ends. AWS words a bad value by the field that gave it.
fn until(sc: &mut StateCx<'_, '_>, spec: &Spec, input: &Value) -> Result<Timestamp, Failure> {
    let now = sc.cx.now;
    match spec {
        Spec::Seconds(source) => {
            let v = sc.number(source, "Seconds", input)?;
            match (v.as_i64(), source) {
                (Some(secs), NumSource::Fixed(_)) => Ok(now.add_millis(secs.max(0).saturating_mul(1000))),
                (Some(secs), _) if secs >= 0 => Ok(now.add_millis(secs.saturating_mul(1000))),
                (Some(_), NumSource::Path(p)) => {
                    Err(sc.invalid(&format!("The SecondsPath parameter references a negative value: {p} == {v}")))
                }
                (None, NumSource::Path(p)) => {
                    Err(sc.invalid(&format!("The SecondsPath parameter cannot be parsed as a long value: {p} == {v}")))
                }
                _ => Err(sc.invalid(&format!("The Seconds value {v} is not a non-negative integer"))),
            }
        }
        Spec::Timestamp(source) => {
            let v = sc.string(source, "Timestamp", input)?;
            match (v.as_str().and_then(Timestamp::parse_rfc3339), source) {
                (Some(t), _) => Ok(t),
                (None, StrSource::Literal(s)) => {
                    Err(sc.invalid(&format!("The Timestamp '{s}' is not a valid RFC 3339 timestamp")))
                }
                (None, StrSource::Path(p)) => Err(sc.invalid(&format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {v}"
                ))),
                (None, _) => Err(sc.invalid(&format!("The Timestamp value {v} is not a valid timestamp"))),
            }
        }
    }
}

pub(crate) fn run(mut sc: StateCx<'_, '_>, spec: &Spec) -> Flow {
    let input = match sc.input() {
        Ok(v) => v,
        Err(failure) => return sc.fail(failure),
    };
    let until = match until(&mut sc, spec, &input) {
        Ok(t) => t,
        Err(failure) => return sc.fail(failure),
    };
    let delay = until.as_millis().saturating_sub(sc.cx.now.as_millis());
    if delay > MAX_DELAY_MS {
        let failure = sc.runtime("Wait state delay is too long.");
        return sc.fail(failure);
    }
    sc.active.effective = Arc::unwrap_or_clone(input);
    if delay <= 0 {
        return on_timer(sc);
    }
    sc.active.wait = Wait::Timer(sc.cx.state_timer(sc.fid, until));
    sc.block()
}

/// The wait is over.
pub(crate) fn on_timer(mut sc: StateCx<'_, '_>) -> Flow {
    let input = Arc::new(std::mem::take(&mut sc.active.effective));
    let next = sc.st.next;
    sc.pass_on(input, None, next)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::run_json;

    #[test]
    fn waits_on_the_virtual_clock() {
        let out =
            run_json(r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}"#, json!({"a": 1}));
        assert_eq!(out.output(), Some(json!({"a": 1})));
        assert_eq!(out.history.last().unwrap().timestamp.as_millis() - out.history[0].timestamp.as_millis(), 60_000);
        let out = run_json(
            r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#,
            json!({"s": 0}),
        );
        assert_eq!(
            out.event_types(),
            ["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"]
        );
    }

    #[test]
    fn bad_values_are_runtime_errors() {
        let def = r#"{"StartAt":"WaitState","States":{"WaitState":{"Type":"Wait","SecondsPath":"$.input.waitSeconds","End":true}}}"#;
        let out = run_json(def, json!({"input": {"waitSeconds": 1.5}}));
        assert_eq!(
            out.failure().unwrap().1.unwrap(),
            "An error occurred while executing the state 'WaitState' (entered at the event id #2). The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 1.5"
        );
        let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}}"#;
        for bad in ["2016-12-05 21:29:29Z", "2026-11-24T23:22:43.000000", "2016-13-05T21:29:29Z"] {
            assert_eq!(
                run_json(def, json!({"t": bad})).failure().unwrap().0.as_deref(),
                Some("States.Runtime"),
                "{bad}"
            );
        }
        let out = run_json(def, json!({"t": "2094-12-13T23:22:43.000Z"}));
        assert!(out.failure().unwrap().1.unwrap().ends_with("Wait state delay is too long."));
    }
}
