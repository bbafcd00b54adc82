"""Services and the domain engine talk to ports, never to an AWS SDK."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "dueflow_core" / "python" / "dueflow"
SDKS = ("boto3", "botocore", "aiobotocore", "moto")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_aws_sdk_import_under_services_or_domain() -> None:
    files = sorted((PACKAGE / "services").rglob("*.py")) + sorted((PACKAGE / "domain").rglob("*.py"))
    assert len(files) > 10
    offenders = {
        str(f.relative_to(PACKAGE)): sorted(m for m in imported_modules(f) if m.split(".")[0] in SDKS) for f in files
    }
    assert {f: m for f, m in offenders.items() if m} == {}


def test_importing_every_service_loads_no_aws_sdk() -> None:
    """Not even through an adapter: a service module imports ports and pure code only."""
    modules = [f"dueflow.services.{p.stem}" for p in (PACKAGE / "services").glob("*.py") if p.stem != "__init__"]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(sorted(m for m in sys.modules if m.split('.')[0] in {SDKS!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    assert result.stdout.strip() == "[]", result.stdout
