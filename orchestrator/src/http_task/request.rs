//! An HTTP Task's arguments, the request they make, and the result AWS shapes from its answer.

use bytes::Bytes;
use serde_json::{Value, json};

use super::Connection;
use super::connections::Authorization;

/// How arrays are written in a URL-encoded body (`RequestEncodingOptions.ArrayFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayFormat {
    /// `a[0]=x&a[1]=y`, AWS's default.
    Indices,
    /// `a=x&a=y`.
    Repeat,
    /// `a=x,y`.
    Commas,
    /// `a[]=x&a[]=y`.
    Brackets,
}

/// The arguments of one HTTP Task, checked.
#[derive(Debug)]
pub(super) struct HttpInvocation {
    endpoint: String,
    method: String,
    pub(super) connection_arn: String,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Value>,
    url_encoded: Option<ArrayFormat>,
}

/// Headers the request's own framing decides; a definition's values for them are dropped.
const FRAMING_HEADERS: &[&str] = &["host", "content-length", "transfer-encoding", "connection"];

impl HttpInvocation {
    pub(super) fn parse(arguments: &Value) -> Result<Self, String> {
        let text = |field: &str| -> Result<String, String> {
            match arguments.get(field) {
                Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
                Some(other) => Err(format!("The HTTP Task's {field} must be a non-empty string, got {other}")),
                None => Err(format!("The HTTP Task needs {field}")),
            }
        };
        let endpoint = text("ApiEndpoint")?;
        let method = text("Method")?.to_ascii_uppercase();
        if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "HEAD") {
            return Err(format!(
                "The HTTP Task's Method must be GET, POST, PUT, DELETE, PATCH, OPTIONS or HEAD, got {method:?}"
            ));
        }
        let connection_arn = arguments
            .pointer("/Authentication/ConnectionArn")
            .and_then(Value::as_str)
            .filter(|arn| !arn.is_empty())
            .ok_or("The HTTP Task needs Authentication.ConnectionArn")?
            .to_owned();
        let headers = string_pairs(arguments.get("Headers"), "Headers")?
            .into_iter()
            .filter(|(name, _)| !FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
            .collect();
        let query = string_pairs(arguments.get("QueryParameters"), "QueryParameters")?;
        let url_encoded = match arguments.pointer("/Transform/RequestBodyEncoding").and_then(Value::as_str) {
            None | Some("NONE") => None,
            Some("URL_ENCODED") => {
                Some(array_format(arguments.pointer("/Transform/RequestEncodingOptions/ArrayFormat"))?)
            }
            Some(other) => {
                return Err(format!("Transform.RequestBodyEncoding must be NONE or URL_ENCODED, got {other:?}"));
            }
        };
        let body = arguments.get("RequestBody").cloned();
        if url_encoded.is_some() && !matches!(body, None | Some(Value::Object(_))) {
            return Err("A URL_ENCODED RequestBody must be a JSON object".to_owned());
        }
        Ok(Self { endpoint, method, connection_arn, headers, query, body, url_encoded })
    }

    /// The request, with the connection's parameters and `authorization` (an `Authorization`
    /// header value) added.
    pub(super) fn build(
        &self,
        connection: &Connection,
        authorization: Option<&str>,
    ) -> Result<http::Request<Bytes>, String> {
        let mut url = url::Url::parse(&self.endpoint)
            .map_err(|error| format!("ApiEndpoint {:?} is not a URL: {error}", self.endpoint))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("ApiEndpoint {:?} must be an https URL", self.endpoint));
        }
        if !self.query.is_empty() || !connection.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in connection.query.iter().chain(&self.query) {
                pairs.append_pair(key, value);
            }
        }
        let mut builder = http::Request::builder().method(self.method.as_str()).uri(url.as_str());
        let mut content_type = None;
        let body = match &self.body {
            None if connection.body.is_empty() || matches!(self.method.as_str(), "GET" | "HEAD" | "DELETE") => {
                Bytes::new()
            }
            None => self.encode(&Value::Object(connection.body.clone()), &mut content_type),
            Some(Value::Object(fields)) if !connection.body.is_empty() => {
                let mut merged = connection.body.clone();
                merged.extend(fields.clone());
                self.encode(&Value::Object(merged), &mut content_type)
            }
            Some(body) => self.encode(body, &mut content_type),
        };
        let mut names_set = Vec::new();
        for (name, value) in connection.headers.iter().filter(|(name, _)| !self.has_header(name)).chain(&self.headers) {
            builder = builder.header(name.as_str(), value.as_str());
            names_set.push(name.to_ascii_lowercase());
        }
        if let Some(content_type) = content_type.filter(|_| !names_set.iter().any(|name| name == "content-type")) {
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
        }
        match (&connection.authorization, authorization) {
            (Authorization::ApiKey { name, value }, _) => builder = builder.header(name.as_str(), value.as_str()),
            (_, Some(authorization)) => builder = builder.header(http::header::AUTHORIZATION, authorization),
            (_, None) => {}
        }
        builder =
            builder.header(http::header::USER_AGENT, concat!("stepwasm/", env!("CARGO_PKG_VERSION"), " HttpInvoke"));
        builder.body(body).map_err(|error| format!("The HTTP Task's request cannot be sent: {error}"))
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(own, _)| own.eq_ignore_ascii_case(name))
    }

    fn encode(&self, body: &Value, content_type: &mut Option<&'static str>) -> Bytes {
        match (self.url_encoded, body) {
            (Some(format), Value::Object(fields)) => {
                *content_type = Some("application/x-www-form-urlencoded");
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (key, value) in fields {
                    append_form(&mut form, key, value, format);
                }
                Bytes::from(form.finish())
            }
            (_, Value::String(text)) if self.has_header("content-type") => Bytes::from(text.clone()),
            (_, body) => {
                *content_type = Some("application/json");
                Bytes::from(body.to_string())
            }
        }
    }
}

fn array_format(format: Option<&Value>) -> Result<ArrayFormat, String> {
    match format.and_then(Value::as_str) {
        None | Some("INDICES") => Ok(ArrayFormat::Indices),
        Some("REPEAT") => Ok(ArrayFormat::Repeat),
        Some("COMMAS") => Ok(ArrayFormat::Commas),
        Some("BRACKETS") => Ok(ArrayFormat::Brackets),
        Some(other) => Err(format!(
            "RequestEncodingOptions.ArrayFormat must be INDICES, REPEAT, COMMAS or BRACKETS, got {other:?}"
        )),
    }
}

fn append_form(form: &mut url::form_urlencoded::Serializer<'_, String>, key: &str, value: &Value, format: ArrayFormat) {
    match value {
        Value::Array(items) => match format {
            ArrayFormat::Commas => {
                let joined: Vec<String> = items.iter().map(scalar).collect();
                form.append_pair(key, &joined.join(","));
            }
            ArrayFormat::Repeat => items.iter().for_each(|item| append_form(form, key, item, format)),
            ArrayFormat::Brackets => items.iter().for_each(|item| append_form(form, &format!("{key}[]"), item, format)),
            ArrayFormat::Indices => {
                for (index, item) in items.iter().enumerate() {
                    append_form(form, &format!("{key}[{index}]"), item, format);
                }
            }
        },
        Value::Object(fields) => {
            for (field, item) in fields {
                append_form(form, &format!("{key}[{field}]"), item, format);
            }
        }
        scalar_value => {
            form.append_pair(key, &scalar(scalar_value));
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `Headers` or `QueryParameters`: an object whose values are strings (numbers and booleans are
/// written as text; an array repeats the name).
fn string_pairs(value: Option<&Value>, field: &str) -> Result<Vec<(String, String)>, String> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let Value::Object(fields) = value else {
        return Err(format!("The HTTP Task's {field} must be a JSON object, got {value}"));
    };
    let mut pairs = Vec::new();
    for (name, value) in fields {
        match value {
            Value::Array(items) => pairs.extend(items.iter().map(|item| (name.clone(), scalar(item)))),
            Value::Object(_) => return Err(format!("{field}.{name} must be a string, got an object")),
            other => pairs.push((name.clone(), scalar(other))),
        }
    }
    Ok(pairs)
}

/// The request and response as TestState shows them at `TRACE`: every field a string.
pub(super) fn exchange_of(
    request: &http::Request<Bytes>,
    response: &http::Response<Bytes>,
    masker: &stepwasm_runtime::Masker,
) -> Value {
    let protocol = request.uri().scheme_str().unwrap_or("https").to_owned();
    let headers = |map: &http::HeaderMap| {
        let lines: Vec<String> =
            map.iter().map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes()))).collect();
        masker.mask(&format!("[{}]", lines.join(", ")))
    };
    json!({
        "request": {
            "protocol": protocol,
            "method": request.method().as_str(),
            "url": request.uri().to_string(),
            "headers": headers(request.headers()),
            "body": masker.mask(&String::from_utf8_lossy(request.body())),
        },
        "response": {
            "protocol": protocol,
            "statusCode": response.status().as_u16().to_string(),
            "statusMessage": response.status().canonical_reason().unwrap_or(""),
            "headers": headers(response.headers()),
            "body": masker.mask(&String::from_utf8_lossy(response.body())),
        },
    })
}

/// The task's result, in AWS's shape.
pub(super) fn result_of(response: &http::Response<bytes::Bytes>) -> Value {
    let text = String::from_utf8_lossy(response.body());
    let body = serde_json::from_str::<Value>(&text).unwrap_or_else(|_| Value::String(text.into_owned()));
    let status = response.status();
    json!({
        "Headers": super::headers_of(response),
        "ResponseBody": body,
        "StatusCode": status.as_u16(),
        "StatusText": status.canonical_reason().unwrap_or(""),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        let mut connection =
            Connection::new("api", Authorization::ApiKey { name: "x-api-key".into(), value: "k".into() });
        connection.query.push(("tenant".into(), "t1".into()));
        connection
    }

    #[test]
    fn arguments_build_the_request() {
        let invocation = HttpInvocation::parse(&json!({
            "ApiEndpoint": "https://api.example.com/v1/customers",
            "Method": "post",
            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/api/x"},
            "Headers": {"X-Trace": "t-1", "Host": "evil.example.com"},
            "QueryParameters": {"limit": 10, "tag": ["a", "b"]},
            "RequestBody": {"name": "Ada"}
        }))
        .unwrap();
        let request = invocation.build(&connection(), None).unwrap();
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri(), "https://api.example.com/v1/customers?tenant=t1&limit=10&tag=a&tag=b");
        assert_eq!(request.headers()["x-trace"], "t-1");
        assert_eq!(request.headers()["x-api-key"], "k");
        assert!(request.headers().get("host").is_none(), "framing headers come from the request itself");
        assert_eq!(request.headers()["content-type"], "application/json");
        assert_eq!(request.body().as_ref(), br#"{"name":"Ada"}"#);
    }

    #[test]
    fn url_encoded_bodies_follow_the_array_format() {
        let encode = |format: &str| {
            let invocation = HttpInvocation::parse(&json!({
                "ApiEndpoint": "https://api.example.com", "Method": "POST",
                "Authentication": {"ConnectionArn": "api"},
                "RequestBody": {"items": ["x", "y"], "n": 1},
                "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": format}}
            }))
            .unwrap();
            let request = invocation.build(&connection(), None).unwrap();
            assert_eq!(request.headers()["content-type"], "application/x-www-form-urlencoded");
            String::from_utf8(request.body().to_vec()).unwrap()
        };
        assert_eq!(encode("INDICES"), "items%5B0%5D=x&items%5B1%5D=y&n=1");
        assert_eq!(encode("REPEAT"), "items=x&items=y&n=1");
        assert_eq!(encode("COMMAS"), "items=x%2Cy&n=1");
        assert_eq!(encode("BRACKETS"), "items%5B%5D=x&items%5B%5D=y&n=1");
    }

    #[test]
    fn bad_arguments_are_named() {
        let base =
            json!({"ApiEndpoint": "https://a.example", "Method": "GET", "Authentication": {"ConnectionArn": "c"}});
        let with = |key: &str, value: Value| {
            let mut arguments = base.clone();
            arguments[key] = value;
            HttpInvocation::parse(&arguments).unwrap_err()
        };
        assert!(with("Method", json!("FETCH")).contains("Method"));
        assert!(with("ApiEndpoint", json!(7)).contains("ApiEndpoint"));
        assert!(with("Headers", json!(["x"])).contains("Headers"));
        assert!(with("Transform", json!({"RequestBodyEncoding": "XML"})).contains("RequestBodyEncoding"));
        assert!(
            HttpInvocation::parse(&json!({"ApiEndpoint": "https://a", "Method": "GET"}))
                .unwrap_err()
                .contains("ConnectionArn")
        );
    }
}
