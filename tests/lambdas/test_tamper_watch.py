"""Tamper watch: calls that would switch governance off reach the alerts topic and leave one audit record each."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from lambdas.shared.events import MalformedEvent
from lambdas.tamper_watch import handler as tamper
from tests.events import RENAMED_TAMPERING, TAMPER_REQUESTS, tamper_event
from tests.lambdas.world import REGION, World


def governance_key(alias: str) -> str:
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(Description="governance key")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key)
    return str(key)


@pytest.mark.parametrize("kind", sorted(TAMPER_REQUESTS))
def test_each_kind_of_tampering_is_alerted_and_recorded(world: World, lambda_context: Any, kind: str) -> None:
    overrides = {"keyId": governance_key("alias/acme-ml-audit")} if TAMPER_REQUESTS[kind][2].get("keyId") == "KEY" else None
    event = tamper_event(kind, overrides=overrides)
    result = tamper.handler(event, lambda_context)
    assert result["decision"] == "deny"
    (record,) = world.audit_records()
    assert record["rule_set"] == "tamper-detection"
    assert [v["rule"] for v in record["violations"]] == ["governance-tampering"]
    assert "AdministratorAccess/mallory" in record["violations"][0]["message"]
    assert record["violations"][0]["message"].endswith(": done")
    (alert,) = world.notifications()
    assert alert["subject"].startswith("[tamper-detection] deny")


def test_a_denied_attempt_is_alerted_as_an_attempt(world: World, lambda_context: Any) -> None:
    tamper.handler(tamper_event("disable-rule", error_code="AccessDenied"), lambda_context)
    (record,) = world.audit_records()
    assert record["violations"][0]["message"].endswith("attempt denied (AccessDenied)")
    assert len(world.notifications()) == 1


@pytest.mark.parametrize(
    ("kind", "overrides"),
    [
        ("disable-rule", {"name": "team-nightly-report"}),
        ("function-code", {"functionName": "team-etl"}),
        ("boundary-version", {"policyArn": "arn:aws:iam::123456789012:policy/team-policy"}),
        ("object-lock", {"bucketName": "team-scratch"}),
        ("trail-stopped", {"name": "team-trail"}),
        ("drift-schedule-deleted", {"groupName": "team-reports"}),
        ("key-alias-deleted", {"aliasName": "alias/team-key"}),
        ("role-trust-rewritten", {"roleName": "team-etl"}),
        ("bus-permission-removed", {"eventBusName": "team-bus"}),
        ("role-policy-attached", {"roleName": "team-etl"}),
        ("key-alias-repointed", {"aliasName": "alias/team-key"}),
        ("alerts-unsubscribed", {"subscriptionArn": "arn:aws:sns:eu-west-1:123456789012:team-alerts:0c1f7a44"}),
        ("alerts-topic-deleted", {"topicArn": "arn:aws:sns:eu-west-1:123456789012:acme-governance-alerts-old"}),
        ("bucket-encryption-changed", {"bucketName": "team-scratch"}),
        ("alarms-deleted", {"alarmNames": ["team-latency", "team-errors"]}),
        ("alarm-changed", {"alarmName": "team-errors"}),
        ("metric-filter-deleted", {"logGroupName": "team-logs", "filterName": "team-filter"}),
        ("trail-log-group-deleted", {"logGroupName": "/aws/lambda/team-etl"}),
        ("trail-log-group-key-replaced", {"resourceIdentifier": "arn:aws:logs:eu-west-1:123456789012:log-group:team-logs:*"}),
        ("trail-log-group-key-removed", {"logGroupName": "team-logs"}),
        ("trail-log-group-retention-shortened", {"logGroupName": "/aws/lambda/team-etl"}),
        ("failed-events-dropped", {"functionName": "team-etl"}),
        # a team's own resources named with the organization's prefix: the blueprint's are known by name
        ("alarms-deleted", {"alarmNames": ["acme-team-latency", "acme-approval-gate-latency"]}),
        ("alarm-changed", {"alarmName": "acme-team-errors"}),
        ("metric-filter-deleted", {"logGroupName": "acme-team-logs", "filterName": "acme-team-filter"}),
        ("trail-log-group-deleted", {"logGroupName": "acme-team-logs"}),
        ("trail-log-group-retention-shortened", {"logGroupName": "/aws/lambda/acme-team-etl"}),
        ("role-trust-rewritten", {"roleName": "acme-team-etl"}),
        ("role-policy-attached", {"roleName": "acme-team-etl"}),
    ],
)
def test_the_same_calls_on_other_resources_are_recorded_as_allowed_without_alert(
    world: World, lambda_context: Any, kind: str, overrides: dict[str, Any]
) -> None:
    result = tamper.handler(tamper_event(kind, overrides=overrides), lambda_context)
    assert result["decision"] == "allow"
    assert world.notifications() == []


def test_a_key_without_a_governance_alias_is_not_tampering(world: World, lambda_context: Any) -> None:
    key = governance_key("alias/team-key")
    assert tamper.handler(tamper_event("key-deletion", overrides={"keyId": key}), lambda_context)["decision"] == "allow"


def test_the_documented_disable_key_sample_is_parsed(world: World, lambda_context: Any) -> None:
    """AWS's sample names a key moto does not know: the alias lookup fails, the event is retried (not dropped)."""
    from tests.events import load_event

    with pytest.raises(Exception, match=r"NotFound|not found|does not exist"):
        tamper.handler(load_event("cloudtrail_kms_disable_key"), lambda_context)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda e: e["detail"].pop("eventSource"), id="no-event-source"),
        pytest.param(lambda e: e.update(detail="DisableRule"), id="detail-is-a-string"),
        pytest.param(lambda e: e.pop("detail"), id="truncated"),
    ],
)
def test_a_malformed_event_is_recorded_as_undecidable_and_raised(world: World, lambda_context: Any, mutate: Any) -> None:
    event = tamper_event("disable-rule")
    mutate(event)
    with pytest.raises(MalformedEvent):
        tamper.handler(event, lambda_context)
    (record,) = world.audit_records()
    assert (record["rule_set"], record["decision"]) == ("tamper-detection", "undecidable")
    assert record["violations"][0]["message"].startswith("malformed event: ")
    assert len(world.notifications()) == 1


@pytest.mark.parametrize(("kind", "overrides", "event_name"), RENAMED_TAMPERING)
def test_a_governance_resource_named_another_way_is_still_tampering(
    world: World, lambda_context: Any, kind: str, overrides: dict[str, Any], event_name: str | None
) -> None:
    """The synthesized rule sends each of them to the handler too (tests/infra/test_event_routing.py)."""
    event = tamper_event(kind, overrides=overrides)
    if event_name is not None:
        event["detail"]["eventName"] = event_name
    result = tamper.handler(event, lambda_context)
    assert result["decision"] == "deny"
    assert len(world.notifications()) == 1


def test_a_version_suffix_is_taken_only_where_the_name_is_not_known() -> None:
    from policies.rules.tampering import call_name

    assert call_name("lambda.amazonaws.com", "PutFunctionEventInvokeConfig20190925") == "PutFunctionEventInvokeConfig"
    assert call_name("lambda.amazonaws.com", "UpdateFunctionCode20150331v2") == "UpdateFunctionCode20150331v2"
    assert call_name("lambda.amazonaws.com", "UpdateFunctionCode") == "UpdateFunctionCode"  # not a watched spelling
