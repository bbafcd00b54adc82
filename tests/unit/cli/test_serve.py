"""``dueflow serve`` as a user starts it: it prints where it listens, serves the page, its local users and
the API (a named local user only), moves the clock a day on request, and refuses what is not its to serve."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import borrower

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    book = tmp_path / "book.jsonl"
    book.write_text(borrower("L1").model_dump_json() + "\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "dueflow_local.cli", "serve", "--book", str(book), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "DueFlow workbench: http://127.0.0.1:" in line and "for local use only" in line, line
        yield line.split("http://", 1)[1].split("/", 1)[0]
    finally:
        process.terminate()
        process.wait(timeout=10)


def get(host: str, path: str, user: str | None = None, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://{host}{path}", method=method, headers={"X-Local-User": user} if user else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_dueflow_serve_serves_the_page_the_local_users_and_the_api(served: str) -> None:
    status, page = get(served, "/")
    assert status == 200 and b"DueFlow workbench" in page
    assert get(served, "/config.js")[1].startswith(b"window.DUEFLOW_CONFIG = {mode: 'local'")
    users = json.loads(get(served, "/local/users")[1])["users"]
    assert {u["user"]: u["groups"] for u in users}["sup1"] == ["supervisor"]
    status, body = get(served, "/api/cases", user="sup1")
    assert status == 200 and [c["case_id"] for c in json.loads(body)["cases"]] == ["L1-2026-06-15"]
    assert get(served, "/api/cases", user="mallory")[0] == 401  # not a local user: no identity at all
    assert get(served, "/api/cases")[0] == 401
    assert get(served, "/../../etc/passwd")[0] == 404
    before = json.loads(get(served, "/local/clock")[1])["day"]
    after = json.loads(get(served, "/local/advance", method="POST")[1])["day"]
    assert (before, after) == ("2026-06-17", "2026-06-18")
