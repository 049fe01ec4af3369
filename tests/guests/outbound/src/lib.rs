//! A task function that reaches out on request: an HTTP request, or its configuration.
//!
//! The end-to-end tests invoke it to prove what the host grants and refuses, and that secrets
//! it is given never show in what the host records.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use stepwasm_guest::{Context, TaskError, config, http};

#[derive(Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
enum Mode {
    /// Sends one request and returns the response's status, content type and body text.
    Fetch {
        url: String,
        #[serde(default = "get")]
        method: String,
        #[serde(default)]
        body: Option<String>,
    },
    /// Reads settings and returns them; with `leak`, also logs and prints them, and fails with
    /// them in the cause.
    Config {
        names: Vec<String>,
        #[serde(default)]
        leak: bool,
    },
}

fn get() -> String {
    "GET".to_owned()
}

fn handle(mode: Mode, _ctx: &Context) -> Result<Value, TaskError> {
    match mode {
        Mode::Fetch { url, method, body } => {
            let mut request = http::Request::new(&method, &url);
            if let Some(body) = body {
                request = request.header("content-type", "text/plain").body(body);
            }
            let response = request.send()?;
            Ok(json!({
                "status": response.status(),
                "contentType": response.header("content-type"),
                "body": response.text(),
            }))
        }
        Mode::Config { names, leak } => {
            let values: Map<String, Value> =
                names.iter().map(|name| (name.clone(), config::get(name).map_or(Value::Null, Value::String))).collect();
            if leak {
                let shown = Value::Object(values).to_string();
                stepwasm_guest::info!("configuration: {shown}");
                println!("stdout: {shown}");
                eprintln!("stderr: {shown}");
                return Err(TaskError::new("Leaked", format!("cause: {shown}")));
            }
            Ok(Value::Object(values))
        }
    }
}

stepwasm_guest::export_task!(handle);
