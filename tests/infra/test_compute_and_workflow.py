"""Functions, the state machine, schedules, the API and observability in the synthesized template."""

from __future__ import annotations

import json
import sys
from typing import Any

from aws_cdk.assertions import Match, Template

from dueflow.settings import Settings
from dueflow.workflow.definition import Functions, build_definition
from infra.app_builder import project_context
from infra.constructs.compute import SPECS
from infra.stack import DueFlowStack


def resources(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def our_functions(template: Template) -> dict[str, Any]:
    return {
        r["Properties"]["FunctionName"]: r
        for r in resources(template, "AWS::Lambda::Function").values()
        if str(r["Properties"].get("FunctionName", "")).startswith("dueflow-")
    }


def test_every_function_folder_is_deployed_on_the_tested_python_with_tracing_and_its_own_role(
    template: Template,
) -> None:
    functions = our_functions(template)
    assert sorted(functions) == sorted(f"dueflow-dev-{s.name}" for s in SPECS)
    roles = set()
    for fn in functions.values():
        props = fn["Properties"]
        assert props["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"  # this test's
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert len(props["Layers"]) == 2
        assert "DUEFLOW_SETTINGS" in props["Environment"]["Variables"]
        roles.add(json.dumps(props["Role"]))
    assert len(roles) == len(functions)  # one role per function


def _policy_of(template: Template, function: str) -> list[dict[str, Any]]:
    fn = our_functions(template)[f"dueflow-dev-{function}"]
    role_ref = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_ref} in policy["Properties"].get("Roles", []):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for s in statements:
        out |= {s["Action"]} if isinstance(s["Action"], str) else set(s["Action"])
    return out


def test_only_the_dispatcher_and_the_api_may_decrypt_pii(
    template: Template, dev: tuple[DueFlowStack, Template]
) -> None:
    pii_key = dev[0].get_logical_id(dev[0].keys.pii.node.default_child)  # type: ignore[arg-type]
    readers = set()
    for spec in SPECS:
        for statement in _policy_of(template, spec.name):
            if "kms:Decrypt" in _actions([statement]) and pii_key in json.dumps(statement["Resource"]):
                readers.add(spec.name)
    assert readers == {"outbox_dispatcher", "api"}


def test_only_the_dispatcher_sends_sms_and_email(template: Template) -> None:
    for spec in SPECS:
        actions = _actions(_policy_of(template, spec.name))
        assert ("ses:SendEmail" in actions) == (spec.name == "outbox_dispatcher")


def test_the_state_machine_is_the_shared_definition_logged_at_all_and_traced(template: Template) -> None:
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["TracingConfiguration"] == {"Enabled": True}
    parts = props["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "ARN" for p in parts)
    deployed = json.loads(text)
    expected = build_definition(Functions("ARN", "ARN"), Settings())
    assert list(deployed["States"]) == list(expected["States"])


def test_failed_timed_out_and_aborted_executions_alarm_the_internal_topic(template: Template) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    names = {a["Properties"]["MetricName"] for a in alarms if a["Properties"].get("Namespace") == "AWS/States"}
    assert names == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted", "ExecutionThrottled"}
    assert all(a["Properties"]["AlarmActions"] for a in alarms)


def test_the_daily_scan_runs_at_02_00_shanghai_with_retries_and_a_dead_letter_queue(template: Template) -> None:
    schedules = {
        s["Properties"]["Name"]: s["Properties"] for s in resources(template, "AWS::Scheduler::Schedule").values()
    }
    scan = schedules["dueflow-dev-daily-scan"]
    assert scan["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert scan["ScheduleExpressionTimezone"] == "Asia/Shanghai"
    assert scan["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert "Arn" in json.dumps(scan["Target"]["DeadLetterConfig"])
    assert schedules["dueflow-dev-outbox-dispatcher"]["ScheduleExpression"] == "rate(15 minutes)"


def test_reserved_concurrency_is_sized_from_the_shards_one_invocation_per_shard(template: Template) -> None:
    functions = our_functions(template)
    shards = Settings.from_context(project_context()["dueflow"], "dev").index_shards
    assert functions["dueflow-dev-outbox_dispatcher"]["Properties"]["ReservedConcurrentExecutions"] == shards + 1
    assert functions["dueflow-dev-scan"]["Properties"]["ReservedConcurrentExecutions"] == 2 * shards + 1


def test_the_api_uses_cognito_for_staff_and_iam_for_systems_with_validation_and_logging(template: Template) -> None:
    methods = resources(template, "AWS::ApiGateway::Method").values()
    kinds = sorted(m["Properties"]["AuthorizationType"] for m in methods if m["Properties"]["HttpMethod"] != "OPTIONS")
    assert kinds.count("AWS_IAM") == 2 and kinds.count("COGNITO_USER_POOLS") == 23
    assert all("RequestValidatorId" in m["Properties"] for m in methods if m["Properties"]["HttpMethod"] != "OPTIONS")
    # the CORS preflights answer the browser from API Gateway itself (a MOCK), never the function
    preflights = [m for m in methods if m["Properties"]["HttpMethod"] == "OPTIONS"]
    assert preflights and all(m["Properties"]["Integration"]["Type"] == "MOCK" for m in preflights)
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "TracingEnabled": True,
            "MethodSettings": Match.array_with(
                [Match.object_like({"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100, "DataTraceEnabled": False})]
            ),
        },
    )
    template.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)


def test_the_dashboard_shows_cases_stages_contacts_and_failures(template: Template) -> None:
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in (
        "Cases opened and closed per day",
        "Cases entering each stage per day",
        "Contacts sent per channel",
        "Failures",
    ):
        assert title in body
    for metric in ("CasesOpened", "CasesClosed", "StageEntered", "MessagesSent"):
        assert metric in body


def test_the_payment_stream_reports_partial_failures_to_a_queue(template: Template) -> None:
    (mapping,) = resources(template, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert "OnFailure" in props["DestinationConfig"]


def test_the_dispatcher_publishes_to_phone_numbers_and_the_internal_topic_only(
    template: Template, dev: tuple[DueFlowStack, Template]
) -> None:
    topic = dev[0].get_logical_id(dev[0].messaging.internal.node.default_child)  # type: ignore[arg-type]
    publishing = [s for s in _policy_of(template, "outbox_dispatcher") if "sns:Publish" in _actions([s])]
    assert all(s["Effect"] == "Allow" for s in publishing)
    assert [s["Resource"] for s in publishing if "Resource" in s] == [{"Ref": topic}]
    (not_topics,) = [s["NotResource"] for s in publishing if "NotResource" in s]
    assert not_topics == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sns:*:*:*"]]}
    for spec in SPECS:  # no function may publish to "*" (any topic of the account)
        for statement in _policy_of(template, spec.name):
            if "sns:Publish" in _actions([statement]):
                assert statement.get("Resource") != "*"


def test_no_function_may_batch_write_and_only_the_api_reads_audit_records(
    template: Template, dev: tuple[DueFlowStack, Template]
) -> None:
    audit_key = dev[0].get_logical_id(dev[0].keys.audit.node.default_child)  # type: ignore[arg-type]
    readers, decrypters = set(), set()
    for spec in SPECS:
        statements = _policy_of(template, spec.name)
        assert "dynamodb:BatchWriteItem" not in _actions(statements)
        for statement in statements:
            resource = json.dumps(statement.get("Resource"))
            if "s3:GetObject" in _actions([statement]) and "/cases/*" in resource:
                readers.add(spec.name)
            if "kms:Decrypt" in _actions([statement]) and audit_key in resource:
                decrypters.add(spec.name)
        variables = our_functions(template)[f"dueflow-dev-{spec.name}"]["Properties"]["Environment"]["Variables"]
        assert variables["AUDIT_READER"] == ("true" if spec.name == "api" else "false")
    assert readers == {"api"}
    assert decrypters == {"api", "scan"}  # the scan reads the day before's signed digest, not records


def test_the_layers_are_for_the_tested_python_and_their_wheels_built_for_it(template: Template) -> None:
    from infra.constructs.compute import DEPS_LAYER

    tested = f"python{sys.version_info.major}.{sys.version_info.minor}"
    # ours (the AWS CLI layer is CDK's, for the BucketDeployment that publishes the workbench's page)
    layers = [v for k, v in resources(template, "AWS::Lambda::LayerVersion").items() if "AwsCli" not in k]
    assert layers and all(layer["Properties"]["CompatibleRuntimes"] == [tested] for layer in layers)
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}-"
    compiled = [p.name for p in (DEPS_LAYER / "python").rglob("*.so") if "cpython-" in p.name]
    assert compiled  # pydantic-core, cryptography's rust bindings...
    assert [name for name in compiled if tag not in name] == []
