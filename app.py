#!/usr/bin/env python3
"""CDK entry point: ``npx cdk synth`` / ``npx cdk deploy -c env=prod``. Assembly only; see infra/."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "dueflow_core" / "python")]

from infra.app_builder import build_app  # noqa: E402

app, _ = build_app()
app.synth()
