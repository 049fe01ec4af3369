//! Names, ARNs and pagination tokens, checked as AWS checks them.

use base64::Engine as _;

use super::error::{ErrorKind, ServiceError};
use crate::store::PageRequest;

/// The region and account stepwasm puts in the ARNs it mints.
pub(crate) const REGION: &str = "us-east-1";
/// See [`REGION`].
pub(crate) const ACCOUNT: &str = "123456789012";

/// Checks a state machine, execution or activity name (1–80 characters, none of AWS's reserved
/// characters; periods are allowed).
pub(crate) fn check_name(name: &str) -> Result<(), ServiceError> {
    let length = name.chars().count();
    let forbidden = |c: char| {
        c.is_whitespace()
            || "<>{}[]?*\"#%\\^|~$&,;:/`".contains(c)
            || ('\u{0}'..='\u{1f}').contains(&c)
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || c == '\u{fffe}'
            || c == '\u{ffff}'
    };
    if (1..=80).contains(&length) && !name.chars().any(forbidden) {
        Ok(())
    } else {
        Err(ServiceError::new(ErrorKind::InvalidName, format!("Invalid Name: '{name}'")))
    }
}

pub(crate) fn state_machine_arn(name: &str) -> String {
    format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}")
}

pub(crate) fn activity_arn(name: &str) -> String {
    format!("arn:aws:states:{REGION}:{ACCOUNT}:activity:{name}")
}

/// The state machine name inside a state machine ARN.
pub(crate) fn state_machine_name(arn: &str) -> Result<&str, ServiceError> {
    arn_resource(arn, "stateMachine").map(|rest| rest.split(':').next().unwrap_or(rest))
}

/// A state machine ARN split at its qualifier: the machine's own ARN, and the version number or
/// alias name after it, if any.
pub(crate) fn state_machine_qualified(arn: &str) -> Result<(&str, Option<&str>), ServiceError> {
    let rest = arn_resource(arn, "stateMachine")?;
    match rest.split_once(':') {
        None => Ok((arn, None)),
        Some((_, qualifier)) if qualifier.is_empty() || qualifier.contains(':') => Err(invalid_arn(arn)),
        Some((_, qualifier)) => Ok((&arn[..arn.len() - qualifier.len() - 1], Some(qualifier))),
    }
}

/// `(machine name, execution name)` of an execution ARN.
pub(crate) fn execution_parts(arn: &str) -> Result<(&str, &str), ServiceError> {
    if arn.contains(":express:") {
        return Err(ServiceError::new(
            ErrorKind::InvalidArn,
            "Invalid Arn: 'Resource type not valid in this context: express'",
        ));
    }
    let rest = arn_resource(arn, "execution")?;
    rest.split_once(':').ok_or_else(|| invalid_arn(arn))
}

fn arn_resource<'a>(arn: &'a str, kind: &str) -> Result<&'a str, ServiceError> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "states", _region, _account, resource, rest]
            if partition.starts_with("aws") && *resource == kind && !rest.is_empty() =>
        {
            Ok(rest)
        }
        ["arn", ..] => Err(invalid_arn(arn)),
        _ => Err(ServiceError::new(ErrorKind::InvalidArn, format!("Invalid Arn: 'Invalid ARN prefix: {arn}'"))),
    }
}

/// The name in an activity ARN (`arn:aws:states:REGION:ACCOUNT:activity:NAME`).
pub(crate) fn activity_name(arn: &str) -> Result<&str, ServiceError> {
    arn_resource(arn, "activity")
}

/// Checks a state machine's `roleArn` as AWS does: 1 to 256 characters, an IAM role's ARN
/// (`arn:aws:iam::ACCOUNT:role/NAME`). stepwasm does not assume the role, but a definition reads
/// it as `$$.Execution.RoleArn`, and a client that sends garbage should hear so.
pub(crate) fn check_role_arn(role_arn: &str) -> Result<(), ServiceError> {
    let length = role_arn.chars().count();
    if !(1..=256).contains(&length) {
        let bound = if length == 0 { "greater than or equal to 1" } else { "less than or equal to 256" };
        return Err(ServiceError::validation(format!(
            "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must have length {bound}"
        )));
    }
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && !account.is_empty()
                && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty()) =>
        {
            Ok(())
        }
        ["arn", ..] => Err(invalid_arn(role_arn)),
        _ => Err(ServiceError::new(ErrorKind::InvalidArn, format!("Invalid Arn: 'Invalid ARN prefix: {role_arn}'"))),
    }
}

fn invalid_arn(arn: &str) -> ServiceError {
    ServiceError::new(ErrorKind::InvalidArn, format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"))
}

/// Pagination tokens: the store's position, bound to the listing it came from, so a token from
/// one listing (or a hand-made one) is refused with `InvalidToken` instead of misread.
pub(crate) fn encode_page_token(scope: &str, position: &str) -> String {
    let body = format!("{scope}\n{position}");
    let check = checksum(body.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{check:016x}\n{body}"))
}

pub(crate) fn decode_page_token(scope: &str, token: &str) -> Result<String, ServiceError> {
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).map_err(|_| ServiceError::invalid_token())?;
    let text = String::from_utf8(bytes).map_err(|_| ServiceError::invalid_token())?;
    let (check, body) = text.split_once('\n').ok_or_else(ServiceError::invalid_token)?;
    let (token_scope, position) = body.split_once('\n').ok_or_else(ServiceError::invalid_token)?;
    if token_scope != scope || check != format!("{:016x}", checksum(body.as_bytes())) {
        return Err(ServiceError::invalid_token());
    }
    Ok(position.to_owned())
}

/// The paging of one AWS listing: `maxResults` and `nextToken` in, the store's page request out,
/// and the store's position back out as the next token, bound to this listing.
pub(crate) struct Listing {
    scope: String,
}

impl Listing {
    /// The listing named `scope`: a token from any other listing is refused.
    pub(crate) fn new(scope: impl Into<String>) -> Self {
        Self { scope: scope.into() }
    }

    /// The store's request for the page a caller asks for.
    pub(crate) fn request(
        &self,
        max_results: Option<i64>,
        next_token: Option<&str>,
        reverse: bool,
    ) -> Result<PageRequest, ServiceError> {
        Ok(PageRequest {
            limit: page_size(max_results)?,
            after: next_token.map(|token| decode_page_token(&self.scope, token)).transpose()?,
            reverse,
        })
    }

    /// The `nextToken` for where the store's page ended.
    pub(crate) fn next_token(&self, next: Option<String>) -> Option<String> {
        next.map(|position| encode_page_token(&self.scope, &position))
    }
}

/// FNV-1a: detects corrupted or hand-edited tokens; not a secret.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// `maxResults`: 0 or absent means 100; more than 1000 is a ValidationException.
pub(crate) fn page_size(max_results: Option<i64>) -> Result<usize, ServiceError> {
    match max_results {
        None | Some(0) => Ok(100),
        Some(n @ 1..=1000) => Ok(usize::try_from(n).unwrap_or(100)),
        Some(n) => Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value {}",
            if n < 0 { "greater than or equal to 0" } else { "less than or equal to 1000" }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_aws_rules() {
        assert!(check_name("order-pipeline.v2").is_ok());
        for bad in ["", "has space", "a:b", "x".repeat(81).as_str(), "tab\t"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn page_tokens_round_trip_and_refuse_tampering() {
        let token = encode_page_token("executions", "1700000000000|arn:x");
        assert_eq!(decode_page_token("executions", &token).ok().as_deref(), Some("1700000000000|arn:x"));
        assert!(decode_page_token("history", &token).is_err(), "scoped to its listing");
        assert!(decode_page_token("executions", "garbage").is_err());
        let mut forged = token;
        forged.pop();
        assert!(decode_page_token("executions", &forged).is_err());
    }

    #[test]
    fn arns_are_parsed_strictly() {
        assert_eq!(state_machine_name("arn:aws:states:us-east-1:1:stateMachine:pipe").ok(), Some("pipe"));
        assert!(state_machine_name("arn:aws:states:us-east-1:1:activity:pipe").is_err());
        assert!(state_machine_name("not-an-arn").is_err());
        assert_eq!(execution_parts("arn:aws:states:us-east-1:1:execution:pipe:run-1").ok(), Some(("pipe", "run-1")));
    }
}
