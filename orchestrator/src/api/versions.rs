//! The version and alias operations: PublishStateMachineVersion, ListStateMachineVersions,
//! DeleteStateMachineVersion, and Create, Describe, Update, Delete and List of aliases.

use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::operations::{Reply, parse, required, seconds, with_token};
use crate::service::{RouteRequest, Service};
use crate::store::{AliasRecord, version_arn};

/// The operations this module answers.
pub(super) const OPERATIONS: [&str; 8] = [
    "PublishStateMachineVersion",
    "ListStateMachineVersions",
    "DeleteStateMachineVersion",
    "CreateStateMachineAlias",
    "DescribeStateMachineAlias",
    "UpdateStateMachineAlias",
    "DeleteStateMachineAlias",
    "ListStateMachineAliases",
];

/// Runs operation `name`, one of [`OPERATIONS`].
pub(super) async fn dispatch(service: &Service, name: &str, body: Value) -> Reply {
    match name {
        "PublishStateMachineVersion" => publish(service, parse(body)).await,
        "ListStateMachineVersions" => list_versions(service, parse(body)).await,
        "DeleteStateMachineVersion" => delete_version(service, parse(body)).await,
        "CreateStateMachineAlias" => create_alias(service, parse(body)).await,
        "DescribeStateMachineAlias" => describe_alias(service, parse(body)).await,
        "UpdateStateMachineAlias" => update_alias(service, parse(body)).await,
        "DeleteStateMachineAlias" => delete_alias(service, parse(body)).await,
        "ListStateMachineAliases" => list_aliases(service, parse(body)).await,
        other => {
            Err(ApiError(crate::service::ServiceError::internal(format!("{other} was routed to the versions module"))))
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionRequest {
    state_machine_arn: Option<String>,
    state_machine_version_arn: Option<String>,
    revision_id: Option<String>,
    description: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

async fn publish(service: &Service, request: Result<VersionRequest, ApiError>) -> Reply {
    let request = request?;
    let version = service
        .publish_state_machine_version(
            required(&request.state_machine_arn, "stateMachineArn")?,
            request.revision_id.as_deref(),
            request.description.as_deref(),
        )
        .await?;
    Ok(json!({ "stateMachineVersionArn": version.arn(), "creationDate": seconds(version.created) }))
}

async fn list_versions(service: &Service, request: Result<VersionRequest, ApiError>) -> Reply {
    let request = request?;
    let (versions, next) = service
        .list_state_machine_versions(
            required(&request.state_machine_arn, "stateMachineArn")?,
            request.max_results,
            request.next_token.as_deref(),
        )
        .await?;
    let items: Vec<Value> = versions
        .iter()
        .map(|version| json!({ "stateMachineVersionArn": version.arn(), "creationDate": seconds(version.created) }))
        .collect();
    Ok(with_token(json!({ "stateMachineVersions": items }), next))
}

async fn delete_version(service: &Service, request: Result<VersionRequest, ApiError>) -> Reply {
    let request = request?;
    service
        .delete_state_machine_version(required(&request.state_machine_version_arn, "stateMachineVersionArn")?)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AliasRequest {
    name: Option<String>,
    state_machine_arn: Option<String>,
    state_machine_alias_arn: Option<String>,
    description: Option<String>,
    routing_configuration: Option<Vec<RouteMember>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteMember {
    state_machine_version_arn: Option<String>,
    weight: Option<i64>,
}

fn routes(members: Vec<RouteMember>) -> Result<Vec<RouteRequest>, ApiError> {
    members
        .into_iter()
        .map(|member| {
            Ok(RouteRequest {
                version_arn: member
                    .state_machine_version_arn
                    .ok_or_else(|| ApiError::missing("routingConfiguration.member.stateMachineVersionArn"))?,
                weight: member.weight.ok_or_else(|| ApiError::missing("routingConfiguration.member.weight"))?,
            })
        })
        .collect()
}

async fn create_alias(service: &Service, request: Result<AliasRequest, ApiError>) -> Reply {
    let request = request?;
    let routing = routes(request.routing_configuration.ok_or_else(|| ApiError::missing("routingConfiguration"))?)?;
    let alias = service
        .create_state_machine_alias(required(&request.name, "name")?, request.description.as_deref(), &routing)
        .await?;
    Ok(json!({ "stateMachineAliasArn": alias.arn, "creationDate": seconds(alias.created) }))
}

async fn describe_alias(service: &Service, request: Result<AliasRequest, ApiError>) -> Reply {
    let request = request?;
    let alias = service
        .describe_state_machine_alias(required(&request.state_machine_alias_arn, "stateMachineAliasArn")?)
        .await?;
    Ok(alias_reply(&alias))
}

/// DescribeStateMachineAlias's reply.
pub(super) fn alias_reply(alias: &AliasRecord) -> Value {
    let routing: Vec<Value> = alias
        .routes
        .iter()
        .map(|route| {
            json!({ "stateMachineVersionArn": version_arn(&alias.machine_arn, route.version), "weight": route.weight })
        })
        .collect();
    let mut reply = json!({
        "stateMachineAliasArn": alias.arn,
        "name": alias.name,
        "routingConfiguration": routing,
        "creationDate": seconds(alias.created),
        "updateDate": seconds(alias.updated),
    });
    if let Some(description) = &alias.description {
        reply["description"] = json!(description);
    }
    reply
}

async fn update_alias(service: &Service, request: Result<AliasRequest, ApiError>) -> Reply {
    let request = request?;
    let routing = request.routing_configuration.map(routes).transpose()?;
    let alias = service
        .update_state_machine_alias(
            required(&request.state_machine_alias_arn, "stateMachineAliasArn")?,
            request.description.as_deref(),
            routing.as_deref(),
        )
        .await?;
    Ok(json!({ "updateDate": seconds(alias.updated) }))
}

async fn delete_alias(service: &Service, request: Result<AliasRequest, ApiError>) -> Reply {
    let request = request?;
    service.delete_state_machine_alias(required(&request.state_machine_alias_arn, "stateMachineAliasArn")?).await?;
    Ok(json!({}))
}

async fn list_aliases(service: &Service, request: Result<AliasRequest, ApiError>) -> Reply {
    let request = request?;
    let (aliases, next) = service
        .list_state_machine_aliases(
            required(&request.state_machine_arn, "stateMachineArn")?,
            request.max_results,
            request.next_token.as_deref(),
        )
        .await?;
    let items: Vec<Value> = aliases
        .iter()
        .map(|alias| json!({ "stateMachineAliasArn": alias.arn, "creationDate": seconds(alias.created) }))
        .collect();
    Ok(with_token(json!({ "stateMachineAliases": items }), next))
}
