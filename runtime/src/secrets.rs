//! Configuration and secrets, as a guest reads them through `wasi:config/store`.
//!
//! A function is deployed with plain *variables* (part of its description, shown to anyone who
//! may read it) and the *names* of server secrets it may read. The values of secrets live only
//! in the server's [`Secrets`], loaded from a file or the environment; a function's description
//! never holds them. Whatever text the host keeps from an invocation (logs, stdout, stderr, the
//! error cause and the output) has every granted secret's value masked, so a function that
//! prints or returns a secret by mistake does not leak it into a history or a console.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// What replaces a secret's value in recorded text.
pub const MASK: &str = "***";

/// The server's secrets, by name. Their values never print: `Debug` shows names only.
#[derive(Clone, Default)]
pub struct Secrets {
    values: BTreeMap<String, String>,
}

impl Secrets {
    /// Secrets from `(name, value)` pairs; a later pair replaces an earlier one of the same name.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self { values: pairs.into_iter().collect() }
    }

    /// Adds `other`'s secrets, replacing any of the same name.
    pub fn extend(&mut self, other: Secrets) {
        self.values.extend(other.values);
    }

    /// The value of the secret `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The names of all secrets, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Every value, for masking text that might contain one.
    pub fn masker(&self) -> Masker {
        Masker::new(self.values.values().cloned())
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets").field("names", &self.values.keys().collect::<Vec<_>>()).finish()
    }
}

/// Replaces secret values in text with [`MASK`].
#[derive(Clone, Default)]
pub struct Masker {
    /// Longest first, so that a secret containing another is masked whole.
    values: Vec<String>,
}

impl Masker {
    /// Masks each of `values` (empty ones mean nothing and are ignored).
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = values.into_iter().filter(|value| !value.is_empty()).collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Self { values }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret value replaced.
    pub fn mask(&self, text: &str) -> String {
        let mut masked = text.to_owned();
        self.mask_in_place(&mut masked);
        masked
    }

    /// Replaces every secret value in `text`; allocates only when one is found.
    pub fn mask_in_place(&self, text: &mut String) {
        for value in &self.values {
            if text.contains(value.as_str()) {
                *text = text.replace(value.as_str(), MASK);
            }
        }
    }

    /// Masks every string in a JSON document, keys included.
    pub fn mask_json(&self, value: &mut Value) {
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(text) => self.mask_in_place(text),
            Value::Array(items) => items.iter_mut().for_each(|item| self.mask_json(item)),
            Value::Object(map) => {
                let needs_new_keys = map.keys().any(|key| self.values.iter().any(|value| key.contains(value.as_str())));
                if needs_new_keys {
                    *map = std::mem::take(map).into_iter().map(|(key, value)| (self.mask(&key), value)).collect();
                }
                map.values_mut().for_each(|item| self.mask_json(item));
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Masker({} values)", self.values.len())
    }
}

/// What one function reads through `wasi:config/store`, resolved when it is registered.
#[derive(Debug, Default)]
pub(crate) struct GuestConfig {
    pub(crate) values: HashMap<String, String>,
    pub(crate) masker: Masker,
}

impl GuestConfig {
    /// Variables first, then the granted secrets (a secret wins over a variable of its name).
    /// `Err(name)` names a granted secret the server does not have.
    pub(crate) fn resolve(
        variables: &BTreeMap<String, String>,
        granted: &[String],
        secrets: &Secrets,
    ) -> Result<Arc<Self>, String> {
        let mut values: HashMap<String, String> =
            variables.iter().map(|(name, value)| (name.clone(), value.clone())).collect();
        let mut secret_values = Vec::with_capacity(granted.len());
        for name in granted {
            let value = secrets.get(name).ok_or_else(|| name.clone())?;
            values.insert(name.clone(), value.to_owned());
            secret_values.push(value.to_owned());
        }
        Ok(Arc::new(Self { values, masker: Masker::new(secret_values) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_replaces_every_value_longest_first() {
        let masker = Masker::new(["sk_live_123".to_owned(), "sk_live_12345".to_owned(), String::new()]);
        assert_eq!(masker.mask("key sk_live_12345 and sk_live_123."), "key *** and ***.");
        let mut document = serde_json::json!({"sk_live_123": ["x sk_live_123", {"n": 1}], "ok": "plain"});
        masker.mask_json(&mut document);
        assert_eq!(document, serde_json::json!({"***": ["x ***", {"n": 1}], "ok": "plain"}));
    }

    #[test]
    fn secrets_never_print_their_values() {
        let secrets = Secrets::new([("PAYMENT_KEY".to_owned(), "hunter2".to_owned())]);
        let printed = format!("{secrets:?}");
        assert!(printed.contains("PAYMENT_KEY") && !printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn a_granted_secret_the_server_lacks_is_named() {
        let secrets = Secrets::new([("A".to_owned(), "1".to_owned())]);
        let variables = BTreeMap::from([("REGION".to_owned(), "eu".to_owned())]);
        let config = GuestConfig::resolve(&variables, &["A".to_owned()], &secrets).unwrap();
        assert_eq!(config.values["REGION"], "eu");
        assert_eq!(config.values["A"], "1");
        assert_eq!(GuestConfig::resolve(&variables, &["B".to_owned()], &secrets).unwrap_err(), "B");
    }
}
