"""docs/architecture.md's deployment diagram names what the synthesized template deploys."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Template

DOC = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
DIAGRAM = DOC.split("## The deployment", 1)[1].split("```mermaid", 1)[1].split("```", 1)[0]


def test_every_function_table_schedule_and_queue_of_the_template_is_in_the_diagram(template: Template) -> None:
    prefix = "dueflow-dev-"
    names = []
    for fn in template.find_resources("AWS::Lambda::Function").values():
        name = str(fn["Properties"].get("FunctionName", ""))
        if name.startswith(prefix):
            names.append(name.removeprefix(prefix))
    for logical, table in template.find_resources("AWS::DynamoDB::GlobalTable").items():
        names.append(logical[len("Data") : -8].lower())  # DataLoans1A2B3C4D: CloudFormation names the table
        names += [index["IndexName"] for index in table["Properties"].get("GlobalSecondaryIndexes", [])]
    for schedule in template.find_resources("AWS::Scheduler::Schedule").values():
        names.append(schedule["Properties"]["Name"].removeprefix(prefix))
    assert len(names) >= 15
    missing = [name for name in names if name not in DIAGRAM]
    assert missing == []
    for kind, label in (
        ("AWS::SQS::Queue", "SQS"),
        ("AWS::WAFv2::WebACL", "WAF"),
        ("AWS::Cognito::UserPool", "Cognito"),
        ("AWS::StepFunctions::StateMachine", "Step Functions"),
        ("AWS::CloudWatch::Dashboard", "dashboard"),
        ("AWS::S3::Bucket", "Object Lock"),
    ):
        assert template.find_resources(kind) and label in DIAGRAM, kind


def test_every_alarm_of_the_template_has_a_runbook_line_in_docs_deploy_md() -> None:
    from infra.constructs.compute import SPECS
    from tests.infra.conftest import synth

    deploy = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    runbook = deploy.split("## Alarms and the runbook", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in runbook.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in row.split(" | ", 1)[0].strip("| ").replace("`", "").split(", ")}
    _, template = synth({"dueflow": {"defaults": {"alarm_email": "oncall@example.com"}}})  # with every queue
    alarms = [a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    assert len(alarms) >= 30
    from dueflow_local.cost import Assumptions

    assert Assumptions().alarms == len(alarms)  # the cost model prices the alarms deployed
    functions = {spec.name for spec in SPECS}
    missing = []
    for alarm in alarms:
        name = alarm.removeprefix("dueflow-dev-")
        function, _, kind = name.rpartition("-")
        if function in functions and kind in ("errors", "throttles"):
            name = f"<function>-{kind}"
        if name not in named:
            missing.append(alarm)
    assert missing == []
    # and every line of the runbook is an alarm the template has (no stale line)
    deployed = {a.removeprefix("dueflow-dev-") for a in alarms}
    generic = {n for n in named if n.startswith("<function>-")}
    assert named - generic <= deployed
    assert all(any(a.endswith(n.removeprefix("<function>")) for a in deployed) for n in generic)
