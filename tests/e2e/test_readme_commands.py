"""Every command the README shows runs as written: the CLI block of "Using the CLI" and the quick path,
each in a fresh folder, in order (later commands read what earlier ones wrote). Books and runs larger
than a test needs are made smaller (fewer loans and days); nothing else is changed."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCALE = {"--generate": 60, "--loans": 300, "--days": 20}  # at most this many in a test


def readme_commands() -> list[str]:
    """The quick path, then each command of the CLI block (continuation lines joined, comments cut)."""
    quick = re.search(r"`(\.venv/bin/dueflow simulate --generate[^`]*quick-out)`", README)
    assert quick is not None, "the README's quick path"
    block = README.split("## Using the CLI", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    joined = re.sub(r"\\\n\s*", "", block)
    commands = [quick.group(1).replace("\n", " ")]
    for line in joined.splitlines():
        command = re.split(r"\s+#", line, maxsplit=1)[0].strip()
        if command:
            commands.append(command)
    return commands


def smaller(argv: list[str]) -> list[str]:
    out = list(argv)
    for index, word in enumerate(out[:-1]):
        if word in SCALE and out[index + 1].isdigit():
            out[index + 1] = str(min(int(out[index + 1]), SCALE[word]))
    return out


def test_the_readme_shows_real_commands_only() -> None:
    commands = readme_commands()
    assert len(commands) >= 15
    for command in commands:
        assert command.startswith(".venv/bin/dueflow "), command
        assert "|" not in shlex.split(command), command  # no "-h | --version" read as a pipe


def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "events").symlink_to(ROOT / "events")
    env = {**os.environ, "COLUMNS": "200"}
    dueflow = str(Path(sys.executable).parent / "dueflow")
    for command in readme_commands():
        argv = shlex.split(command)
        if "case" in argv and "show" in argv:
            # the run here is smaller than the README's: show the first case it has
            listed = subprocess.run(
                [dueflow, "case", "list", "--run", "sim-out", "--json"],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                check=True,
            )
            argv[argv.index("show") + 1] = json.loads(listed.stdout)["cases"][0]["case_id"]
        argv = smaller([dueflow, *argv[1:]])
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600, check=False)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
