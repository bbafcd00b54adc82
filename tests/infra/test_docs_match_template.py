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
