//! The function's configuration: variables set when it was deployed
//! (`--variable NAME=VALUE`) and the server secrets it was granted (`--secret NAME`), read
//! through `wasi:config/store`.
//!
//! Secrets are read like variables. The host masks their values in everything it records of a
//! call (logs, stdout, stderr, the error cause and the output), but a function should still
//! never log or return one.
//!
//! Outside Wasm (a handler's native unit tests) the values come from environment variables of
//! the same names.

use crate::TaskError;

/// The value of `name`, or `None` when the function was given no such variable or secret.
pub fn get(name: &str) -> Option<String> {
    imp::get(name)
}

/// The value of `name`; its absence fails the call with `Config.Missing`, which names it.
pub fn require(name: &str) -> Result<String, TaskError> {
    get(name).ok_or_else(|| {
        TaskError::new(
            "Config.Missing",
            format!("the function needs the setting {name:?}; deploy it with --variable {name}=… or --secret {name}"),
        )
    })
}

#[cfg(target_family = "wasm")]
mod imp {
    use crate::bindings::wasi::config::store;

    pub(super) fn get(name: &str) -> Option<String> {
        // The host's store cannot fail; an upstream error would mean "no value" anyway.
        store::get(name).ok().flatten()
    }
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    pub(super) fn get(name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_setting_is_named() {
        let error = super::require("STEPWASM_SDK_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(error.error, "Config.Missing");
        assert!(error.cause.contains("STEPWASM_SDK_TEST_SURELY_UNSET"), "{}", error.cause);
    }
}
