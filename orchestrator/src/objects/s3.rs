//! Buckets on an S3-compatible endpoint, through presigned requests.

use std::time::Duration;

use rusty_s3::actions::{GetObject, ListObjectsV2, PutObject};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use url::Url;

use super::{Listing, ObjectError, ObjectInfo};

/// How long a signed request stays valid: long enough for a slow start, short enough that a
/// logged URL is soon worthless.
const SIGNED_FOR: Duration = Duration::from_secs(300);
/// The longest one request may take, body included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// An S3-compatible endpoint and the identity to sign requests with.
#[derive(Clone)]
pub struct S3Config {
    /// `http(s)://host[:port]`: `https://s3.us-east-1.amazonaws.com`, a MinIO or moto server.
    pub endpoint: String,
    /// The region requests are signed for. Default `us-east-1`.
    pub region: String,
    /// Access key, secret key and session token; `None` sends unsigned requests.
    pub credentials: Option<(String, String, Option<String>)>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("signed", &self.credentials.is_some())
            .finish()
    }
}

impl S3Config {
    /// `endpoint`, with the region and credentials from the environment variables AWS's SDKs
    /// read (`AWS_REGION` or `AWS_DEFAULT_REGION`; `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`).
    pub fn from_env(endpoint: String) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1".to_owned());
        let credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(key), Some(secret)) => Some((key, secret, var("AWS_SESSION_TOKEN"))),
            _ => None,
        };
        S3Config { endpoint, region, credentials }
    }
}

pub(super) struct S3 {
    endpoint: Url,
    region: String,
    credentials: Option<Credentials>,
    /// AWS's own endpoints want the bucket in the host name; other servers mostly in the path.
    style: UrlStyle,
    agent: ureq::Agent,
}

impl std::fmt::Debug for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3").field("endpoint", &self.endpoint.as_str()).field("region", &self.region).finish()
    }
}

impl S3 {
    pub(super) fn new(config: &S3Config) -> Result<Self, ObjectError> {
        let endpoint: Url = config.endpoint.parse().map_err(|error| {
            ObjectError::InvalidName(format!("The S3 endpoint '{}' is not a URL: {error}", config.endpoint))
        })?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host_str().is_none() {
            return Err(ObjectError::InvalidName(format!(
                "The S3 endpoint '{}' must be an http:// or https:// URL with a host",
                config.endpoint
            )));
        }
        let style = match endpoint.host_str() {
            Some(host) if host.ends_with(".amazonaws.com") => UrlStyle::VirtualHost,
            _ => UrlStyle::Path,
        };
        let credentials = config.credentials.as_ref().map(|(key, secret, token)| match token {
            Some(token) => Credentials::new_with_token(key, secret, token),
            None => Credentials::new(key, secret),
        });
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build()
            .new_agent();
        Ok(S3 { endpoint, region: config.region.clone(), credentials, style, agent })
    }

    fn bucket(&self, name: &str) -> Result<Bucket, ObjectError> {
        Bucket::new(self.endpoint.clone(), self.style, name.to_owned(), self.region.clone())
            .map_err(|error| ObjectError::InvalidName(format!("The bucket '{name}' cannot be addressed: {error}")))
    }

    pub(super) fn get(&self, bucket_name: &str, key: &str, limit: u64) -> Result<Vec<u8>, ObjectError> {
        let bucket = self.bucket(bucket_name)?;
        let url = GetObject::new(&bucket, self.credentials.as_ref(), key).sign(SIGNED_FOR);
        let mut response = self.agent.get(url.as_str()).call().map_err(transport)?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.body_mut().with_config().limit(64 * 1024).read_to_string().unwrap_or_default();
            return Err(refused(status, &body, bucket_name, Some(key)));
        }
        match response.body_mut().with_config().limit(limit).read_to_vec() {
            Ok(bytes) => Ok(bytes),
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                Err(ObjectError::TooLarge { bucket: bucket_name.to_owned(), key: key.to_owned(), limit })
            }
            Err(error) => Err(transport(error)),
        }
    }

    pub(super) fn put(&self, bucket_name: &str, key: &str, bytes: &[u8]) -> Result<(), ObjectError> {
        let bucket = self.bucket(bucket_name)?;
        let url = PutObject::new(&bucket, self.credentials.as_ref(), key).sign(SIGNED_FOR);
        let mut response = self.agent.put(url.as_str()).send(bytes).map_err(transport)?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.body_mut().with_config().limit(64 * 1024).read_to_string().unwrap_or_default();
            return Err(refused(status, &body, bucket_name, Some(key)));
        }
        Ok(())
    }

    pub(super) fn list(
        &self,
        bucket_name: &str,
        prefix: &str,
        continuation: Option<&str>,
    ) -> Result<Listing, ObjectError> {
        let bucket = self.bucket(bucket_name)?;
        let mut action = ListObjectsV2::new(&bucket, self.credentials.as_ref());
        if !prefix.is_empty() {
            action.with_prefix(prefix);
        }
        if let Some(token) = continuation {
            action.with_continuation_token(token);
        }
        let url = action.sign(SIGNED_FOR);
        let mut response = self.agent.get(url.as_str()).call().map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(16 * 1024 * 1024).read_to_string().map_err(transport)?;
        if status != 200 {
            return Err(refused(status, &body, bucket_name, None));
        }
        let page = ListObjectsV2::parse_response(&body).map_err(|error| {
            ObjectError::Transport(format!("the listing of {bucket_name} could not be read: {error}"))
        })?;
        let objects = page
            .contents
            .into_iter()
            .map(|object| ObjectInfo {
                last_modified: object.last_modified.as_deref().and_then(epoch_seconds).unwrap_or(0),
                etag: object.etag.unwrap_or_default(),
                size: object.size.unwrap_or(0),
                storage_class: object.storage_class.unwrap_or_else(|| "STANDARD".to_owned()),
                key: object.key,
            })
            .collect();
        Ok(Listing { objects, next: page.next_continuation_token })
    }
}

#[allow(clippy::needless_pass_by_value)] // Called as `map_err(transport)`.
fn transport(error: ureq::Error) -> ObjectError {
    ObjectError::Transport(error.to_string())
}

/// S3's XML error (`<Error><Code>NoSuchKey</Code><Message>…</Message></Error>`) as an error.
fn refused(status: u16, body: &str, bucket: &str, key: Option<&str>) -> ObjectError {
    let code = element(body, "Code").unwrap_or_else(|| format!("HTTP{status}"));
    match (code.as_str(), key) {
        ("NoSuchBucket", _) => ObjectError::NoSuchBucket { bucket: bucket.to_owned(), hint: String::new() },
        ("NoSuchKey", Some(key)) => ObjectError::NoSuchKey { bucket: bucket.to_owned(), key: key.to_owned() },
        _ => {
            let message = element(body, "Message").unwrap_or_else(|| format!("S3 answered HTTP {status}"));
            ObjectError::Service { status, code, message }
        }
    }
}

fn element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..end].replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&"))
}

/// `2024-05-01T12:00:00.000Z` in seconds since the epoch.
fn epoch_seconds(text: &str) -> Option<i64> {
    stepwasm_asl::Timestamp::parse_rfc3339(text).map(|t| t.as_millis().div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_errors_name_their_code() {
        let body =
            "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access &amp; more</Message></Error>";
        assert_eq!(
            refused(403, body, "b", Some("k")).to_string(),
            "Access & more (Service: S3, Status Code: 403, Error Code: AccessDenied)"
        );
        assert!(matches!(
            refused(404, "<Error><Code>NoSuchKey</Code></Error>", "b", Some("k")),
            ObjectError::NoSuchKey { .. }
        ));
        assert_eq!(epoch_seconds("1970-01-02T00:00:00.000Z"), Some(86_400));
    }
}
