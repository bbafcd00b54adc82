"""What the synthesized CloudFormation template deploys, asserted resource by resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from infra.stack import DueFlowStack
from tests.infra.conftest import ROUTED, synth, with_prod

ROOT = Path(__file__).resolve().parents[2]


def resources(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def test_every_symmetric_kms_key_rotates_and_the_signing_key_signs_only(template: Template) -> None:
    keys = resources(template, "AWS::KMS::Key")
    symmetric = {k: v for k, v in keys.items() if "KeySpec" not in v["Properties"]}
    assert len(symmetric) == 3  # data, pii, audit
    assert all(key["Properties"]["EnableKeyRotation"] is True for key in symmetric.values())
    assert all(key["DeletionPolicy"] == "Retain" for key in keys.values())
    (signing,) = (v for k, v in keys.items() if k not in symmetric)  # the audit digests' signing key
    assert signing["Properties"]["KeySpec"] == "ECC_NIST_P256" and signing["Properties"]["KeyUsage"] == "SIGN_VERIFY"


def test_tables_are_encrypted_recoverable_protected_and_retained(template: Template) -> None:
    tables = resources(template, "AWS::DynamoDB::GlobalTable")
    assert len(tables) == 3
    for table in tables.values():
        props = table["Properties"]
        assert table["DeletionPolicy"] == "Retain"
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["SSESpecification"]["SSEType"] == "KMS"
        replica = props["Replicas"][0]
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert replica["DeletionProtectionEnabled"] is True
        assert "KMSMasterKeyId" in replica["SSESpecification"]


def _table(template: Template, name_suffix: str) -> dict[str, Any]:
    """A table by kind (CloudFormation names the tables: their logical ids say which is which)."""
    logical = "Data" + name_suffix.removeprefix("-").title()
    for lid, table in resources(template, "AWS::DynamoDB::GlobalTable").items():
        if lid.startswith(logical):
            return table["Properties"]  # type: ignore[no-any-return]
    raise AssertionError(f"no table {logical}*")


def _gsi(props: dict[str, Any], name: str) -> list[tuple[str, str]]:
    for index in props["GlobalSecondaryIndexes"]:
        if index["IndexName"] == name:
            return [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
    raise AssertionError(f"no index {name}")


def test_loans_table_streams_both_images_and_has_the_sharded_due_index(template: Template) -> None:
    loans = _table(template, "-loans")
    assert loans["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert _gsi(loans, "due-index") == [("due_shard", "HASH"), ("next_due_date", "RANGE")]


def test_cases_and_outbox_have_their_sparse_sharded_indexes(template: Template) -> None:
    cases = _table(template, "-cases")
    assert _gsi(cases, "wake-index") == [("wake_shard", "HASH"), ("wake_on", "RANGE")]
    assert _gsi(cases, "loan-index") == [("loan_id", "HASH"), ("opened_on", "RANGE")]
    outbox = _table(template, "-outbox")
    assert _gsi(outbox, "pending-index") == [("pending_shard", "HASH"), ("not_before", "RANGE")]


def test_there_are_exactly_the_three_tables_and_the_outbox_expires_by_ttl(template: Template) -> None:
    names = sorted(lid[len("Data") : -8].lower() for lid in resources(template, "AWS::DynamoDB::GlobalTable"))
    assert names == ["cases", "loans", "outbox"]
    outbox = _table(template, "-outbox")
    assert outbox["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def _audit_bucket(template: Template) -> dict[str, Any]:
    locked = [b for b in resources(template, "AWS::S3::Bucket").values() if b["Properties"].get("ObjectLockEnabled")]
    assert len(locked) == 1
    return locked[0]


def test_audit_bucket_is_locked_in_compliance_mode_for_the_retention(
    template: Template, dev: tuple[DueFlowStack, Template]
) -> None:
    bucket = _audit_bucket(template)
    props = bucket["Properties"]
    years = dev[0].settings.audit_retention_years
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 365 * years}},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] == "Retain"


def test_audit_bucket_encryption_public_access_logging_and_lifecycle(template: Template) -> None:
    props = _audit_bucket(template)["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "DestinationBucketName" in props["LoggingConfiguration"]
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 90}]


def test_audit_records_are_written_once_and_never_deleted_whoever_asks(template: Template) -> None:
    """Beyond Object Lock (which keeps every version): no unconditional write could put a new current
    version over a record, and no delete marker could hide one."""
    policies = resources(template, "AWS::S3::BucketPolicy")
    statements = {s.get("Sid"): s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]}
    write_once = statements["AuditRecordsAreWrittenOnce"]
    assert (write_once["Effect"], write_once["Principal"], write_once["Action"]) == (
        "Deny",
        {"AWS": "*"},
        "s3:PutObject",
    )
    assert write_once["Condition"] == {"Null": {"s3:if-none-match": "true"}}
    never_deleted = statements["AuditRecordsAreNeverDeleted"]
    assert never_deleted["Effect"] == "Deny" and never_deleted["Principal"] == {"AWS": "*"}
    assert sorted(never_deleted["Action"]) == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    for statement in (write_once, never_deleted):
        assert "/cases/*" in json.dumps(statement["Resource"])


def test_every_bucket_refuses_plain_http(template: Template) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    policies = resources(template, "AWS::S3::BucketPolicy")
    assert len(policies) == len(buckets) == 4  # audit records, access logs, the site's pages, CloudFront's logs
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )


def test_topics_are_encrypted_and_ssl_only(template: Template) -> None:
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 2
    assert all("KmsMasterKeyId" in t["Properties"] for t in topics.values())
    policies = resources(template, "AWS::SNS::TopicPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s["Condition"]) for s in statements)


def test_ses_configuration_set_sends_bounces_and_complaints_to_sns(template: Template) -> None:
    template.resource_count_is("AWS::SES::ConfigurationSet", 1)
    template.has_resource_properties(
        "AWS::SES::ConfigurationSetEventDestination",
        {
            "EventDestination": Match.object_like(
                {
                    "Enabled": True,
                    "MatchingEventTypes": Match.array_with(["bounce", "complaint"]),
                    "SnsDestination": Match.any_value(),
                }
            )
        },
    )
    template.has_resource_properties(
        "AWS::SES::EmailIdentity",
        {"EmailIdentity": "collections@example.com", "ConfigurationSetAttributes": Match.any_value()},
    )


def _sms_attributes(template: Template) -> str:
    (custom,) = resources(template, "Custom::AWS").values()
    text = json.dumps(custom["Properties"]["Create"])
    assert "setSMSAttributes" in text and json.dumps(custom["Properties"]["Update"]) == text
    return text


def test_the_sms_spend_limit_is_set_only_when_a_setting_asks_and_delivery_status_is_always_logged(
    dev: tuple[DueFlowStack, Template], prod: tuple[DueFlowStack, Template]
) -> None:
    """A new account's SMS quota is 1 USD: a limit above it fails the first create, so the stack sets
    none until the setting is given (after the quota increase, docs/deploy.md)."""
    for _, template in (dev, prod):
        text = _sms_attributes(template)
        assert "MonthlySpendLimit" not in text
        assert '\\"DeliveryStatusSuccessSamplingRate\\":\\"10\\"' in text
        assert "DeliveryStatusIAMRole" in text and "SmsDeliveryStatusRole" in text
    _, raised = synth(
        {"env": "prod", "dueflow": _with(sms_monthly_spend_limit_usd=2000, alarm_email="oncall@bank.example")}
    )
    assert '\\"MonthlySpendLimit\\":\\"2000\\"' in _sms_attributes(raised)


def _with(**values: Any) -> dict[str, Any]:
    """The cdk.json context of this clone with ``values`` added to the defaults."""
    context = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]["dueflow"]
    return {**context, "defaults": {**context["defaults"], **values}}


def test_staff_pool_requires_mfa_admin_created_users_and_has_the_five_role_groups(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "MfaConfiguration": "ON",
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "Policies": {"PasswordPolicy": Match.object_like({"MinimumLength": 14})},
        },
    )
    groups = sorted(g["Properties"]["GroupName"] for g in resources(template, "AWS::Cognito::UserPoolGroup").values())
    assert groups == ["agent", "auditor", "collections_manager", "legal", "supervisor"]


def _statements(template: Template) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kind in ("AWS::IAM::Policy", "AWS::IAM::Role"):
        for resource in resources(template, kind).values():
            props = resource["Properties"]
            docs = [props.get("PolicyDocument")] + [p["PolicyDocument"] for p in props.get("Policies", [])]
            for doc in filter(None, docs):
                out.extend(doc["Statement"])
    return out


def test_no_iam_statement_grants_a_wildcard_action(template: Template) -> None:
    statements = _statements(template)
    assert statements
    for statement in statements:
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            assert action != "*" and not action.endswith(":*"), statement


def test_dev_and_prod_differ_only_in_settings(
    dev: tuple[DueFlowStack, Template], prod: tuple[DueFlowStack, Template]
) -> None:
    assert (dev[0].stack_name, prod[0].stack_name) == ("DueFlow-dev", "DueFlow-prod")
    dev_types = sorted(r["Type"] for r in dev[1].to_json()["Resources"].values())
    prod_types = sorted(r["Type"] for r in prod[1].to_json()["Resources"].values())
    assert dev_types == prod_types
    assert prod[0].settings.audit_retention_years == 5 and dev[0].settings.audit_retention_years == 1


def test_an_unacknowledged_nag_finding_fails_synthesis() -> None:
    # Given the real stack plus one bucket that breaks AwsSolutions rules (no SSL policy, no access logs)
    from aws_cdk import App, Environment, Validations
    from cdk_nag import AwsSolutionsChecks

    from dueflow.settings import Settings

    app = App()
    stack = Stack(app, "Probe", env=Environment(region=Settings().region))
    s3.Bucket(stack, "Careless")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # When it is synthesized, Then validation fails naming the rule
    with pytest.raises(Exception, match="ValidationFailed"):
        Template.from_stack(stack)


def test_settings_context_overrides_defaults() -> None:
    stack, template = synth(
        {
            "env": "prod",
            "dueflow": {"defaults": {"sender_email": "dun@bank.example", "alarms_routed_elsewhere": ROUTED}},
        }
    )
    assert stack.settings.sender_email == "dun@bank.example"
    template.has_resource_properties("AWS::SES::EmailIdentity", {"EmailIdentity": "dun@bank.example"})


def _document_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document.get("Statement", []))


def test_alarms_can_publish_to_the_encrypted_internal_topic(template: Template) -> None:
    """The internal topic is encrypted with the data key: CloudWatch must be let use it, or every alarm
    action fails to publish."""
    topics = resources(template, "AWS::SNS::Topic")
    internal = next(t for t in topics.values() if str(t["Properties"]["TopicName"]).endswith("-internal"))
    key_ref = internal["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    policy = resources(template, "AWS::KMS::Key")[key_ref]["Properties"]["KeyPolicy"]
    cloudwatch = [
        s
        for s in _document_statements(policy)
        if "cloudwatch.amazonaws.com" in _list(s.get("Principal", {}).get("Service"))
    ]
    assert cloudwatch and {"kms:GenerateDataKey*", "kms:Decrypt"} <= set(cloudwatch[0]["Action"])


def test_the_alarm_email_from_settings_is_subscribed_to_the_internal_topic() -> None:
    _, without = synth()
    assert resources(without, "AWS::SNS::Subscription") == {}
    _, template = synth({"dueflow": {"defaults": {"alarm_email": "oncall@bank.example"}, "environments": {}}})
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "oncall@bank.example"})


def test_a_failed_scheduled_invocation_can_reach_the_encrypted_dead_letter_queue(template: Template) -> None:
    schedules = resources(template, "AWS::Scheduler::Schedule")
    roles = {json.dumps(s["Properties"]["Target"]["RoleArn"]) for s in schedules.values()}
    assert len(schedules) == 2 and len(roles) == 1  # one target role for both
    role = json.loads(roles.pop())["Fn::GetAtt"][0]
    policies = [
        p for p in resources(template, "AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
    ]
    statements = [s for p in policies for s in _document_statements(p["Properties"]["PolicyDocument"])]
    actions = {a for s in statements for a in _list(s["Action"])}
    assert {"kms:GenerateDataKey", "kms:Decrypt", "sqs:SendMessage", "lambda:InvokeFunction"} <= actions


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_only_the_break_glass_role_may_delete_or_disable_the_audit_keys(
    template: Template, dev: tuple[DueFlowStack, Template]
) -> None:
    stack = dev[0]
    keys = resources(template, "AWS::KMS::Key")
    for key in (stack.keys.audit, stack.keys.signing):
        policy = keys[stack.get_logical_id(key.node.default_child)]["Properties"]["KeyPolicy"]  # type: ignore[arg-type]
        (deny,) = [s for s in _document_statements(policy) if s["Effect"] == "Deny"]
        assert deny["Principal"] == {"AWS": "*"}
        assert sorted(_list(deny["Action"])) == ["kms:DisableKey", "kms:ScheduleKeyDeletion"]
        role = deny["Condition"]["StringNotEquals"]["aws:PrincipalArn"]
        assert role == {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":role/dueflow-break-glass"],
            ]
        }


def test_the_iam_signed_routes_admit_only_the_payment_feed_role(template: Template) -> None:
    (api,) = resources(template, "AWS::ApiGateway::RestApi").values()
    statements = _document_statements(api["Properties"]["Policy"])
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Resource"] == "execute-api:/*"  # staff routes: a Cognito token is still required
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert sorted(_list(deny["Resource"])) == [
        "execute-api:/*/POST/cases/*/plan-acceptance",
        "execute-api:/*/POST/loans/*/payments",
    ]
    feed = deny["Condition"]["StringNotEquals"]["aws:PrincipalArn"]
    assert json.dumps(feed).endswith('":role/dueflow-payment-feed"]]}')


def test_no_retained_resource_has_a_fixed_physical_name(template: Template) -> None:
    """A retained resource with a fixed name outlives a failed first create and blocks the redeploy:
    CloudFormation names them (the functions get the table names in their environment)."""
    unique_names = ("TableName", "LogGroupName", "BucketName", "QueueName", "TopicName", "AliasName", "RoleName")
    retained = [r for r in template.to_json()["Resources"].values() if r.get("DeletionPolicy") == "Retain"]
    assert len(retained) >= 15
    named = [(r["Type"], k) for r in retained for k in r.get("Properties", {}) if k in unique_names]
    assert named == []
    tables = [r for r in retained if r["Type"] == "AWS::DynamoDB::GlobalTable"]
    for fn in template.find_resources("AWS::Lambda::Function").values():
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        if "DUEFLOW_SETTINGS" in variables:
            assert {json.dumps(variables[k]) for k in ("LOANS_TABLE", "CASES_TABLE", "OUTBOX_TABLE")} <= {
                json.dumps({"Ref": lid}) for lid, r in template.to_json()["Resources"].items() if r in tables
            }


def test_every_arn_takes_the_stacks_partition_so_china_regions_work(template: Template) -> None:
    """``arn:aws:`` written out would break in aws-cn (a PRC bank's China regions): every ARN the
    template builds, the state machine's service integrations included, uses the partition token."""
    text = json.dumps(template.to_json())
    assert "arn:aws:" not in text and "arn:aws-cn:" not in text
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    for index, part in enumerate(parts):
        if isinstance(part, str) and part.startswith(":states:::lambda:invoke"):
            assert parts[index - 1] == {"Ref": "AWS::Partition"} and parts[index - 2].endswith('"arn:')
    assert sum(isinstance(p, str) and p.startswith(":states:::lambda:invoke") for p in parts) >= 10


def test_a_deployment_outside_dev_without_an_on_call_subscription_is_refused_naming_the_settings() -> None:
    with pytest.raises(ValueError, match=r"alarm_email.*alarms_routed_elsewhere.*environments\.prod"):
        synth({"env": "prod"})
    _, template = synth({"env": "prod", "dueflow": with_prod(alarms_routed_elsewhere=ROUTED)})
    assert template.find_resources("AWS::CloudWatch::Alarm")
    assert not template.find_resources("AWS::SNS::Subscription")  # no address here: routed by the bank
