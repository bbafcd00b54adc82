"""The screenshots the README shows exist, at the widths they claim (a desktop and a phone), and are
referenced (python -m dueflow_local.screenshots takes them from a run with headless Chromium)."""

from __future__ import annotations

import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_report_and_case_screenshots_are_there_and_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, width in (("report-desktop.png", 1400), ("report-phone.png", 390), ("case-show.png", 1400)):
        path = ROOT / "docs" / "images" / name
        assert png_size(path)[0] == width
        assert path.stat().st_size > 20_000  # a rendered page, not a blank
        assert f"docs/images/{name}" in readme
