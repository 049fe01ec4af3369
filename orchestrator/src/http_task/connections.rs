//! Connections: how an HTTP Task authenticates, standing in for EventBridge connections.
//!
//! A definition names a connection by ARN (`arn:aws:events:REGION:ACCOUNT:connection/NAME/ID`);
//! only `NAME` matters here, so definitions written for AWS run unchanged against a connection
//! of the same name configured on this server. Credentials are resolved from the server's
//! secrets when the configuration is loaded and never appear in histories or replies.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

/// The connections a server knows, by name.
#[derive(Clone, Default)]
pub struct Connections {
    by_name: HashMap<String, Arc<Connection>>,
}

impl Connections {
    /// Connections by name; a later one replaces an earlier one of the same name.
    pub fn new(connections: impl IntoIterator<Item = Connection>) -> Self {
        Self {
            by_name: connections
                .into_iter()
                .map(|connection| (connection.name.clone(), Arc::new(connection)))
                .collect(),
        }
    }

    /// The connection a `ConnectionArn` names.
    pub fn find(&self, connection_arn: &str) -> Option<&Arc<Connection>> {
        self.by_name.get(connection_name(connection_arn)?)
    }

    /// The names of all connections, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

impl fmt::Debug for Connections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connections").field("names", &self.names()).finish()
    }
}

/// `NAME` in `arn:aws:events:REGION:ACCOUNT:connection/NAME[/ID]`, or a bare name.
pub fn connection_name(connection_arn: &str) -> Option<&str> {
    let name = match connection_arn.split_once(":connection/") {
        Some((_, rest)) => rest.split('/').next()?,
        None if !connection_arn.contains(':') => connection_arn,
        None => return None,
    };
    (!name.is_empty()).then_some(name)
}

/// One connection: its authorization, and parameters added to every request made through it.
pub struct Connection {
    /// The name a `ConnectionArn` refers to.
    pub name: String,
    /// How requests are authorized.
    pub authorization: Authorization,
    /// Headers added to every request (the task's own win).
    pub headers: Vec<(String, String)>,
    /// Query parameters added to every request.
    pub query: Vec<(String, String)>,
    /// Fields added to every JSON object or form body.
    pub body: Map<String, Value>,
    /// The OAuth token, while it is valid.
    token: Mutex<Option<(String, Instant)>>,
}

impl Connection {
    /// A connection with no extra parameters.
    pub fn new(name: impl Into<String>, authorization: Authorization) -> Self {
        Self {
            name: name.into(),
            authorization,
            headers: Vec::new(),
            query: Vec::new(),
            body: Map::new(),
            token: Mutex::new(None),
        }
    }

    /// Every credential value, for masking.
    pub fn secret_values(&self) -> Vec<String> {
        match &self.authorization {
            Authorization::ApiKey { value, .. } => vec![value.clone()],
            Authorization::Basic { password, .. } => vec![password.clone()],
            Authorization::OAuthClientCredentials { client_secret, .. } => {
                let mut values = vec![client_secret.clone()];
                values.extend(self.cached_token());
                values
            }
        }
    }

    pub(crate) fn cached_token(&self) -> Option<String> {
        let token = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        token.as_ref().filter(|(_, until)| Instant::now() < *until).map(|(token, _)| token.clone())
    }

    pub(crate) fn keep_token(&self, token: String, valid_for: Duration) {
        // Refresh a minute early, so a token never expires on the way.
        let until = Instant::now() + valid_for.saturating_sub(Duration::from_secs(60)).max(Duration::from_secs(1));
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = Some((token, until));
    }

    pub(crate) fn forget_token(&self) {
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.authorization {
            Authorization::ApiKey { .. } => "API_KEY",
            Authorization::Basic { .. } => "BASIC",
            Authorization::OAuthClientCredentials { .. } => "OAUTH_CLIENT_CREDENTIALS",
        };
        f.debug_struct("Connection").field("name", &self.name).field("authorization", &kind).finish_non_exhaustive()
    }
}

/// How a connection authorizes requests, as EventBridge connections do.
pub enum Authorization {
    /// A header carrying a key: `name: value`.
    ApiKey {
        /// The header's name, such as `x-api-key` or `Authorization`.
        name: String,
        /// The key.
        value: String,
    },
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// OAuth 2.0 client credentials: a token fetched from `endpoint` (and kept until it
    /// expires), sent as `Authorization: Bearer TOKEN`.
    OAuthClientCredentials {
        /// The token endpoint, which must be on the outbound allow-list too.
        endpoint: String,
        /// GET, POST (the default) or PUT.
        method: String,
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: String,
        /// Extra form fields of the token request, such as `scope`.
        parameters: Vec<(String, String)>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_arn_names_its_connection() {
        assert_eq!(
            connection_name("arn:aws:events:us-east-2:123456789012:connection/Stripe/81210c42-8af1"),
            Some("Stripe")
        );
        assert_eq!(connection_name("arn:aws:events:eu-west-1:1:connection/payments"), Some("payments"));
        assert_eq!(connection_name("payments"), Some("payments"));
        assert_eq!(connection_name("arn:aws:events:eu-west-1:1:rule/x"), None);
        assert_eq!(connection_name("arn:aws:events:eu-west-1:1:connection/"), None);
    }

    #[test]
    fn credentials_never_print() {
        let connection =
            Connection::new("stripe", Authorization::ApiKey { name: "x-key".into(), value: "sk_9".into() });
        let printed = format!("{:?}", Connections::new([connection]));
        assert!(printed.contains("stripe") && !printed.contains("sk_9"), "{printed}");
    }
}
