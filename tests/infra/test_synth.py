"""The operator's commands work offline: ``python app.py``, ``npx cdk synth``, and cfn-lint passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


def test_python_app_py_synthesizes_a_template_that_cfn_lint_accepts(tmp_path: Path) -> None:
    # Given a clean output folder, When the app is run the way `cdk synth` runs it
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={**ENV, "CDK_OUTDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    template = tmp_path / "DueFlow-dev.template.json"
    assert json.loads(template.read_text())["Resources"]
    # Then cfn-lint finds no errors (warnings, level W, are reported but allowed)
    lint = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "json", str(template)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings = json.loads(lint.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], errors


def test_npx_cdk_synth_works_offline(tmp_path: Path) -> None:
    assert (ROOT / "node_modules" / ".bin" / "cdk").exists(), "make's install step runs `npm ci`"
    result = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--output", str(tmp_path)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "DueFlow-dev.template.json").exists()
