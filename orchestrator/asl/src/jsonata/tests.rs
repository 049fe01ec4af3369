//! Unit tests by feature area; the broad behaviour tables are the case files in
//! `tests/jsonata/*.json` (run by `tests/all/jsonata.rs`).

use serde_json::{Map, Value, json};

use super::{EvalOptions, Jsonata, JsonataError};

fn run(expr: &str, input: &Value) -> Result<Option<Value>, JsonataError> {
    Jsonata::parse(expr)?.evaluate(Some(input), &Map::new(), &EvalOptions { now_millis: 1_000, random_seed: 1 })
}

fn ok(expr: &str, input: &Value) -> Value {
    run(expr, input).unwrap_or_else(|e| panic!("{expr}: {e}")).unwrap_or_else(|| panic!("{expr}: undefined"))
}

fn code(expr: &str) -> &'static str {
    run(expr, &json!({})).map(|v| panic!("{expr}: expected an error, got {v:?}")).unwrap_err().code
}

#[test]
fn sequences_flatten_and_unwrap_singletons() {
    let doc = json!({"a": [{"b": [1, 2]}, {"b": 3}], "one": [{"c": 1}]});
    assert_eq!(ok("a.b", &doc), json!([1, 2, 3]));
    assert_eq!(ok("one.c", &doc), json!(1));
    assert_eq!(ok("one.c[]", &doc), json!([1]));
    assert_eq!(ok("a[0].b", &doc), json!([1, 2]));
    assert_eq!(run("a.zzz", &doc).unwrap(), None);
}

#[test]
fn lambdas_closures_and_partial_application() {
    let doc = json!({});
    assert_eq!(ok("($add := function($a, $b) { $a + $b }; $inc := $add(1, ?); $inc(2))", &doc), json!(3));
    assert_eq!(ok("($c := function($n) { function() { $n } }; $c(9)())", &doc), json!(9));
    assert_eq!(ok("[1, 2, 3] ~> $map(λ($v) { $v * $v }) ~> $sum()", &doc), json!(14));
}

#[test]
fn transform_operator_copies_and_updates() {
    let doc = json!({"items": [{"id": 1, "secret": "x"}, {"id": 2, "secret": "y"}]});
    let out = ok("$ ~> |items|{'seen': true}, 'secret'|", &doc);
    assert_eq!(out, json!({"items": [{"id": 1, "seen": true}, {"id": 2, "seen": true}]}));
    assert_eq!(code("{'a': {'b': 1}} ~> |a|5|"), "T2011");
}

#[test]
fn time_and_randomness_come_from_the_options() {
    let doc = json!({});
    assert_eq!(ok("$millis()", &doc), json!(1000));
    assert_eq!(ok("$now()", &doc), json!("1970-01-01T00:00:01.000Z"));
    let expr = Jsonata::parse("[$random(), $uuid()]").unwrap();
    let opts = EvalOptions { now_millis: 0, random_seed: 42 };
    let a = expr.evaluate(None, &Map::new(), &opts).unwrap();
    assert_eq!(a, expr.evaluate(None, &Map::new(), &opts).unwrap(), "same seed, same values");
}

#[test]
fn resource_limits_end_in_errors_not_panics() {
    assert_eq!(code("($f := function($n) { $f($n + 1) }; $f(0))"), "U1001");
    assert_eq!(code("($f := function($n) { $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(60))"), "U1002");
    assert_eq!(Jsonata::parse(&"(".repeat(100_000)).unwrap_err().code, "S0208");
    assert_eq!(Jsonata::parse(&"-".repeat(100_000)).unwrap_err().code, "S0208");
    assert_eq!(code("[1..100000000]"), "D2014");
}

#[test]
fn hostile_expressions_never_panic() {
    let doc = json!({"a": [1, {"b": "x"}, null, [true]], "s": "héllo"});
    let atoms = [
        "a",
        "$",
        "$$",
        "*",
        "**",
        "a[0]",
        "a[-9]",
        "a[b]",
        "'s'",
        "1e308",
        "-0",
        "null",
        "$x",
        "$string",
        "/a+/",
        "[]",
        "{}",
        "a.b",
        "$sum(a)",
        "$keys($)",
        "$each($, $string)",
        "a^(b)",
        "a#$i",
        "a@$v",
        "s.$substring(?, 1)",
        "function($x){$x}",
    ];
    let ops = [
        " + ", " & ", " = ", " < ", " in ", " and ", " ~> ", " ? ", " ?? ", " ?: ", ".", "[", "{", "(", ", ", ":", ";",
    ];
    let mut n = 0;
    for a in atoms {
        for op in ops {
            for b in atoms {
                let expr = format!("{a}{op}{b}");
                let _ = run(&expr, &doc);
                let _ = run(&format!("({expr})"), &doc);
                let _ = run(&format!("[{expr}]"), &doc);
                n += 3;
            }
        }
    }
    for junk in
        ["", ")", "]", "}", "$(", "[1..", "{a:", "|a|", "/", "/(/", "`x", "'\\u12'", "function(", "^(a)", "@$x", "#$i"]
    {
        let _ = run(junk, &doc);
    }
    assert!(n > 10_000);
}

#[test]
fn parse_errors_carry_positions() {
    let e = Jsonata::parse("a + + ").unwrap_err();
    assert_eq!(e.code, "S0211");
    assert_eq!(e.position, Some(4));
}

/// The document the fuzz targets evaluate against (`orchestrator/asl/fuzz`).
fn fuzz_document() -> Value {
    json!({
        "order": {"id": "o-1", "total": 71.94, "items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1, "tags": ["x", "y"]}]},
        "flags": [true, false, null],
        "text": "a,b,c",
        "n": 3,
        "nested": {"deep": {"deeper": [[1, 2], [3, [4, 5]]]}},
        "empty": {}
    })
}

/// Found by the `jsonata` fuzz target: focus bindings over descendants multiply a tuple stream
/// by the document's size at every step, which took 3 GB before the stream was charged for.
#[test]
fn tuple_streams_that_multiply_run_out_of_steps_not_memory() {
    let document = fuzz_document();
    let expression = r#" * @$.**@$.*.*@$.**@$.*.** @$.**@$ @$.**@$.*.**{"":$}.$.*"#;
    let error = run(expression, &document).expect_err("the stream should run out of steps");
    assert_eq!(error.code, "U1002", "{error}");
}

/// Found by the `jsonata` fuzz target: grouping objects that concatenate the whole document
/// with itself, over descendants of descendants, built 2 GB of strings in half a minute before
/// the strings were charged for by their size and held to a length.
#[test]
fn concatenating_documents_runs_out_of_steps_not_memory() {
    let document = fuzz_document();
    let expression =
        r#"**.**.**.{"": $@$s&$@$& (f)}.**.**.**.**.{"": $@$s&$@$& (f)}.**.{"": $@$s&$@$s&  (f)}{"": $@$s&$@$s&  (f)}"#;
    let error = run(expression, &document).expect_err("the strings should run out of steps or length");
    assert!(matches!(error.code, "U1002" | "U1003"), "{error}");
    // One string past the limit is refused as it is built.
    let doubling =
        "($s := '0123456789abcdef'; $d := function($x, $n) { $n = 0 ? $x : $d($x & $x, $n - 1) }; $d($s, 30))";
    assert_eq!(run(doubling, &json!({})).expect_err("a 16 GiB string").code, "U1003");
}
