use std::fmt;

/// An AWS Step Functions error: its modeled name and AWS's message.
///
/// The API layer renders it as `{"__type": "com.amazonaws.swf.service.v2.model#<Name>", "message"}`
/// with HTTP 400 (500 for [`ErrorKind::InternalFailure`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// Which modeled error.
    pub kind: ErrorKind,
    /// The message, in AWS's wording where it is known.
    pub message: String,
}

/// The modeled errors stepwasm reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // Each is the AWS error of the same name.
pub enum ErrorKind {
    ActivityDoesNotExist,
    Conflict,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionLimitExceeded,
    ExecutionNotRedrivable,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    MissingRequiredParameter,
    ResourceNotFound,
    ServiceQuotaExceeded,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    TaskDoesNotExist,
    TaskTimedOut,
    ValidationException,
    UnknownOperation,
    InternalFailure,
}

impl ErrorKind {
    /// The AWS error name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ActivityDoesNotExist => "ActivityDoesNotExist",
            Self::Conflict => "ConflictException",
            Self::ExecutionAlreadyExists => "ExecutionAlreadyExists",
            Self::ExecutionDoesNotExist => "ExecutionDoesNotExist",
            Self::ExecutionLimitExceeded => "ExecutionLimitExceeded",
            Self::ExecutionNotRedrivable => "ExecutionNotRedrivable",
            Self::InvalidArn => "InvalidArn",
            Self::InvalidDefinition => "InvalidDefinition",
            Self::InvalidExecutionInput => "InvalidExecutionInput",
            Self::InvalidName => "InvalidName",
            Self::InvalidOutput => "InvalidOutput",
            Self::InvalidToken => "InvalidToken",
            Self::MissingRequiredParameter => "MissingRequiredParameter",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::ServiceQuotaExceeded => "ServiceQuotaExceededException",
            Self::StateMachineAlreadyExists => "StateMachineAlreadyExists",
            Self::StateMachineDoesNotExist => "StateMachineDoesNotExist",
            Self::StateMachineTypeNotSupported => "StateMachineTypeNotSupported",
            Self::TaskDoesNotExist => "TaskDoesNotExist",
            Self::TaskTimedOut => "TaskTimedOut",
            Self::ValidationException => "ValidationException",
            Self::UnknownOperation => "UnknownOperationException",
            Self::InternalFailure => "InternalFailure",
        }
    }

    /// The `__type` namespace AWS uses for it.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::ValidationException => "com.amazon.coral.validate",
            _ => "com.amazonaws.swf.service.v2.model",
        }
    }
}

impl ServiceError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    pub(crate) fn execution_does_not_exist(arn: &str) -> Self {
        Self::new(ErrorKind::ExecutionDoesNotExist, format!("Execution Does Not Exist: '{arn}'"))
    }

    pub(crate) fn state_machine_does_not_exist(arn: &str) -> Self {
        Self::new(ErrorKind::StateMachineDoesNotExist, format!("State Machine Does Not Exist: '{arn}'"))
    }

    pub(crate) fn invalid_token() -> Self {
        Self::new(ErrorKind::InvalidToken, "Invalid Token: 'Invalid token'")
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ValidationException, message)
    }

    pub(crate) fn internal(message: impl fmt::Display) -> Self {
        Self::new(ErrorKind::InternalFailure, format!("Internal failure: {message}"))
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for ServiceError {}

impl From<crate::store::StoreError> for ServiceError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::internal(error)
    }
}
