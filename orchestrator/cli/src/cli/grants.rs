//! What a function may reach and read besides its input, as command-line flags; and the
//! server's secrets, from a file and the environment.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use stepwasm_runtime::{AllowList, FunctionConfig, Origin, Secrets, TcpAllowList, TcpEndpoint};

/// Environment variables named `STEPWASM_SECRET_<NAME>` define the secret `NAME`.
pub(crate) const SECRET_VARIABLE_PREFIX: &str = "STEPWASM_SECRET_";

/// A function's grants: outbound origins, variables and secret names.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct Grants {
    /// An origin the function may send HTTP requests to, such as `https://api.example.com`
    /// (scheme, host and port; repeatable). Requests anywhere else are refused before any
    /// connection.
    #[arg(long, value_name = "ORIGIN")]
    pub(crate) allow_outbound: Vec<String>,
    /// A `host:port` the function may open TCP connections to, such as `smtp.example.com:25`
    /// (repeatable). Connections anywhere else are refused before any packet is sent.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) allow_tcp: Vec<String>,
    /// A setting the function reads through `wasi:config/store`, as NAME=VALUE (repeatable).
    /// Shown with the function, so not for secrets.
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) variable: Vec<String>,
    /// A server secret the function may read by name (repeatable). The server must have it:
    /// `serve --secrets-file`, or a `STEPWASM_SECRET_<NAME>` environment variable.
    #[arg(long, value_name = "NAME")]
    pub(crate) secret: Vec<String>,
}

impl Grants {
    /// The query parameters of `PUT /functions/{name}`.
    pub(crate) fn parameters(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        let origins = self.allow_outbound.iter().map(|origin| ("allowOutbound", origin.clone()));
        let endpoints = self.allow_tcp.iter().map(|endpoint| ("allowTcp", endpoint.clone()));
        let variables = self.variable.iter().map(|variable| ("variable", variable.clone()));
        origins.chain(endpoints).chain(variables).chain(self.secret.iter().map(|secret| ("secret", secret.clone())))
    }

    /// `config` with these grants.
    pub(crate) fn apply(&self, mut config: FunctionConfig) -> Result<FunctionConfig> {
        let origins = self
            .allow_outbound
            .iter()
            .map(|origin| origin.parse::<Origin>().with_context(|| "--allow-outbound"))
            .collect::<Result<Vec<_>>>()?;
        config.allowed_outbound = AllowList::new(origins);
        let endpoints = self
            .allow_tcp
            .iter()
            .map(|endpoint| endpoint.parse::<TcpEndpoint>().with_context(|| "--allow-tcp"))
            .collect::<Result<Vec<_>>>()?;
        config.allowed_tcp = TcpAllowList::new(endpoints);
        for variable in &self.variable {
            let Some((name, value)) = variable.split_once('=').filter(|(name, _)| !name.is_empty()) else {
                bail!("--variable takes NAME=VALUE, got {variable:?}");
            };
            config.variables.insert(name.to_owned(), value.to_owned());
        }
        config.secrets.clone_from(&self.secret);
        Ok(config)
    }
}

/// The server's secrets: `STEPWASM_SECRET_<NAME>` environment variables, then the lines
/// `NAME=VALUE` of `file` (blank lines and `#` comments skipped), which win.
pub(crate) fn load_secrets(file: Option<&Path>) -> Result<Secrets> {
    let mut secrets = Secrets::new(std::env::vars().filter_map(|(key, value)| {
        key.strip_prefix(SECRET_VARIABLE_PREFIX).filter(|name| !name.is_empty()).map(|name| (name.to_owned(), value))
    }));
    if let Some(file) = file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading the secrets file {}", file.display()))?;
        secrets.extend(parse_secrets(&text).with_context(|| format!("in the secrets file {}", file.display()))?);
    }
    Ok(secrets)
}

fn parse_secrets(text: &str) -> Result<Secrets> {
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The value is never quoted in the message: this is a file of secrets.
        let Some((name, value)) = line.split_once('=').filter(|(name, _)| !name.trim().is_empty()) else {
            bail!("line {} is not NAME=VALUE", index + 1);
        };
        pairs.push((name.trim().to_owned(), value.to_owned()));
    }
    Ok(Secrets::new(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secrets_file_is_name_equals_value_lines() {
        let secrets = parse_secrets("# payment provider\nPAYMENT_KEY=sk_live=abc\n\n  SMS_TOKEN = t0k \n").unwrap();
        assert_eq!(secrets.get("PAYMENT_KEY"), Some("sk_live=abc"));
        assert_eq!(secrets.get("SMS_TOKEN"), Some(" t0k"));
        let error = parse_secrets("A=1\nhunter2\n").unwrap_err();
        assert!(error.to_string().contains("line 2") && !error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn grants_become_a_function_config() {
        let grants = Grants {
            allow_outbound: vec!["https://api.example.com/".into()],
            allow_tcp: vec!["smtp.example.com:25".into()],
            variable: vec!["REGION=eu=1".into()],
            secret: vec!["KEY".into()],
        };
        let config = grants.apply(FunctionConfig::default()).unwrap();
        assert_eq!(config.allowed_outbound.origins()[0].to_string(), "https://api.example.com");
        assert_eq!(config.allowed_tcp.endpoints()[0].to_string(), "smtp.example.com:25");
        assert_eq!(config.variables["REGION"], "eu=1");
        assert_eq!(config.secrets, ["KEY"]);
        let bad = Grants { allow_outbound: vec!["api.example.com".into()], ..Grants::default() };
        assert!(bad.apply(FunctionConfig::default()).is_err());
        let bad = Grants { allow_tcp: vec!["smtp.example.com".into()], ..Grants::default() };
        assert!(bad.apply(FunctionConfig::default()).is_err());
    }
}
