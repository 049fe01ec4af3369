//! Access control: access keys, AWS Signature Version 4, and console sessions.
//!
//! A server configured with [`AccessKeys`] accepts a request only when it is signed with one of
//! them the way every AWS SDK, the AWS CLI and Terraform sign requests (SigV4, verified by
//! [`verify`]), or when it carries a console session made from one of them ([`Session`]). The
//! refusals are AWS's own: `UnrecognizedClientException` for an unknown key,
//! `InvalidSignatureException` for a signature that does not match or has expired, and
//! `MissingAuthenticationTokenException` for a request with neither.
//!
//! Sessions are stateless: a session names its key and its expiry and is sealed with that key's
//! secret, so every node that has the same keys accepts it, and removing a key ends its sessions.

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use stepwasm_asl::Timestamp;

type HmacSha256 = Hmac<Sha256>;

/// How far a request's `X-Amz-Date` may be from the server's clock, as on AWS.
pub const MAX_CLOCK_SKEW_MILLIS: i64 = 15 * 60 * 1000;

/// The access keys a server accepts: key id → secret. `Debug` shows the ids only.
#[derive(Clone, Default)]
pub struct AccessKeys {
    secrets: BTreeMap<String, String>,
}

impl AccessKeys {
    /// Keys from `(access key id, secret access key)` pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self { secrets: pairs.into_iter().collect() }
    }

    /// Whether any key is configured; without one, the server is open.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The secret of `access_key_id`.
    pub fn secret(&self, access_key_id: &str) -> Option<&str> {
        self.secrets.get(access_key_id).map(String::as_str)
    }

    /// The first key, for printing a command that works.
    pub fn first(&self) -> Option<(&str, &str)> {
        self.secrets.iter().next().map(|(id, secret)| (id.as_str(), secret.as_str()))
    }
}

impl fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeys").field("ids", &self.secrets.keys().collect::<Vec<_>>()).finish()
    }
}

/// Why a request is refused, in AWS's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Neither a signature nor a session.
    Missing,
    /// Signed with a key this server does not have.
    UnknownKey,
    /// The signature does not match the request.
    BadSignature,
    /// Signed too long ago (or in the future).
    Expired {
        /// The request's `X-Amz-Date`.
        signed_at: String,
        /// The server's time, in the same form.
        now: String,
    },
    /// The `Authorization` header is not a SigV4 one.
    Malformed(String),
}

impl Refusal {
    /// AWS's error name (the `__type` after `#`).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Missing => "MissingAuthenticationTokenException",
            Self::UnknownKey => "UnrecognizedClientException",
            Self::BadSignature | Self::Expired { .. } => "InvalidSignatureException",
            Self::Malformed(_) => "IncompleteSignatureException",
        }
    }

    /// AWS's message for it.
    pub fn message(&self) -> String {
        match self {
            Self::Missing => "Missing Authentication Token".to_owned(),
            Self::UnknownKey => "The security token included in the request is invalid.".to_owned(),
            Self::BadSignature => "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
                .to_owned(),
            Self::Expired { signed_at, now } => {
                format!("Signature expired: {signed_at} is now earlier than {now} (15 min. skew allowed).")
            }
            Self::Malformed(why) => why.clone(),
        }
    }
}

/// The parts of a request a signature covers.
pub struct SignedRequest<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path, as sent (percent-encoded).
    pub path: &'a str,
    /// The query string, as sent, without `?`.
    pub query: &'a str,
    /// Every header, any case.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

impl SignedRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// Checks a request's SigV4 `Authorization` against `keys`; returns the key id it was signed with.
pub fn verify(request: &SignedRequest<'_>, keys: &AccessKeys, now: Timestamp) -> Result<String, Refusal> {
    let authorization = request.header("authorization").ok_or(Refusal::Missing)?;
    let parsed = parse_authorization(authorization)?;
    let secret = keys.secret(parsed.access_key_id).ok_or(Refusal::UnknownKey)?;
    let amz_date = request.header("x-amz-date").ok_or_else(|| {
        Refusal::Malformed(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".into(),
        )
    })?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        Refusal::Malformed(format!("X-Amz-Date {amz_date:?} is not of the form YYYYMMDD'T'HHMMSS'Z'"))
    })?;
    if (now.as_millis() - signed_at.as_millis()).abs() > MAX_CLOCK_SKEW_MILLIS {
        return Err(Refusal::Expired { signed_at: amz_date.to_owned(), now: amz_date_of(now) });
    }
    let expected = signature(request, &parsed.signed_headers, amz_date, &parsed.scope, secret);
    let mut mac = HmacSha256::new_from_slice(b"constant-time comparison").map_err(|_| Refusal::BadSignature)?;
    mac.update(expected.as_bytes());
    // Comparing MACs of both sides keeps the comparison's time independent of where they differ.
    let expected_tag = mac.finalize().into_bytes();
    let mut mac = HmacSha256::new_from_slice(b"constant-time comparison").map_err(|_| Refusal::BadSignature)?;
    mac.update(parsed.signature.as_bytes());
    mac.verify_slice(&expected_tag).map_err(|_| Refusal::BadSignature)?;
    Ok(parsed.access_key_id.to_owned())
}

/// The headers that sign a request with `access_key_id`/`secret` for `service` in `region`:
/// `x-amz-date` and `authorization` (the request must also carry the `host` header it names).
pub fn sign(
    request: &SignedRequest<'_>,
    access_key_id: &str,
    secret: &str,
    region: &str,
    service: &str,
    now: Timestamp,
) -> [(String, String); 2] {
    let amz_date = amz_date_of(now);
    let scope = format!("{}/{region}/{service}/aws4_request", &amz_date[..8]);
    let mut signed_headers: Vec<String> = request
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| name != "authorization")
        .collect();
    signed_headers.push("x-amz-date".to_owned());
    signed_headers.sort();
    signed_headers.dedup();
    let mut headers = request.headers.to_vec();
    headers.push(("x-amz-date".to_owned(), amz_date.clone()));
    let with_date = SignedRequest { headers: &headers, ..*request };
    let signature = signature(&with_date, &signed_headers.join(";"), &amz_date, &scope, secret);
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={signature}",
        signed_headers.join(";")
    );
    [("x-amz-date".to_owned(), amz_date), ("authorization".to_owned(), authorization)]
}

struct Authorization<'a> {
    access_key_id: &'a str,
    scope: String,
    signed_headers: String,
    signature: &'a str,
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, Refusal> {
    let malformed = |why: &str| Refusal::Malformed(format!("{why} in the Authorization header"));
    let rest = header.strip_prefix("AWS4-HMAC-SHA256").ok_or_else(|| malformed("AWS4-HMAC-SHA256 is missing"))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", value)) => credential = Some(value),
            Some(("SignedHeaders", value)) => signed_headers = Some(value),
            Some(("Signature", value)) => signature = Some(value),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(|| malformed("Credential is missing"))?;
    let (access_key_id, scope) = credential.split_once('/').ok_or_else(|| malformed("the Credential has no scope"))?;
    Ok(Authorization {
        access_key_id,
        scope: scope.to_owned(),
        signed_headers: signed_headers.ok_or_else(|| malformed("SignedHeaders is missing"))?.to_ascii_lowercase(),
        signature: signature.ok_or_else(|| malformed("Signature is missing"))?,
    })
}

fn signature(request: &SignedRequest<'_>, signed_headers: &str, amz_date: &str, scope: &str, secret: &str) -> String {
    let canonical = canonical_request(request, signed_headers);
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in scope.split('/') {
        key = hmac(&key, part.as_bytes());
    }
    hex(&hmac(&key, string_to_sign.as_bytes()))
}

fn canonical_request(request: &SignedRequest<'_>, signed_headers: &str) -> String {
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload =
        request.header("x-amz-content-sha256").map_or_else(|| hex(&Sha256::digest(request.body)), str::to_owned);
    let path = if request.path.is_empty() { "/" } else { request.path };
    format!("{}\n{path}\n{}\n{headers}\n{signed_headers}\n{payload}", request.method, canonical_query(request.query))
}

/// The query's pairs sorted by name then value, each encoded as SigV4 requires.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (uri_encode(&key), uri_encode(&value)))
        .collect();
    pairs.sort();
    pairs.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("&")
}

/// `text` with everything but RFC 3986's unreserved characters percent-encoded, as SigV4
/// encodes query strings (and as a URL path segment or fragment may carry anything).
pub fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // Any key length is valid for HMAC.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `YYYYMMDDTHHMMSSZ`.
pub fn amz_date_of(now: Timestamp) -> String {
    let text = Timestamp::from_millis(now.as_millis().div_euclid(1000) * 1000).to_rfc3339();
    text.replace(".000", "").replace(['-', ':'], "")
}

fn parse_amz_date(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        text.get(0..4)?,
        text.get(4..6)?,
        text.get(6..8)?,
        text.get(9..11)?,
        text.get(11..13)?,
        text.get(13..15)?
    );
    Timestamp::parse_rfc3339(&rfc3339)
}

/// A console session: made from an access key, valid until it expires or the key goes.
pub struct Session;

impl Session {
    /// How long a session lasts.
    pub const LIFETIME_MILLIS: i64 = 12 * 3600 * 1000;

    /// A session token for `access_key_id`, valid until `expires`.
    pub fn issue(keys: &AccessKeys, access_key_id: &str, expires: Timestamp) -> Option<String> {
        let secret = keys.secret(access_key_id)?;
        let body = format!("v1.{access_key_id}.{}", expires.as_millis());
        Some(format!("{body}.{}", hex(&hmac(secret.as_bytes(), format!("stepwasm console session {body}").as_bytes()))))
    }

    /// The key id a token was made from, if it is genuine and not expired.
    pub fn verify(keys: &AccessKeys, token: &str, now: Timestamp) -> Option<String> {
        let (body, seal) = token.rsplit_once('.')?;
        let mut parts = body.splitn(3, '.');
        let (version, access_key_id, expires) = (parts.next()?, parts.next()?, parts.next()?);
        if version != "v1" || expires.parse::<i64>().ok()? < now.as_millis() {
            return None;
        }
        let secret = keys.secret(access_key_id)?;
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
        mac.update(format!("stepwasm console session {body}").as_bytes());
        let seal = (0..seal.len())
            .step_by(2)
            .map(|at| seal.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect::<Option<Vec<u8>>>()?;
        mac.verify_slice(&seal).ok()?;
        Some(access_key_id.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> AccessKeys {
        AccessKeys::new([("AKIDEXAMPLE".to_owned(), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned())])
    }

    /// AWS's published example (the SigV4 test suite's `get-vanilla-query-order-key-case`),
    /// checked by signing it and comparing with AWS's signature.
    #[test]
    fn signs_as_aws_does() {
        let headers = vec![("Host".to_owned(), "example.amazonaws.com".to_owned())];
        let request = SignedRequest {
            method: "GET",
            path: "/",
            query: "Param2=value2&Param1=value1",
            headers: &headers,
            body: b"",
        };
        let now = parse_amz_date("20150830T123600Z").unwrap();
        let [_, (_, authorization)] =
            sign(&request, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service", now);
        assert_eq!(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn verifies_what_it_signs_and_refuses_the_rest() {
        let now = parse_amz_date("20261207T060000Z").unwrap();
        let mut headers = vec![
            ("Host".to_owned(), "127.0.0.1:8083".to_owned()),
            ("X-Amz-Target".to_owned(), "AWSStepFunctions.ListStateMachines".to_owned()),
        ];
        let body = b"{}";
        let request = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body };
        let signed =
            sign(&request, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "states", now);
        headers.extend(signed);
        let request = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body };
        assert_eq!(verify(&request, &keys(), now).as_deref(), Ok("AKIDEXAMPLE"));

        let tampered = SignedRequest { body: b"{\"maxResults\": 1}", ..request };
        assert_eq!(verify(&tampered, &keys(), now), Err(Refusal::BadSignature));
        let other_secret = AccessKeys::new([("AKIDEXAMPLE".to_owned(), "another".to_owned())]);
        assert_eq!(verify(&request, &other_secret, now), Err(Refusal::BadSignature));
        assert_eq!(
            verify(&request, &AccessKeys::new([("OTHER".to_owned(), "x".to_owned())]), now),
            Err(Refusal::UnknownKey)
        );
        let later = now.add_millis(MAX_CLOCK_SKEW_MILLIS + 1000);
        assert!(matches!(verify(&request, &keys(), later), Err(Refusal::Expired { .. })));
        let unsigned = SignedRequest { headers: &[], ..request };
        assert_eq!(verify(&unsigned, &keys(), now), Err(Refusal::Missing));
    }

    #[test]
    fn sessions_are_sealed_with_their_key() {
        let now = Timestamp::from_millis(1_800_000_000_000);
        let token = Session::issue(&keys(), "AKIDEXAMPLE", now.add_millis(1000)).unwrap();
        assert_eq!(Session::verify(&keys(), &token, now).as_deref(), Some("AKIDEXAMPLE"));
        assert_eq!(Session::verify(&keys(), &token, now.add_millis(2000)), None, "expired");
        let forged = token.replace("v1.AKIDEXAMPLE.", "v1.AKIDEXAMPLE.9");
        assert_eq!(Session::verify(&keys(), &forged, now), None);
        assert_eq!(Session::verify(&AccessKeys::default(), &token, now), None, "the key is gone");
    }
}
