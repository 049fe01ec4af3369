//! What a server's HTTP Tasks may reach, its secrets, and its connections: flags, and the same
//! in a TOML file (`serve --config stepwasm.toml`):
//!
//! ```toml
//! # Origins HTTP Tasks may call (the token endpoints of OAuth connections too).
//! allow-outbound = ["https://api.stripe.com", "https://login.example.com"]
//! # NAME=VALUE lines; STEPWASM_SECRET_<NAME> environment variables count as well.
//! secrets-file = "secrets.env"
//!
//! # An HTTP Task's `Authentication.ConnectionArn` names a connection by its NAME:
//! # arn:aws:events:REGION:ACCOUNT:connection/stripe/ID is [connections.stripe].
//! [connections.stripe]
//! authorization = "API_KEY"            # or BASIC, or OAUTH_CLIENT_CREDENTIALS
//! api-key-name = "Authorization"
//! api-key-value-from = "STRIPE_KEY"    # the name of a secret, never the value
//!
//! # What the service integrations of definitions run here (see stepwasm_orchestrator::bindings).
//! [bindings."sns:publish"]
//! function = "publish-notification"
//! [bindings."ecs:runTask"]
//! url = "https://jobs.internal.example.com/run"   # on the allow-list above
//!
//! [connections.crm]
//! authorization = "OAUTH_CLIENT_CREDENTIALS"
//! authorization-endpoint = "https://login.example.com/oauth/token"
//! client-id = "stepwasm"
//! client-secret-from = "CRM_CLIENT_SECRET"
//! oauth-parameters = { scope = "orders" }
//! headers = { "x-tenant" = "shop-1" }  # also `query` and `body`: added to every request
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use clap::Args;
use serde::Deserialize;
use serde_json::{Map, Value};
use stepwasm_orchestrator::access::AccessKeys;
use stepwasm_orchestrator::bindings::{Binding, Integration};
use stepwasm_orchestrator::http_task::{Authorization, Connection, Connections, HttpTaskConfig};
use stepwasm_runtime::{AllowList, Origin, Secrets};

use super::grants::load_secrets;

/// The flags; each adds to what the `--config` file says.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct OutboundArgs {
    /// An origin HTTP Tasks may call, such as `https://api.example.com` (repeatable). Any other
    /// fails the task with `States.Http.OriginNotAllowed`, without a connection.
    #[arg(long = "allow-outbound", value_name = "ORIGIN")]
    allow_outbound: Vec<String>,

    /// Server secrets, as NAME=VALUE lines. Functions are granted them by name (`function deploy
    /// --secret NAME`), and connections read their credentials from them.
    /// `STEPWASM_SECRET_<NAME>` environment variables are secrets too.
    #[arg(long, value_name = "FILE")]
    secrets_file: Option<PathBuf>,

    /// A TOML file with `allow-outbound`, `secrets-file`, `access-keys-file` and
    /// `[connections.NAME]` tables.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The access keys API calls must be signed with (SigV4, as AWS clients sign), one
    /// `ACCESS_KEY_ID SECRET_ACCESS_KEY` pair a line; `STEPWASM_ACCESS_KEY_ID` with
    /// `STEPWASM_SECRET_ACCESS_KEY` adds one. Without any, the server is open to anyone who can
    /// reach it, which `serve` allows on loopback only (or with `--insecure`).
    #[arg(long, value_name = "FILE")]
    access_keys_file: Option<PathBuf>,
}

/// What the flags and the file come to, with the access keys API calls are signed with.
pub(crate) struct ServerSecrets {
    pub(crate) secrets: Secrets,
    pub(crate) http: HttpTaskConfig,
    pub(crate) access_keys: AccessKeys,
    pub(crate) bindings: BTreeMap<String, Binding>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    #[serde(default)]
    allow_outbound: Vec<String>,
    secrets_file: Option<PathBuf>,
    access_keys_file: Option<PathBuf>,
    #[serde(default)]
    connections: BTreeMap<String, ConnectionEntry>,
    #[serde(default)]
    bindings: BTreeMap<String, Binding>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConnectionEntry {
    authorization: String,
    api_key_name: Option<String>,
    api_key_value_from: Option<String>,
    username: Option<String>,
    password_from: Option<String>,
    authorization_endpoint: Option<String>,
    http_method: Option<String>,
    client_id: Option<String>,
    client_secret_from: Option<String>,
    #[serde(default)]
    oauth_parameters: BTreeMap<String, String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    query: BTreeMap<String, String>,
    #[serde(default)]
    body: Map<String, Value>,
}

impl OutboundArgs {
    pub(crate) fn load(&self) -> Result<ServerSecrets> {
        let (file, base) = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                let file: ConfigFile = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
                (file, path.parent().map(Path::to_path_buf).unwrap_or_default())
            }
            None => (ConfigFile::default(), PathBuf::new()),
        };
        let mut secrets = load_secrets(file.secrets_file.as_ref().map(|relative| base.join(relative)).as_deref())?;
        if self.secrets_file.is_some() {
            secrets.extend(load_secrets(self.secrets_file.as_deref())?);
        }
        let origins = file
            .allow_outbound
            .iter()
            .chain(&self.allow_outbound)
            .map(|origin| origin.parse::<Origin>().context("allow-outbound"))
            .collect::<Result<Vec<_>>>()?;
        let connections = file
            .connections
            .into_iter()
            .map(|(name, entry)| connection(&name, entry, &secrets).with_context(|| format!("connection {name:?}")))
            .collect::<Result<Vec<_>>>()?;
        let http = HttpTaskConfig {
            allow: AllowList::new(origins),
            connections: Connections::new(connections),
            ..HttpTaskConfig::default()
        };
        let files =
            file.access_keys_file.map(|relative| base.join(relative)).into_iter().chain(self.access_keys_file.clone());
        let access_keys = load_access_keys(files)?;
        let bindings = configured_bindings(file.bindings)?;
        Ok(ServerSecrets { secrets, http, access_keys, bindings })
    }
}

/// The configuration's bindings, each checked, keyed by the integration they bind (a resource
/// that calls it may name it: `"arn:aws:states:::ecs:runTask.sync"` binds `ecs:runTask`).
pub(crate) fn configured_bindings(bindings: BTreeMap<String, Binding>) -> Result<BTreeMap<String, Binding>> {
    let mut checked = BTreeMap::new();
    for (key, binding) in bindings {
        let integration = Integration::parse_name(&key).with_context(|| format!("bindings.{key:?}"))?;
        binding.check().with_context(|| format!("bindings.{key:?}"))?;
        if checked.insert(integration.clone(), binding).is_some() {
            bail!("bindings: {integration} is bound twice");
        }
    }
    Ok(checked)
}

/// The bindings of a configuration file, for commands that only check definitions.
pub(crate) fn bindings_in(path: &Path) -> Result<BTreeMap<String, Binding>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: ConfigFile = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
    configured_bindings(file.bindings).with_context(|| format!("in {}", path.display()))
}

/// Access keys from files of `ID SECRET` lines, and the `STEPWASM_ACCESS_KEY_ID` /
/// `STEPWASM_SECRET_ACCESS_KEY` pair.
pub(crate) fn load_access_keys(files: impl Iterator<Item = PathBuf>) -> Result<AccessKeys> {
    let mut pairs = Vec::new();
    if let (Ok(id), Ok(secret)) = (std::env::var("STEPWASM_ACCESS_KEY_ID"), std::env::var("STEPWASM_SECRET_ACCESS_KEY"))
        && !id.is_empty()
        && !secret.is_empty()
    {
        pairs.push((id, secret));
    }
    for file in files {
        let text =
            std::fs::read_to_string(&file).with_context(|| format!("reading the access keys in {}", file.display()))?;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(id), Some(secret), None) => pairs.push((id.to_owned(), secret.to_owned())),
                _ => bail!("line {} of {} is not ACCESS_KEY_ID SECRET_ACCESS_KEY", index + 1, file.display()),
            }
        }
    }
    Ok(AccessKeys::new(pairs))
}

fn connection(name: &str, entry: ConnectionEntry, secrets: &Secrets) -> Result<Connection> {
    let required = |value: Option<String>, field: &str| value.ok_or_else(|| anyhow!("{field} is required"));
    let secret = |name: Option<String>, field: &str| -> Result<String> {
        let name = name.ok_or_else(|| anyhow!("{field} (the name of a server secret) is required"))?;
        secrets
            .get(&name)
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("{field} names the secret {name:?}, which this server does not have"))
    };
    let authorization = match entry.authorization.as_str() {
        "API_KEY" => Authorization::ApiKey {
            name: required(entry.api_key_name, "api-key-name")?,
            value: secret(entry.api_key_value_from, "api-key-value-from")?,
        },
        "BASIC" => Authorization::Basic {
            username: required(entry.username, "username")?,
            password: secret(entry.password_from, "password-from")?,
        },
        "OAUTH_CLIENT_CREDENTIALS" => Authorization::OAuthClientCredentials {
            endpoint: required(entry.authorization_endpoint, "authorization-endpoint")?,
            method: entry.http_method.unwrap_or_else(|| "POST".to_owned()),
            client_id: required(entry.client_id, "client-id")?,
            client_secret: secret(entry.client_secret_from, "client-secret-from")?,
            parameters: entry.oauth_parameters.into_iter().collect(),
        },
        other => bail!("authorization must be API_KEY, BASIC or OAUTH_CLIENT_CREDENTIALS, not {other:?}"),
    };
    let mut connection = Connection::new(name, authorization);
    connection.headers = entry.headers.into_iter().collect();
    connection.query = entry.query.into_iter().collect();
    connection.body = entry.body;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_gives_origins_and_connections() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secrets.env"), "STRIPE_KEY=sk_test_1\nCRM=c-2\n").unwrap();
        let config = dir.path().join("stepwasm.toml");
        std::fs::write(
            &config,
            r#"
allow-outbound = ["https://api.stripe.com"]
secrets-file = "secrets.env"

[connections.stripe]
authorization = "API_KEY"
api-key-name = "Authorization"
api-key-value-from = "STRIPE_KEY"

[connections.crm]
authorization = "OAUTH_CLIENT_CREDENTIALS"
authorization-endpoint = "https://login.example.com/token"
client-id = "id"
client-secret-from = "CRM"
headers = { "x-tenant" = "t" }
"#,
        )
        .unwrap();
        let args = OutboundArgs {
            allow_outbound: vec!["http://127.0.0.1:9".into()],
            config: Some(config.clone()),
            ..OutboundArgs::default()
        };
        let loaded = args.load().unwrap();
        let origins: Vec<String> = loaded.http.allow.origins().iter().map(ToString::to_string).collect();
        assert_eq!(origins, ["https://api.stripe.com", "http://127.0.0.1:9"]);
        assert_eq!(loaded.http.connections.names(), ["crm", "stripe"]);
        assert_eq!(loaded.secrets.get("STRIPE_KEY"), Some("sk_test_1"));
        let crm = loaded.http.connections.find("arn:aws:events:us-east-1:1:connection/crm/x").unwrap();
        assert_eq!(crm.headers, [("x-tenant".to_owned(), "t".to_owned())]);

        std::fs::write(
            &config,
            "[connections.x]\nauthorization = \"BASIC\"\nusername = \"u\"\npassword-from = \"NOPE\"\n",
        )
        .unwrap();
        let error = format!("{:#}", args.load().err().unwrap());
        assert!(error.contains("NOPE") && error.contains("connection \"x\""), "{error}");
    }
}
