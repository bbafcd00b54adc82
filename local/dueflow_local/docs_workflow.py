"""Regenerate the state machine diagram in docs/workflow.md from the definition CDK deploys.

Run: ``.venv/bin/python -m dueflow_local.docs_workflow``. A test fails when the doc is stale.
"""

from __future__ import annotations

from pathlib import Path

from dueflow.settings import Settings
from dueflow.workflow.definition import Functions, build_definition
from dueflow.workflow.diagram import mermaid

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"
BEGIN = "<!-- state machine diagram: generated -->"
END = "<!-- end of generated diagram -->"


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    diagram = mermaid(build_definition(Functions("case_stage", "case_wait"), Settings()))
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n```mermaid\n{diagram}```\n{END}{tail}", encoding="utf-8")
    print(f"updated {DOC}")


if __name__ == "__main__":
    main()
