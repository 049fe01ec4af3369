//! A small HTTP/1.1 server on 127.0.0.1 for tests of outbound requests: it records every
//! request and counts connections, so a test can prove that a refused request never connected.
//!
//! Routes:
//! - `/echo…`: 200 with a JSON description of the request (method, path, headers, body);
//! - `/status/NNN`: status NNN with a small JSON body;
//! - `/slow`: answers after ten seconds;
//! - `/big`: declares and sends 20 MiB; `/big-chunked`: sends 20 MiB without declaring it;
//! - `/redirect?to=URL`: 302 to URL;
//! - `/token`: an OAuth client-credentials token endpoint (`{"access_token": "token-N", …}`);
//! - `/v1/traces`: an OTLP/HTTP collector that accepts everything;
//! - `/job`: starts a job: 202 Accepted, `Location: /job/status?polls=0`, `Retry-After: 0`;
//!   the status answers 202 twice more, then 200 with `{"state": "done", "polls": 2}`;
//! - `/fail`: 400 with a named error, `{"error": "SNS.InvalidParameterException", "cause": …}`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the stub saw of one request.
#[derive(Debug, Clone)]
pub(crate) struct SeenRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Header names in lower case.
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: String,
}

pub(crate) struct HttpStub {
    pub(crate) origin: String,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

const BIG_BYTES: usize = 20 << 20;

impl HttpStub {
    pub(crate) async fn start() -> HttpStub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding 127.0.0.1:0");
        let origin = format!("http://{}", listener.local_addr().expect("a bound address"));
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let (connections, seen) = (Arc::clone(&connections), Arc::clone(&seen));
            async move {
                let tokens = Arc::new(AtomicUsize::new(0));
                while let Ok((stream, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (seen, tokens) = (Arc::clone(&seen), Arc::clone(&tokens));
                    tokio::spawn(async move {
                        let _ = serve(stream, &seen, &tokens).await;
                    });
                }
            }
        });
        HttpStub { origin, connections, seen, task }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub(crate) fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for HttpStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, seen: &Mutex<Vec<SeenRequest>>, tokens: &AtomicUsize) -> std::io::Result<()> {
    let request = read_request(&mut stream).await?;
    seen.lock().unwrap_or_else(PoisonError::into_inner).push(request.clone());
    let path = request.path.clone();
    if path.starts_with("/echo") {
        let described = json!({
            "method": request.method, "path": request.path, "headers": request.headers, "body": request.body,
        });
        return respond(&mut stream, 200, "application/json", &described.to_string()).await;
    }
    if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap_or(500);
        return respond(
            &mut stream,
            code,
            "application/json",
            &json!({"message": format!("status {code}")}).to_string(),
        )
        .await;
    }
    if path == "/job" || path.starts_with("/job/status?polls=") {
        let polls: u32 = path.strip_prefix("/job/status?polls=").map_or(Ok(0), str::parse).unwrap_or(0);
        if path == "/job" || polls < 2 {
            let next = if path == "/job" { 0 } else { polls + 1 };
            let head = format!(
                "HTTP/1.1 202 Accepted\r\nlocation: /job/status?polls={next}\r\nretry-after: 0\r\n\
                 content-length: 0\r\nconnection: close\r\n\r\n"
            );
            return stream.write_all(head.as_bytes()).await;
        }
        return respond(&mut stream, 200, "application/json", &json!({"state": "done", "polls": polls}).to_string())
            .await;
    }
    if path == "/fail" {
        let body = json!({"error": "SNS.InvalidParameterException", "cause": "Invalid parameter: TopicArn"});
        return respond(&mut stream, 400, "application/json", &body.to_string()).await;
    }
    if path == "/v1/traces" {
        // An OTLP/HTTP collector's answer: everything accepted.
        return respond(&mut stream, 200, "application/json", "{}").await;
    }
    if path == "/token" {
        let token = format!("token-{}", tokens.fetch_add(1, Ordering::SeqCst) + 1);
        let body = json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600});
        return respond(&mut stream, 200, "application/json", &body.to_string()).await;
    }
    if let Some(target) = path.strip_prefix("/redirect?to=") {
        let head =
            format!("HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        return stream.write_all(head.as_bytes()).await;
    }
    match path.as_str() {
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            respond(&mut stream, 200, "text/plain", "finally").await
        }
        "/big" => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {BIG_BYTES}\r\nconnection: close\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            let chunk = vec![b'x'; 64 << 10];
            for _ in 0..BIG_BYTES / chunk.len() {
                stream.write_all(&chunk).await?;
            }
            Ok(())
        }
        "/big-chunked" => {
            stream.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n").await?;
            let chunk = vec![b'x'; 64 << 10];
            for _ in 0..BIG_BYTES / chunk.len() {
                stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
                stream.write_all(&chunk).await?;
                stream.write_all(b"\r\n").await?;
            }
            stream.write_all(b"0\r\n\r\n").await
        }
        _ => respond(&mut stream, 404, "text/plain", "no such route").await,
    }
}

async fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nx-stub: yes\r\nconnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<SeenRequest> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|length| length.parse().ok()).unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Ok(SeenRequest { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// The stub's `/echo` reply parsed from a task's output body.
pub(crate) fn echoed(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}
