//! Golden-file tests for parsing and validation. Adding a case needs no Rust: drop a definition in
//! `tests/ui/` and bless it.
//!
//! - `tests/ui/valid/NAME.asl.json` must validate cleanly; `NAME.ir.json` beside it holds
//!   [`StateMachine::describe`] of the compiled machine (compared as JSON values, so formatting
//!   and key order do not matter).
//! - `tests/ui/invalid/NAME.asl.json` must be rejected; `NAME.err` beside it holds every
//!   diagnostic, one a line, in the order [`validate`] reports them:
//!   `<location>: <CODE>: <message>`, where the location is a JSON pointer (`/` for the whole
//!   document), e.g. `/States/Charge/Next: MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope`.
//!
//! `BLESS=1 cargo test -p stepwasm-asl --test all ui` writes the snapshots from what the crate
//! produces now; review the diff before committing it. Without `BLESS`, every mismatch, missing
//! snapshot, stray snapshot and panic is reported at once, each with its file.

use std::fmt::Write as _;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use serde_json::Value;
use stepwasm_asl::{Diagnostic, StateMachine, validate};

use crate::golden::{check_snapshot, shown};

const DEFINITION: &str = ".asl.json";

fn ui_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui").join(kind)
}

/// The definitions in `dir`, sorted; and the files there that are neither a definition nor the
/// snapshot of one (a renamed or deleted case leaves those behind).
fn discover(dir: &Path, snapshot_ext: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut definitions = Vec::new();
    let mut others = Vec::new();
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if name.ends_with(DEFINITION) {
            definitions.push(path);
        } else {
            others.push((path, name));
        }
    }
    definitions.sort();
    let stray = others
        .into_iter()
        .filter(|(_, name)| match name.strip_suffix(snapshot_ext) {
            Some(stem) => !dir.join(format!("{stem}{DEFINITION}")).exists(),
            None => true,
        })
        .map(|(path, _)| path)
        .collect();
    (definitions, stray)
}

fn snapshot_path(definition: &Path, ext: &str) -> PathBuf {
    let name = definition.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    definition.with_file_name(format!("{}{ext}", name.strip_suffix(DEFINITION).unwrap_or(name)))
}

/// One line per diagnostic. Line breaks inside a message are escaped so that the line count is the
/// diagnostic count.
fn render(diags: &[Diagnostic]) -> String {
    diags.iter().fold(String::new(), |mut out, d| {
        let location = if d.location.is_empty() { "/" } else { &d.location };
        let message = d.message.replace('\n', "\\n");
        let _ = writeln!(out, "{location}: {}: {message}", d.code);
        out
    })
}

/// Keys in the order a reader wants them; others follow alphabetically.
const KEY_ORDER: &[&str] = &[
    "startAt",
    "id",
    "type",
    "queryLanguage",
    "timeoutSeconds",
    "states",
    "errorEquals",
    "resource",
    "next",
    "end",
    "choices",
    "default",
    "branches",
    "processor",
    "mode",
    "intervalSeconds",
    "maxAttempts",
    "backoffRate",
    "maxDelaySeconds",
    "jitterStrategy",
    "resultPath",
    "retry",
    "catch",
];

const WIDTH: usize = 120;

fn ordered(m: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let rank = |k: &str| KEY_ORDER.iter().position(|o| *o == k).unwrap_or(KEY_ORDER.len());
    let mut fields: Vec<_> = m.iter().collect();
    fields.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    fields
}

/// One-line JSON with `KEY_ORDER`.
fn compact(v: &Value) -> String {
    match v {
        Value::Array(items) => format!("[{}]", items.iter().map(compact).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => {
            let fields: Vec<String> =
                ordered(m).into_iter().map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), compact(v))).collect();
            format!("{{{}}}", fields.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

/// Pretty JSON that keeps a value on one line when it fits in `WIDTH`, so that each state of an IR
/// snapshot reads as one line where it can. `states` is always one entry a line.
fn pretty(v: &Value, indent: usize, out: &mut String) {
    pretty_inner(v, indent, false, out);
}

fn pretty_inner(v: &Value, indent: usize, expand: bool, out: &mut String) {
    let one_line = compact(v);
    if !matches!(v, Value::Array(_) | Value::Object(_)) || (!expand && indent + one_line.len() <= WIDTH) {
        out.push_str(&one_line);
        return;
    }
    let pad = " ".repeat(indent + 2);
    let (open, close, entries): (char, char, Vec<(Option<&String>, &Value)>) = match v {
        Value::Array(items) => ('[', ']', items.iter().map(|v| (None, v)).collect()),
        Value::Object(m) => ('{', '}', ordered(m).into_iter().map(|(k, v)| (Some(k), v)).collect()),
        _ => unreachable!("scalars are printed on one line"),
    };
    out.push(open);
    for (i, (key, value)) in entries.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&pad);
        if let Some(key) = key {
            let _ = write!(out, "{}: ", Value::from(key.as_str()));
        }
        pretty_inner(value, indent + 2, key.is_some_and(|k| k == "states"), out);
    }
    let _ = write!(out, "\n{}{close}", " ".repeat(indent));
}

/// Runs `check` on every definition of `kind`, catching panics, and fails listing every problem.
fn run(kind: &str, snapshot_ext: &str, check: impl Fn(&str, &Path) -> Result<(), String>) {
    let dir = ui_dir(kind);
    let (definitions, stray) = discover(&dir, snapshot_ext);
    assert!(!definitions.is_empty(), "no *{DEFINITION} cases in {}", dir.display());
    let mut failures: Vec<String> = stray
        .iter()
        .map(|p| format!("{}: stray file: not a definition nor the {snapshot_ext} of one", shown(p)))
        .collect();
    for definition in &definitions {
        let result = match fs::read_to_string(definition) {
            Ok(text) => catch_unwind(AssertUnwindSafe(|| check(&text, definition)))
                .unwrap_or_else(|_| Err("panicked (see the output above)".into())),
            Err(e) => Err(format!("cannot read: {e}")),
        };
        if let Err(problem) = result {
            failures.push(format!("{}: {problem}", shown(definition)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {kind} cases failed (BLESS=1 rewrites the snapshots):\n\n{}",
        failures.len(),
        definitions.len(),
        failures.join("\n\n")
    );
}

#[test]
fn valid_definitions_compile_to_their_ir() {
    run("valid", ".ir.json", |text, definition| {
        let diags = validate(text);
        if !diags.is_empty() {
            return Err(format!("rejected:\n{}", render(&diags)));
        }
        let machine =
            StateMachine::from_json(text).map_err(|e| format!("validate accepted it but from_json did not: {e}"))?;
        let ir = machine.describe();
        let mut actual = String::new();
        pretty(&ir, 0, &mut actual);
        actual.push('\n');
        check_snapshot(&snapshot_path(definition, ".ir.json"), &actual, |expected| {
            serde_json::from_str::<Value>(expected).is_ok_and(|v| v == ir)
        })
    });
}

#[test]
fn invalid_definitions_report_their_errors() {
    run("invalid", ".err", |text, definition| {
        let diags = validate(text);
        if diags.is_empty() {
            return Err("accepted, but it should be rejected".into());
        }
        if StateMachine::from_json(text).is_ok() {
            return Err("validate rejected it but from_json compiled it".into());
        }
        let actual = render(&diags);
        check_snapshot(&snapshot_path(definition, ".err"), &actual, |expected| {
            expected.replace("\r\n", "\n").trim_end() == actual.trim_end()
        })
    });
}
