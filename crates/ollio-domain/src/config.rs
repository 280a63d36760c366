//! What every part's configuration shares: the error that names the
//! variable at fault, and reading a whole number with a floor or a flag. Each crate
//! reads its own variables (`ollio_agent::config`, the store's
//! `DatabaseUrl`, the app's `Config`) through a lookup function, so tests
//! never touch the process environment.

use std::{fmt, str::FromStr};

/// A configuration value that could not be used: which variable, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
    }
}

/// Reads `true` or `false` (also `1`/`0`, `yes`/`no`), `false` when unset.
pub fn flag(get: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<bool, ConfigError> {
    let Some(raw) = get(var) else {
        return Ok(false);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" | "" => Ok(false),
        _ => Err(ConfigError::new(
            var,
            format!("`{raw}` is not true or false"),
        )),
    }
}

/// Reads a whole number of at least `min`, or `default` when unset.
pub fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    min: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(value) if value >= min => Ok(value),
        _ => Err(ConfigError::new(
            var,
            format!("`{raw}` is not a whole number of at least {min}"),
        )),
    }
}
