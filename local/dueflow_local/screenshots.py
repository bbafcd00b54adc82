"""Screenshots of a finished run for the docs, taken by a real headless Chromium: the report at desktop
(1400 px) and phone (390 px) width, and ``dueflow case show`` of one case (rendered to HTML by rich, as
the terminal shows it). ``python -m dueflow_local.screenshots --run demo-out --loan L00000036``."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from rich.console import Console

from dueflow.settings import Settings
from dueflow_local.timeline import case_timeline, render_timeline

DOCS = Path(__file__).resolve().parents[2] / "docs" / "images"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no Chromium on PATH: apt-get install chromium")


def shoot(page: Path, out: Path, width: int, height: int) -> None:
    subprocess.run(  # noqa: S603 - our own arguments: the browser found on PATH, local files
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def case_page(run: Path, loan_id: str, out: Path) -> None:
    import json

    cases = [json.loads(line) for line in (run / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    console = Console(record=True, width=150, file=open("/dev/null", "w"))  # noqa: SIM115
    for case in (c for c in cases if c["loan_id"] == loan_id):
        render_timeline(console, case_timeline(run, case, Settings().time_zone))
    out.write_text(console.export_html(), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", type=Path, default=Path("demo-out"))
    parser.add_argument("--loan", default="L00000036")
    args = parser.parse_args()
    DOCS.mkdir(parents=True, exist_ok=True)
    shoot(args.run / "report.html", DOCS / "report-desktop.png", 1400, 2600)
    shoot(args.run / "report.html", DOCS / "report-phone.png", 390, 2400)
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "case.html"
        case_page(args.run, args.loan, page)
        shoot(page, DOCS / "case-show.png", 1400, 1500)
    print(f"wrote {', '.join(p.name for p in sorted(DOCS.glob('*.png')))} to {DOCS}")


if __name__ == "__main__":
    main()
