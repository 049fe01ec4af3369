//! Compiled payload templates, in the two query languages.
//!
//! A [`Template`] is a JSONPath-state template (`Parameters`, `ResultSelector`, `ItemSelector`,
//! `Assign`): keys ending in `.$` hold a path or an intrinsic call, everything else is literal. A
//! [`JTemplate`] is a JSONata-state value: only strings that are exactly `{% … %}` are
//! expressions. Both are parsed once, when the definition is compiled; evaluating them belongs
//! to the interpreter (`payload` and `query::jsonata`).

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics, escape_pointer};
use crate::intrinsics::{self, Call};
use crate::jsonata::Jsonata;
use crate::jsonpath::Path;

/// A payload template (`Parameters`, `ResultSelector`, `ItemSelector`, `Assign`): keys ending in
/// `.$` are evaluated, everything else is literal.
#[derive(Clone, Debug)]
pub(crate) enum Template {
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    Path(Path),
    Call(Call),
}

/// Compiles the value of a `.$` field (a path or an intrinsic call).
pub(crate) fn compile_expression(text: &str) -> Result<Template, String> {
    if intrinsics::looks_like_call(text) {
        Call::parse(text).map(Template::Call)
    } else {
        Path::parse(text).map(Template::Path)
    }
}

/// Reports fields of the object `value` that collide once `.$` is stripped (`"id"` and `"id.$"`),
/// which ASL forbids. Only this level is checked; nested objects are checked as they are compiled.
pub(crate) fn check_renamed_keys(value: &Value, location: &str, diags: &mut Diagnostics) {
    let Value::Object(m) = value else {
        return;
    };
    for key in m.keys() {
        // `a.$.$` sets `a.$`, which nothing else can set.
        if let Some(name) = key.strip_suffix(".$")
            && !name.ends_with(".$")
            && m.contains_key(name)
        {
            diags.push(Diagnostic::new(
                "SCHEMA_VALIDATION_FAILED",
                &format!("{location}/{}", escape_pointer(key)),
                format!("The fields '{name}' and '{key}' both set '{name}'"),
            ));
        }
    }
}

fn has_dynamic_keys(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k.ends_with(".$") || has_dynamic_keys(v)),
        Value::Array(items) => items.iter().any(has_dynamic_keys),
        _ => false,
    }
}

impl Template {
    /// Compiles `value`, reporting bad `.$` fields under `location`.
    pub(crate) fn compile(value: &Value, location: &str, diags: &mut Diagnostics) -> Template {
        if !has_dynamic_keys(value) {
            return Template::Literal(value.clone());
        }
        match value {
            Value::Object(m) => Template::Object({
                check_renamed_keys(value, location, diags);

                m.iter()
                    .map(|(k, v)| {
                        let loc = format!("{location}/{}", escape_pointer(k));
                        match k.strip_suffix(".$") {
                            Some(name) => {
                                let t = match v.as_str() {
                                    Some(text) => compile_expression(text).unwrap_or_else(|e| {
                                        diags.push(Diagnostic::new("INVALID_JSON_PATH", &loc, format!("The value for the field '{k}' must be a valid JSONPath or intrinsic function: {e}")));
                                        Template::Literal(Value::Null)
                                    }),
                                    None => {
                                        diags.push(Diagnostic::new("SCHEMA_VALIDATION_FAILED", &loc, format!("The value for the field '{k}' must be a STRING that contains a JSONPath or intrinsic function")));
                                        Template::Literal(Value::Null)
                                    }
                                };
                                (name.to_owned(), t)
                            }
                            None => (k.clone(), Template::compile(v, &loc, diags)),
                        }
                    })
                    .collect()
            }),
            Value::Array(items) => Template::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Template::compile(v, &format!("{location}/{i}"), diags))
                    .collect(),
            ),
            other => Template::Literal(other.clone()),
        }
    }
}

/// A value whose `{% … %}` strings are JSONata expressions.
#[derive(Clone, Debug)]
pub(crate) enum JTemplate {
    Literal(Value),
    Expr { text: String, expr: Jsonata },
    Object(Vec<(String, JTemplate)>),
    Array(Vec<JTemplate>),
}

fn expression_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%").and_then(|r| r.strip_suffix("%}"))
}

fn has_expressions(v: &Value) -> bool {
    match v {
        Value::String(s) => expression_text(s).is_some(),
        Value::Array(items) => items.iter().any(has_expressions),
        Value::Object(m) => m.values().any(has_expressions),
        _ => false,
    }
}

impl JTemplate {
    pub(crate) fn compile(v: &Value, loc: &str, diags: &mut Diagnostics) -> JTemplate {
        if !has_expressions(v) {
            return JTemplate::Literal(v.clone());
        }
        match v {
            Value::String(s) => {
                let text = expression_text(s).unwrap_or_default().trim().to_owned();
                match Jsonata::parse(&text) {
                    Ok(expr) => JTemplate::Expr { text, expr },
                    Err(e) => {
                        diags.push(Diagnostic::new(
                            "SCHEMA_VALIDATION_FAILED",
                            loc,
                            format!("Invalid JSONata expression '{text}': {}", e.message),
                        ));
                        JTemplate::Literal(Value::Null)
                    }
                }
            }
            Value::Array(items) => JTemplate::Array(
                items.iter().enumerate().map(|(i, v)| JTemplate::compile(v, &format!("{loc}/{i}"), diags)).collect(),
            ),
            Value::Object(m) => JTemplate::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), JTemplate::compile(v, &format!("{loc}/{}", escape_pointer(k)), diags)))
                    .collect(),
            ),
            other => JTemplate::Literal(other.clone()),
        }
    }
}
