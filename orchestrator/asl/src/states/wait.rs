//! Wait: delays its frame for `Seconds` / `SecondsPath` or until `Timestamp` / `TimestampPath`.

use std::sync::Arc;

use serde_json::Value;

use super::{Flow, assign, effective_input, runtime};
use crate::execution::{Active, Cx, Failure, Wait};
use crate::ir::{NumSource, State, StrSource, WaitSpec};
use crate::payload;
use crate::timestamp::Timestamp;

/// AWS rejects waits longer than a signed 32-bit number of seconds.
const MAX_DELAY_MS: i64 = i32::MAX as i64 * 1000;

fn target(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    spec: &WaitSpec,
    effective: &Value,
) -> Result<Timestamp, Failure> {
    let now = cx.now;
    match spec {
        WaitSpec::Seconds(NumSource::Fixed(v)) => {
            let secs = v.as_i64().unwrap_or(0).max(0);
            Ok(now.add_millis(secs.saturating_mul(1000)))
        }
        WaitSpec::Seconds(NumSource::Path(p)) => {
            let v = cx.eval(fid, active, effective, None, |env, _| p.eval(env)).map_err(|d| runtime(st, active, &d))?;
            match v.as_i64() {
                Some(secs) if secs >= 0 => Ok(now.add_millis(secs.saturating_mul(1000))),
                Some(_) => Err(runtime(
                    st,
                    active,
                    &format!("The SecondsPath parameter references a negative value: {p} == {v}"),
                )),
                None => Err(runtime(
                    st,
                    active,
                    &format!("The SecondsPath parameter cannot be parsed as a long value: {p} == {v}"),
                )),
            }
        }
        WaitSpec::Timestamp(StrSource::Literal(s)) => Timestamp::parse_rfc3339(s)
            .ok_or_else(|| runtime(st, active, &format!("The Timestamp '{s}' is not a valid RFC 3339 timestamp"))),
        WaitSpec::Timestamp(StrSource::Path(p)) => {
            let v = cx.eval(fid, active, effective, None, |env, _| p.eval(env)).map_err(|d| runtime(st, active, &d))?;
            v.as_str().and_then(Timestamp::parse_rfc3339).ok_or_else(|| {
                runtime(
                    st,
                    active,
                    &format!("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {v}"),
                )
            })
        }
        WaitSpec::Seconds(NumSource::Jsonata(_)) | WaitSpec::Timestamp(StrSource::Jsonata(_) | StrSource::Call(_)) => {
            Err(runtime(st, active, "This Wait field cannot be evaluated in a JSONPath state"))
        }
    }
}

pub(crate) fn run(cx: &mut Cx<'_>, fid: usize, mut active: Active, st: &State, spec: &WaitSpec) -> Flow {
    let effective = match effective_input(cx, fid, &active, st) {
        Ok(v) => v,
        Err(failure) => return Flow::Fail { active, failure },
    };
    let until = match target(cx, fid, &active, st, spec, &effective) {
        Ok(t) => t,
        Err(failure) => return Flow::Fail { active, failure },
    };
    let delay = until.as_millis().saturating_sub(cx.now.as_millis());
    if delay > MAX_DELAY_MS {
        return Flow::Fail { failure: runtime(st, &active, "Wait state delay is too long."), active };
    }
    active.effective = Arc::unwrap_or_clone(effective);
    if delay <= 0 {
        return on_timer(cx, fid, active);
    }
    active.wait = Wait::Timer(cx.state_timer(fid, until));
    Flow::Block(active)
}

/// The wait is over.
pub(crate) fn on_timer(cx: &mut Cx<'_>, fid: usize, active: Active) -> Flow {
    let machine = cx.machine();
    let Some(st) = machine.state(active.state) else {
        return Flow::Block(active);
    };
    if st.jsonata.is_some() {
        let effective = active.effective.clone();
        return crate::jsonata_states::exit_with(cx, fid, active, st, &effective, &effective);
    }
    let assigned = match assign(cx, fid, &active, st, st.assign.as_ref(), &active.effective) {
        Ok(a) => a,
        Err(failure) => return Flow::Fail { active, failure },
    };
    match cx.eval(fid, &active, &active.effective, None, |env, _| payload::select(&st.output_path, env)) {
        Ok(output) => Flow::Exit { active, output, next: st.next, assigned },
        Err(d) => Flow::Fail { failure: runtime(st, &active, &d), active },
    }
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
