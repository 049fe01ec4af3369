//! Delivery to an SMTP relay: the message as RFC 5322 text, sent with plain SMTP (RFC 5321).
//!
//! The function is deployed with `SMTP_SERVER=host:port` and that endpoint granted
//! (`--allow-tcp host:port`); it then hands each email to the relay, which delivers it. The
//! connection is not encrypted and does not authenticate, which is how a relay on the same host
//! or private network (Postfix, a mail sidecar, Mailpit) takes mail; reaching a provider over
//! the internet goes through such a relay.
//!
//! A retried step sends the email again with the same `Message-ID`, so mail clients show it
//! once; SES gives the same at-least-once promise.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

use stepwasm_guest::TaskError;

use crate::Email;

/// The relay could not be reached, or it answered 4xx: trying again later may work.
pub const UNAVAILABLE: &str = "Stepwasm.SmtpUnavailable";

/// Why a conversation with the relay failed.
#[derive(Debug)]
pub enum SmtpError {
    /// Connecting or talking failed, or the relay answered 4xx.
    Unavailable(String),
    /// The relay refused with a 5xx reply: sending the same email again will not help.
    Rejected(String),
}

impl SmtpError {
    /// The task error, named after SES's own errors where SES has one.
    pub fn into_task_error(self, rejected_error: &str) -> TaskError {
        match self {
            Self::Unavailable(cause) => TaskError::new(UNAVAILABLE, cause),
            Self::Rejected(cause) => TaskError::new(rejected_error, cause),
        }
    }
}

/// Hands `email` to the relay at `server` (`host:port`), introducing this side as `helo_name`.
pub fn send(server: &str, helo_name: &str, email: &Email) -> Result<(), SmtpError> {
    let stream = TcpStream::connect(server).map_err(|error| {
        let hint = if error.kind() == io::ErrorKind::PermissionDenied {
            format!("; deploy the function with --allow-tcp {server}")
        } else {
            String::new()
        };
        SmtpError::Unavailable(format!("connecting to the SMTP server {server}: {error}{hint}"))
    })?;
    let mut session = Session { connection: BufReader::new(stream) };
    session.expect(None, 220)?;
    if session.expect(Some(&format!("EHLO {helo_name}")), 250).is_err() {
        session.expect(Some(&format!("HELO {helo_name}")), 250)?;
    }
    session.expect(Some(&format!("MAIL FROM:<{}>", crate::address_of(&email.from))), 250)?;
    for recipient in email.to.iter().chain(&email.cc).chain(&email.bcc) {
        session.expect(Some(&format!("RCPT TO:<{}>", crate::address_of(recipient))), 250)?;
    }
    session.expect(Some("DATA"), 354)?;
    session.connection.get_mut().write_all(&dot_stuffed(&message(email, unix_now()))).map_err(talk_error)?;
    session.expect(Some("."), 250)?;
    // The email is accepted at this point; a relay that drops the connection on QUIT loses nothing.
    let _ = session.expect(Some("QUIT"), 221);
    Ok(())
}

/// One connection for both directions: `wasi:sockets` streams cannot be cloned.
struct Session {
    connection: BufReader<TcpStream>,
}

impl Session {
    /// Sends `command` (if any) and reads the reply, which must have the code `wanted`.
    fn expect(&mut self, command: Option<&str>, wanted: u16) -> Result<String, SmtpError> {
        if let Some(command) = command {
            self.connection.get_mut().write_all(format!("{command}\r\n").as_bytes()).map_err(talk_error)?;
        }
        let (code, text) = self.reply()?;
        let said = || format!("{} answered {code} {text}", command.map_or("the server's greeting", |command| command));
        match code {
            _ if code == wanted => Ok(text),
            500..=599 => Err(SmtpError::Rejected(said())),
            _ => Err(SmtpError::Unavailable(said())),
        }
    }

    /// A reply: `250-first\r\n250 last\r\n` is one reply of code 250.
    fn reply(&mut self) -> Result<(u16, String), SmtpError> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            if self.connection.read_line(&mut line).map_err(talk_error)? == 0 {
                return Err(SmtpError::Unavailable("the SMTP server closed the connection".into()));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            let code = line.get(..3).and_then(|code| code.parse::<u16>().ok()).ok_or_else(|| {
                SmtpError::Unavailable(format!("the SMTP server answered something that is not SMTP: {line:?}"))
            })?;
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(line.get(4..).unwrap_or(""));
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, text));
            }
        }
    }
}

#[expect(clippy::needless_pass_by_value, reason = "it is map_err's function")]
fn talk_error(error: io::Error) -> SmtpError {
    SmtpError::Unavailable(format!("talking to the SMTP server: {error}"))
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(0))
}

/// The RFC 5322 message, with CRLF line ends. Bcc recipients get the message but no header.
pub fn message(email: &Email, unix_seconds: i64) -> String {
    let mut text = String::new();
    let mut header = |name: &str, value: &str| {
        let _ = write!(text, "{name}: {value}\r\n");
    };
    header("Date", &rfc5322_date(unix_seconds));
    header("From", &email.from);
    header("To", &email.to.join(", "));
    if !email.cc.is_empty() {
        header("Cc", &email.cc.join(", "));
    }
    header("Subject", &encoded_word(&email.subject));
    header("Message-ID", &format!("<{}@stepwasm>", email.message_id));
    header("MIME-Version", "1.0");
    match (&email.text_body, &email.html_body) {
        (Some(plain), Some(html)) => {
            let boundary = format!("=_{}", email.message_id);
            header("Content-Type", &format!("multipart/alternative; boundary=\"{boundary}\""));
            text.push_str("\r\n");
            for (subtype, body) in [("plain", plain), ("html", html)] {
                let _ = write!(text, "--{boundary}\r\n");
                text.push_str(&body_part(subtype, body));
            }
            let _ = write!(text, "--{boundary}--\r\n");
        }
        (Some(body), None) => text.push_str(&body_part("plain", body)),
        (None, Some(body)) => text.push_str(&body_part("html", body)),
        (None, None) => text.push_str("\r\n"),
    }
    text
}

/// A body's headers, a blank line and the body: as it is when it is short-lined ASCII, else in
/// base64, so that no relay has to understand 8-bit mail.
fn body_part(subtype: &str, body: &str) -> String {
    let plain = body.is_ascii() && body.lines().all(|line| line.len() <= 998);
    let mut part = format!("Content-Type: text/{subtype}; charset=utf-8\r\n");
    if plain {
        part.push_str("Content-Transfer-Encoding: 7bit\r\n\r\n");
        for line in body.lines() {
            part.push_str(line);
            part.push_str("\r\n");
        }
    } else {
        part.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
        let encoded = base64(body.as_bytes());
        for line in encoded.as_bytes().chunks(76) {
            part.push_str(std::str::from_utf8(line).unwrap_or_default());
            part.push_str("\r\n");
        }
    }
    part
}

/// A header value as it is when it is printable ASCII, else as RFC 2047 encoded words.
fn encoded_word(value: &str) -> String {
    if value.bytes().all(|byte| (0x20..0x7f).contains(&byte)) {
        return value.to_owned();
    }
    // 45 bytes of UTF-8 are 60 of base64: each word stays under the 75 characters allowed.
    let mut words = Vec::new();
    let mut start = 0;
    while start < value.len() {
        let mut end = (start + 45).min(value.len());
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        words.push(format!("=?UTF-8?B?{}?=", base64(&value.as_bytes()[start..end])));
        start = end;
    }
    words.join("\r\n ")
}

/// Lines that start with a dot get another (RFC 5321 §4.5.2), and the data ends with `.` alone.
fn dot_stuffed(message: &str) -> Vec<u8> {
    let mut data = Vec::with_capacity(message.len() + 5);
    for line in message.split_inclusive("\r\n") {
        if line.starts_with('.') {
            data.push(b'.');
        }
        data.extend_from_slice(line.as_bytes());
    }
    data
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `Mon, 24 Nov 2025 09:30:00 +0000`.
fn rfc5322_date(unix_seconds: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix_seconds.div_euclid(86_400);
    let seconds = unix_seconds.rem_euclid(86_400);
    let (year, month, day) = order_model::Timestamp::from_unix_seconds(unix_seconds).date();
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)],
        MONTHS[usize::try_from(month).unwrap_or(1).saturating_sub(1).min(11)],
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email {
            message_id: "6f1c".into(),
            from: "Shop <orders@shop.example>".into(),
            to: vec!["ada@example.com".into()],
            cc: vec![],
            bcc: vec!["audit@shop.example".into()],
            subject: "Your order o-1".into(),
            text_body: Some("Thanks!\n.hidden line\nBye".into()),
            html_body: None,
        }
    }

    #[test]
    fn a_message_has_the_headers_and_the_stuffed_body() {
        let text = message(&email(), 1_764_000_000);
        assert!(
            text.starts_with("Date: Mon, 24 Nov 2025 16:00:00 +0000\r\nFrom: Shop <orders@shop.example>\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nMessage-ID: <6f1c@stepwasm>\r\n"));
        assert!(!text.contains("audit@"), "Bcc is not a header: {text}");
        let data = String::from_utf8(dot_stuffed(&text)).unwrap();
        assert!(data.ends_with("\r\n\r\nThanks!\r\n..hidden line\r\nBye\r\n"), "{data}");
    }

    #[test]
    fn non_ascii_is_encoded() {
        let mut email = email();
        email.subject = "Ihre Bestellung ist unterwegs: Grüße aus München, und danke für Ihren Einkauf!".into();
        email.text_body = Some("Grüße".into());
        email.html_body = Some("<p>Hi</p>".into());
        let text = message(&email, 0);
        assert!(text.starts_with("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
        let subject = text.lines().find(|line| line.starts_with("Subject:")).unwrap();
        assert!(subject.starts_with("Subject: =?UTF-8?B?"), "{subject}");
        assert!(text.contains("\r\n =?UTF-8?B?"), "folded into several words: {text}");
        assert!(text.contains("Content-Transfer-Encoding: base64\r\n\r\nR3LDvMOfZQ==\r\n"), "{text}");
        assert!(text.contains("multipart/alternative; boundary=\"=_6f1c\""));
        assert!(text.ends_with("<p>Hi</p>\r\n--=_6f1c--\r\n"), "{text}");
    }
}
