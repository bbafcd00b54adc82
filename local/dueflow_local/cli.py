"""The ``dueflow`` command line: book validation, statements, the portfolio picture, simulation runs and
what they leave behind.

Conventions: ``-h``/``--help`` and ``--version``; ``--json`` on every command that reports (one JSON
object on stdout); ``--out`` is always a folder or file a command writes, ``--run`` a finished run's
folder a command reads; errors are one ``Error: ...`` line on stderr. Exit codes (``EXIT_CODES``): 0 done;
1 a check failed (bad book lines in ``book validate``, an invariant, an audit chain, a loan or case not
found); 2 a usage error (a bad option or value, a non-empty ``--out``); 3 done, but some input lines were
rejected (each listed on stderr).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from dueflow.domain.book import Book, iter_jsonl, read_book
from dueflow.domain.money import fmt
from dueflow.domain.portfolio import Portfolio, assess_portfolio
from dueflow.domain.position import Position, WarningPolicy, assess
from dueflow.domain.statement import statement_dict

EXIT_CODES = {
    0: "done",
    1: "a check failed (bad lines in book validate, an invariant, an audit chain, not found)",
    2: "usage error (a bad option or value, a non-empty --out without --replace)",
    3: "done, but some input lines were rejected (listed on stderr)",
}
EXIT_REJECTED = 3
_EPILOG = "Exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items()) + "."
_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


def _typer(help_text: str) -> typer.Typer:
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,  # plain click errors: "Error: ..." like ours, no boxes
        context_settings=_SETTINGS,
        epilog=_EPILOG,
    )


app = _typer("DueFlow: overdue-loan collection, run locally.")
book_app = _typer("Loan books (JSON Lines, one loan per line).")
app.add_typer(book_app, name="book")
case_app = _typer("Cases of a finished simulation run (--run FOLDER).")
app.add_typer(case_app, name="case")
audit_app = _typer("The audit records a run left behind (--run FOLDER).")
app.add_typer(audit_app, name="audit")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"dueflow {version('dueflow')}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """DueFlow: overdue-loan collection, run locally."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``Error: message`` on stderr (one style for every error) and return the Exit to raise."""
    err.print(f"Error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")


# Wide enough for statements when the output is a file or a CI log rather than a terminal.
# off a terminal (CI, a pipe, a file) a line of text is never wrapped (whoever reads it greps whole lines)
# and tables are laid out 132 columns wide
out = Console(width=None if sys.stdout.isatty() else 132, soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, width=None if sys.stderr.isatty() else 132, soft_wrap=not sys.stderr.isatty())

BookOpt = Annotated[Path, typer.Option("--book", help="Loan book (JSON Lines).", exists=True, dir_okay=False)]
AsOfOpt = Annotated[str, typer.Option("--as-of", help="As-of date (YYYY-MM-DD), end of day.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
DueSoonOpt = Annotated[int, typer.Option("--due-soon-days", min=0, max=60, help="Pre-due look-ahead in days.")]


def _parse_date(text: str, option: str) -> date:
    from dueflow.domain.strict import iso_date

    try:
        return iso_date(text)
    except ValueError as exc:
        raise fail(f"{option}: {exc}") from None


def _load(path: Path) -> Book:
    """Load the good lines; list every rejected one on stderr (the command then exits 3)."""
    book = read_book(path)
    if book.errors:
        err.print(
            f"{path}: {len(book.rejected_lines)} of {book.lines_read} lines rejected ({len(book.loans)} loans loaded):",
            markup=False,
            highlight=False,
        )
        for error in book.errors:
            err.print(f"  {error}", markup=False, highlight=False)
    return book


def _done(book: Book) -> None:
    """Exit 3 when some lines of the input book were rejected (the output covers the good ones)."""
    if book.errors:
        raise typer.Exit(EXIT_REJECTED)


@book_app.command("validate")
def book_validate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Loan book to check.")],
    as_json: JsonOpt = False,
) -> None:
    """Check every line of a book; list each error of each bad line (line, loan_id, field, reason); exit 1
    if any line is bad."""
    book = read_book(file)
    bad = len(book.rejected_lines)
    if as_json:
        emit_json(
            {
                "lines": book.lines_read,
                "good": len(book.loans),
                "bad": bad,
                "errors": [
                    {"line": e.line, "loan_id": e.loan_id, "field": e.field, "reason": e.reason} for e in book.errors
                ],
            }
        )
    else:
        for error in book.errors:
            out.print(str(error), markup=False, highlight=False)
        err.print(f"{book.lines_read} lines: {len(book.loans)} good, {bad} bad", markup=False, highlight=False)
    if bad:
        raise typer.Exit(1)


@book_app.command("generate")
def book_generate(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the book (JSON Lines).")],
    loans: Annotated[int, typer.Option("--loans", min=1, help="How many loans.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same book).")] = 7,
    as_of: AsOfOpt = "2026-06-30",
) -> None:
    """Write a realistic synthetic loan book with payment histories up to --as-of."""
    from dueflow_local.generate import generate_book

    day = _parse_date(as_of, "--as-of")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with out_file.open("w", encoding="utf-8") as handle, _progress() as progress:
        task = progress.add_task("generating", total=loans)
        for line in iter_jsonl(generate_book(loans, seed, day)):
            handle.write(line)
            progress.advance(task)
    err.print(f"wrote {loans} loans to {out_file}")


@app.command("statement")
def statement(
    book: BookOpt,
    loan: Annotated[str, typer.Option("--loan", help="loan_id")],
    as_of: AsOfOpt,
    as_json: JsonOpt = False,
) -> None:
    """The itemised overdue statement (逾期账单) of one loan as of a date."""
    day = _parse_date(as_of, "--as-of")
    loaded = _load(book)
    found = loaded.by_id().get(loan)
    if found is None:
        raise fail(f"loan {loan!r} is not among the {len(loaded.loans)} good loans of {book}", 1)
    position = assess(found, day)
    if as_json:
        emit_json(statement_dict(position))
    else:
        print_statement(position, found)
    _done(loaded)


@app.command("assess")
def assess_cmd(book: BookOpt, as_of: AsOfOpt, as_json: JsonOpt = False, due_soon_days: DueSoonOpt = 3) -> None:
    """The portfolio picture: loans and amounts per bucket and classification, early warnings."""
    day = _parse_date(as_of, "--as-of")
    loaded = _load(book)
    portfolio = assess_portfolio(loaded.loans, day, WarningPolicy(due_soon_days=due_soon_days))
    if as_json:
        emit_json(portfolio.as_dict() | {"rejected_lines": loaded.rejected_lines})
    else:
        print_portfolio(portfolio)
    _done(loaded)


@app.command("sample")
def sample(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the generated book.")] = Path("sample-out"),
    loans: Annotated[int, typer.Option("--loans", min=1)] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    as_of: AsOfOpt = "2026-06-30",
    as_json: JsonOpt = False,
) -> None:
    """Generate a sample book (sample-out/book.jsonl) and print its delinquency picture and a few
    statements. (Not make demo, which simulates a book through the workflow: dueflow simulate.)"""
    from dueflow_local.generate import generate_book

    day = _parse_date(as_of, "--as-of")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "book.jsonl"
    with path.open("w", encoding="utf-8") as handle, _progress() as progress:
        task = progress.add_task("generating book", total=loans)
        for line in iter_jsonl(generate_book(loans, seed, day)):
            handle.write(line)
            progress.advance(task)
    loaded = _load(path)
    positions = [assess(loan, day) for loan in loaded.loans]
    portfolio = Portfolio(as_of=day)
    for position in positions:
        portfolio.add(position)
    if as_json:
        emit_json(portfolio.as_dict() | {"book": str(path)})
        return
    out.rule(f"DueFlow sample book: {len(loaded.loans)} loans as of {day}")
    print_portfolio(portfolio)
    worst = sorted((p for p in positions if p.dpd), key=lambda p: (-p.dpd, p.loan_id))
    # One statement from the deep end, the middle and the shallow end of the overdue book.
    picks = [worst[i] for i in sorted({len(worst) // 5, len(worst) // 2, len(worst) - 1})] if worst else []
    for position in picks:
        print_statement(position)
    out.print(f"\nBook written to [bold]{path}[/bold]. Try:")
    if picks:
        out.print(f"  .venv/bin/dueflow statement --book {path} --loan {picks[0].loan_id} --as-of {day} --json")
    out.print(f"  .venv/bin/dueflow assess --book {path} --as-of {day}")


@app.command("doctor")
def doctor(
    as_of: Annotated[str | None, typer.Option("--as-of", help="The day to check from (default: today).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Checks what the rules depend on: each rule pack loads, and its working-day calendar has holiday
    data for this year and the next (exit 1 when a year is not covered: weekdays would stand in)."""
    from dueflow.domain.rules import PACK_IDS, calendar_years, load_pack

    today = _parse_date(as_of, "--as-of") if as_of else date.today()
    needed = (today.year, today.year + 1)
    packs: list[dict[str, Any]] = []
    for name in PACK_IDS:
        kind = load_pack(name).calendar.kind
        covered = calendar_years(kind)
        missing = [y for y in needed if covered is not None and not covered[0] <= y <= covered[1]]
        packs.append({"pack": name, "calendar": kind, "years": covered, "missing_years": missing})
    problems = [p for p in packs if p["missing_years"]]
    if as_json:
        emit_json({"as_of": today.isoformat(), "packs": packs, "ok": not problems})
    else:
        for p in packs:
            years = (
                f"holidays {p['years'][0]}-{p['years'][1]}"
                if p["years"]
                else "legal public holidays by rule (5 U.S.C. 6103), every year"
                if p["calendar"] == "us_federal"
                else "weekdays (no holiday data)"
            )
            note = f"; NOT COVERED: {', '.join(map(str, p['missing_years']))}" if p["missing_years"] else ""
            out.print(f"rule pack {p['pack']}: calendar {p['calendar']}, {years}{note}", highlight=False)
        for p in problems:
            err.print(
                f"Warning: rule pack {p['pack']}: no holiday data for {', '.join(map(str, p['missing_years']))}; "
                "weekdays stand in for those years: pin a calendar release that has them",
                highlight=False,
            )
    if problems:
        raise typer.Exit(1)


@app.command("invoke")
def invoke(
    function: Annotated[
        str, typer.Argument(help="Function folder name under functions/ (scan, case_stage, api, ...).")
    ],
    event_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Event JSON (see events/).")],
    book: Annotated[Path, typer.Option("--book", exists=True, dir_okay=False, help="Loan book to load first.")] = Path(
        "events/book.jsonl"
    ),
    as_of: AsOfOpt = "2026-06-18",
) -> None:
    """Run one handler locally on moto: load the book, run that morning's scan (so cases exist), then
    invoke FUNCTION with the event and print what it returned."""
    from datetime import UTC, timedelta

    from dueflow_local.moto_runtime import LocalRuntime
    from dueflow_local.runtime import FUNCTIONS

    if function not in FUNCTIONS:
        raise fail(f"unknown function {function!r}; one of: {', '.join(FUNCTIONS)}")
    try:
        event = json.loads(event_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise fail(f"{event_file}: bad JSON: {exc.msg} (line {exc.lineno})") from None
    day = _parse_date(as_of, "--as-of")
    loans = _load(book).loans
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    from dueflow.observability import logger

    # stdout carries what the handler returned (JSON); the handlers' log lines go to stderr
    # (assigned, not setStream: that flushes the old stream, which a test runner may have closed)
    handler: Any = logger.registered_handler
    stream, handler.stream = handler.stream, sys.stderr
    with LocalRuntime(start=start) as runtime, contextlib.ExitStack() as restore:
        restore.callback(setattr, handler, "stream", stream)
        runtime.load_book(loans, day - timedelta(days=1))
        if function != "scan":
            runtime.scan(day)
        when = event.get("time") if isinstance(event, dict) else None
        if when:
            moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
            if moment > runtime.now:
                runtime.at(moment)
        try:
            result = runtime.invoke(function, event)
        except ValueError as exc:  # the handler refused the event: say why, no traceback
            err.print(f"{function}: {exc}", markup=False, highlight=False)
            raise typer.Exit(1) from None
    sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str, indent=2) + "\n")


@app.command("serve")
def serve(
    book: Annotated[Path | None, typer.Option("--book", exists=True, dir_okay=False, help="Loan book.")] = None,
    generate: Annotated[
        int | None, typer.Option("--generate", min=1, max=100000, help="Generate N loans (default 400).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated book.")] = 7,
    start: Annotated[str, typer.Option("--start", help="The first simulated day (YYYY-MM-DD).")] = "2026-06-17",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free one).")] = 8000,
) -> None:
    """Serve the collectors' workbench and the API on 127.0.0.1 over the in-memory runtime (local sign-in,
    one user per role; a button moves the simulated clock a day)."""
    from dueflow_local.serve import Workbench, make_server

    if book is not None and generate is not None:
        raise fail("give at most one of --book FILE and --generate N")
    first = _parse_date(start, "--start")
    if book is not None:
        loans = _load(book).loans
    else:
        from dueflow_local.generate import generate_book

        loans = list(generate_book(generate or 400, seed, first - timedelta(days=1)))
    bench = Workbench(loans, first)
    server = make_server(bench, port)
    bound = server.server_address[1]
    out.print(
        f"DueFlow workbench: http://127.0.0.1:{bound}/  ({len(loans)} loans, day {first}; local sign-in, "
        "for local use only). Ctrl-C stops it.",
        highlight=False,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        bench.close()


@app.command("simulate")
def simulate(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the run (report.html, summary.json, cases.jsonl, ...).")
    ],
    start: Annotated[str, typer.Option("--start", help="First simulated day (YYYY-MM-DD).")],
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="How many days to simulate.")],
    book: Annotated[Path | None, typer.Option("--book", exists=True, dir_okay=False, help="Loan book.")] = None,
    generate: Annotated[int | None, typer.Option("--generate", min=1, help="Generate a book of N loans.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated book and behaviour.")] = 7,
    events: Annotated[Path | None, typer.Option("--events", exists=True, dir_okay=False, help="Event log.")] = None,
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            help='Inject faults, e.g. "ses:SendEmail=0.2,dynamodb:*=0.05,crash:after_send=0.05".',
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", exists=True, file_okay=False, help="A finished run whose case outcomes must match."),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="memory: in-memory adapters and the local executor (fast); moto: the AWS adapters on moto.",
        ),
    ] = "memory",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Processes, each playing the loans of a share of the customers (default: the machine's cores).",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace what a previous run left in --out (refused without it).")
    ] = False,
    lang: Annotated[
        str | None, typer.Option("--lang", help="The report's language: zh-CN or en (default: the settings').")
    ] = None,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            help="The handlers' log lines kept in OUT/logs.jsonl: DEBUG, INFO, WARNING or ERROR (never the console).",
        ),
    ] = "INFO",
    as_json: JsonOpt = False,
) -> None:
    """Play a loan book through the real workflow on the local runtime, day by day."""
    if log_level.upper() not in LOG_LEVELS:
        raise fail(f"--log-level: one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    from dueflow_local.runtime import BACKENDS

    if backend not in BACKENDS:
        raise fail(f"--backend: one of {', '.join(BACKENDS)}, not {backend!r}")
    from dueflow_local.faults import FaultPlan
    from dueflow_local.simulate import Simulation, read_events

    try:
        plan = FaultPlan.parse(faults or "")
    except ValueError as exc:
        raise fail(f"--faults: {exc}") from None
    outcomes = None
    if baseline is not None:
        outcomes = {str(c["case_id"]): str(c["outcome"]) for c in _case_lines(baseline)}

    if (book is None) == (generate is None):
        raise fail("give exactly one of --book FILE and --generate N")
    first = _parse_date(start, "--start")
    from dueflow_local.report import LANGUAGES

    if lang is not None and lang not in LANGUAGES:
        raise fail(f"--lang: one of {', '.join(LANGUAGES)}, not {lang!r}")
    _prepare_out(out_dir, replace, keep={p.resolve() for p in (book, events, baseline) if p is not None})
    if generate is not None:
        from dueflow_local.behaviour import generate_run

        out_dir.mkdir(parents=True, exist_ok=True)
        loans_made, made = generate_run(generate, seed, first, days)
        book = out_dir / "book.jsonl"
        book.write_text("".join(iter_jsonl(loans_made)), encoding="utf-8")
        if events is None:
            events = out_dir / "events.jsonl"
            events.write_text("".join(json.dumps(e) + "\n" for e in made), encoding="utf-8")
    assert book is not None  # one of --book / --generate, checked above
    loans = _load(book).loans
    parsed, problems = read_events(events, {loan.loan_id for loan in loans}) if events else ([], [])
    for problem in problems:
        err.print(str(problem), markup=False, highlight=False)
    simulation = Simulation(
        loans,
        parsed,
        first,
        days,
        problems=list(problems),
        faults=plan,
        fault_seed=seed,
        baseline=outcomes,
        backend=backend,
        workers=workers or os.cpu_count() or 1,
        language=lang,
        log_level=log_level.upper(),
    )
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("simulating", total=days)
        log_every = max(days // 20, 1)  # not a terminal (CI, a log file): a line every few days

        def advance(done: int, state: dict[str, int]) -> None:
            description = f"day {done}/{days}, {state['open']} open cases, {state['sent']} messages sent"
            progress.update(task, completed=done, description=description)
            if not err.is_terminal and (done % log_every == 0 or done == days):
                elapsed = time.perf_counter() - started
                eta = elapsed / done * (days - done)
                err.print(f"{description}; {elapsed:.0f} s elapsed, about {eta:.0f} s left", highlight=False)

        summary = simulation.run(out_dir, advance)
        wall = time.perf_counter() - started
    timing = {
        "backend": backend,
        "workers": simulation.workers,
        "wall_s": round(wall, 1),
        "loans": summary["loans"],
        "days": days,
        "cases": summary["cases_opened"],
        "case_days": summary["case_days"],
        "case_days_per_s": round(summary["case_days"] / wall, 2),
        "calls_total": summary["aws"]["calls_total"],
    }
    (out_dir / "run.json").write_text(json.dumps(timing, indent=2) + "\n", encoding="utf-8")
    for problem in simulation.problems[len(problems) :]:
        err.print(str(problem), markup=False, highlight=False)
    checked = summary["invariants"]
    broken = {name: v["violations"] for name, v in checked.items() if isinstance(v, dict) and v["violations"]}
    if as_json:
        emit_json({key: summary[key] for key in HEADLINE if key in summary} | {"run": timing, "out": str(out_dir)})
        if broken:
            raise typer.Exit(1)
        return
    by_outcome = ", ".join(f"{name} {count:,}" for name, count in summary["cases_by_outcome"].items())
    messages = ", ".join(f"{count:,} {channel}" for channel, count in summary["messages_by_channel"].items())
    out.print(
        f"{summary['loans']:,} loans, {summary['cases_opened']:,} cases ({by_outcome}); messages: {messages}; "
        f"audit chains verified: {'yes' if summary['audit_chains_verified'] else 'NO'}"
    )
    out.print(
        f"{days} days in {wall:.1f} s of wall time ({backend} backend, {simulation.workers} workers): "
        f"{summary['case_days'] / wall:.1f} simulated case-days/s; "
        f"estimated AWS cost for this book: {summary['aws']['monthly_cost_usd']['total']} USD a month"
    )
    if summary["faults"]:
        out.print(
            f"faults injected: {summary['faults']['injected_total']} failed attempts, "
            f"{summary['faults']['crashes_after_send']} crashes after a send"
        )
    out.print(promises_line(summary["promises"]))
    names = [name for name, v in checked.items() if isinstance(v, dict)]
    if broken:
        out.print("invariants broken: " + ", ".join(f"{name} ({count})" for name, count in broken.items()))
    else:
        out.print(f"invariants: all {len(names)} hold ({', '.join(names)})")
    out.print(f"wrote {out_dir / 'summary.json'}, {out_dir / 'cases.jsonl'} and the report: {out_dir / 'report.html'}")
    if broken:
        raise typer.Exit(1)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def promises_line(promises: dict[str, Any]) -> str:
    """The promises made, kept, broken and still pending (not yet due or within their grace); the kept
    rate of those decided, when any is."""
    pending = promises["made"] - promises["kept"] - promises["broken"]
    line = f"promises to pay: {promises['made']} made, {promises['kept']} kept, {promises['broken']} broken"
    if pending:
        line += f", {pending} pending"
    if promises.get("kept_rate") is not None:
        line += f" (kept rate {promises['kept_rate']:.0%} of those decided)"
    return line


HEADLINE = (
    "backend",
    "workers",
    "loans",
    "days",
    "cases_opened",
    "case_days",
    "cases_by_outcome",
    "messages_by_channel",
    "promises",
    "recovered",
    "audit_chains_verified",
    "invariants",
)
# what a run writes into its folder (--replace removes these, and nothing else)
RUN_FILES = (
    "summary.json",
    "cases.jsonl",
    "daily.json",
    "run.json",
    "report.html",
    "book.jsonl",
    "events.jsonl",
    "signing-key.pem",
    "logs.jsonl",
    "audit",
)


def _prepare_out(out_dir: Path, replace: bool, keep: set[Path]) -> None:
    """Refuse a folder a previous run (or anything else) left files in, unless told to replace them: a
    run's files must never mix with another's (the audit copy above all)."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise fail(f"--out {out_dir}: not a folder")
    present = sorted(p for p in out_dir.iterdir())
    if not present:
        return
    if not replace:
        names = ", ".join(p.name for p in present[:5]) + (", ..." if len(present) > 5 else "")
        raise fail(f"--out {out_dir} is not empty ({names}): give --replace to replace a previous run")
    strangers = [p.name for p in present if p.name not in RUN_FILES]
    if strangers:
        raise fail(f"--out {out_dir} holds files no run writes ({', '.join(strangers[:5])}): choose another folder")
    import shutil

    for path in present:
        if path.resolve() in keep:
            continue  # an input of this run (--book, --events) stays
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


RunOpt = Annotated[Path, typer.Option("--run", exists=True, file_okay=False, help="Folder of a finished run.")]


def _case_lines(run_dir: Path) -> list[dict[str, object]]:
    path = run_dir / "cases.jsonl"
    if not path.is_file():
        raise fail(f"{path}: not found; run dueflow simulate --out {run_dir} first")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@case_app.command("show")
def case_show(
    loan_id: Annotated[str, typer.Argument(help="A case id, or a loan id (all of the loan's cases).")],
    run_dir: RunOpt,
    execution: Annotated[
        bool, typer.Option("--execution", help="Also the Step Functions history, in the console's terms.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """One loan's case(s) from a finished run, each as one timeline of every event: stages, messages
    (held back ones too), replies, plans, waivers, promises, payments, complaints, the legal assessment
    and the litigation package, in the bank's time zone with the customer's local time beside it."""
    from dueflow.settings import Settings
    from dueflow_local.timeline import case_timeline, render_timeline

    lines = _case_lines(run_dir)
    cases = [c for c in lines if c["case_id"] == loan_id] or [c for c in lines if c["loan_id"] == loan_id]
    if not cases:
        known = sorted({str(c["loan_id"]) for c in lines})[:3]
        hint = f" (loans with a case: {', '.join(known)}, ...; dueflow case list --run {run_dir})" if known else ""
        raise fail(f"{loan_id}: no such case or loan with a case in {run_dir / 'cases.jsonl'}{hint}", 1)
    if len(cases) > 1 and not as_json:
        err.print(f"loan {loan_id} has {len(cases)} cases, oldest first: {', '.join(str(c['case_id']) for c in cases)}")
    zone = Settings().time_zone
    timelines = [case_timeline(run_dir, case, zone) for case in cases]
    if as_json:
        emit_json({"loan_id": loan_id, "cases": timelines})
        return
    for case, timeline in zip(cases, timelines, strict=True):
        render_timeline(out, timeline)
        if execution:
            from zoneinfo import ZoneInfo

            history = Table(f"when ({zone})", "event", "state or error", title="execution", title_justify="left")
            for when, kind, detail in case.get("execution", []):  # type: ignore[attr-defined]
                moment = datetime.fromisoformat(str(when)).astimezone(ZoneInfo(zone))
                history.add_row(moment.strftime("%Y-%m-%d %H:%M:%S"), str(kind), str(detail))
            out.print(history)


@case_app.command("list")
def case_list(
    run_dir: RunOpt,
    outcome: Annotated[str | None, typer.Option("--outcome", help="OPEN, CURED, SETTLED, LITIGATION, ...")] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="The stage an open case is in.")] = None,
    bucket: Annotated[
        str | None, typer.Option("--bucket", help="The DPD bucket at the run's end (M1, M2, ...).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many lines.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The cases of a finished run, filtered: loan, case, outcome, stage, DPD and amount owed at the end."""
    from dueflow.domain.classification import BUCKETS
    from dueflow.workflow.definition import OUTCOMES, build_definition_names

    for option, value, allowed in (
        ("--outcome", outcome, ("OPEN", *OUTCOMES)),
        ("--stage", stage, build_definition_names()),
        ("--bucket", bucket, BUCKETS),
    ):
        if value is not None and value.lower() not in {a.lower() for a in allowed}:
            raise fail(f"{option}: one of {', '.join(allowed)}, not {value!r}")
    rows = [
        c
        for c in _case_lines(run_dir)
        if (outcome is None or str(c["outcome"]).upper() == outcome.upper())
        and (stage is None or str(c["stage"]).lower() == stage.lower())
        and (bucket is None or str(c.get("bucket_at_end", "")).upper() == bucket.upper())
    ]
    if as_json:
        keys = (
            "loan_id", "case_id", "outcome", "stage", "opened", "closed", "dpd_at_end", "bucket_at_end",
            "owed_at_end", "currency",
        )  # fmt: skip
        emit_json({"cases": [{k: c.get(k) for k in keys} for c in rows[:limit]], "matched": len(rows)})
        return
    columns = ("loan", "case", "outcome", "stage", "opened", "closed", "DPD at end", "owed at end")
    table = Table(*columns, title=f"{len(rows):,} cases")
    for c in rows[:limit]:
        table.add_row(
            str(c["loan_id"]),
            str(c["case_id"]),
            str(c["outcome"]),
            str(c["stage"]),
            str(c["opened"]),
            str(c["closed"] or "-"),
            str(c.get("dpd_at_end", "")),
            f"{c.get('owed_at_end', '')} {c.get('currency', '')}".strip(),
        )
    out.print(table)
    if len(rows) > limit:
        err.print(f"{len(rows) - limit:,} more: --limit to see them", highlight=False)


@audit_app.command("verify")
def audit_verify(
    run_dir: RunOpt,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            exists=True,
            dir_okay=False,
            help="Your own copy of the signing key's public half (PEM): the folder's own copy is not trusted.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-read every audit record of a finished run and verify every case's hash chain and head, and,
    with --public-key, every record against the signed daily digests (so that nothing in the folder,
    the heads in cases.jsonl included, needs to be trusted)."""
    from dueflow_local.audit_files import verify_digests, verify_run

    lines = _case_lines(run_dir)
    results = verify_run(run_dir, lines)
    bad = [r for r in results if not r.ok]
    records = sum(r.records for r in results)
    sealed: list[str] = []
    if public_key is not None:
        sealed = verify_digests(run_dir, public_key.read_bytes(), lines)
    if as_json:
        emit_json(
            {
                "cases": len(results),
                "records": records,
                "chains_failed": {r.case_id: r.problems for r in bad},
                "digests_checked": public_key is not None,
                "digest_problems": sealed,
                "ok": not bad and not sealed,
            }
        )
        if bad or sealed:
            raise typer.Exit(1)
        return
    for report in bad:
        for problem in report.problems:
            out.print(f"{report.case_id}: {problem}", markup=False, highlight=False)
    for problem in sealed:
        out.print(problem, markup=False, highlight=False)
    if bad or sealed:
        raise fail(
            f"{len(bad)} of {len(results)} case chains failed, {len(sealed)} problems against the signed "
            f"digests ({records} records read)",
            1,
        )
    out.print(f"all {len(results)} case chains verify ({records} records, every head matches)", highlight=False)
    if public_key is None:
        err.print(
            "not checked against the signed digests: give --public-key (your own copy of the signing key) "
            "to verify without trusting this folder",
            markup=False,
            highlight=False,
        )
    else:
        out.print("every record is the one sealed in the signed daily digests", highlight=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def print_portfolio(portfolio: Portfolio) -> None:
    data = portfolio.as_dict()
    out.print(
        f"[bold]{data['loans']}[/bold] loans, [bold red]{data['overdue_loans']}[/bold red] overdue; "
        f"total overdue [bold]{data['total_overdue']}[/bold] (principal {data['overdue_principal']}, "
        f"interest {data['overdue_interest']}, penalty {data['penalty']}); "
        f"outstanding principal {data['outstanding_principal']} ({', '.join(data['currencies'])})"
    )
    out.print(
        f"Early warning: [bold]{data['early_warning']['due_soon']}[/bold] due soon, "
        f"[bold]{data['early_warning']['at_risk']}[/bold] at risk"
    )
    for title, key in (("Bucket (DPD)", "by_bucket"), ("Classification (五级分类)", "by_classification")):
        table = Table(title=title, title_justify="left")
        table.add_column(title.split(" ")[0])
        table.add_column("loans", justify="right")
        table.add_column("total overdue", justify="right")
        table.add_column("outstanding principal", justify="right")
        for name, tally in data[key].items():
            table.add_row(name, str(tally["loans"]), tally["total_overdue"], tally["outstanding_principal"])
        out.print(table)


def print_statement(position: Position, loan: Any = None) -> None:
    """The itemised statement: per installment what fell due, what is paid and owed, and the penalty in
    its two parts, 罚息 (on overdue principal) and 复利 (on overdue interest), at the same daily rate."""
    flags = f" flags: {', '.join(position.flags)}" if position.flags else ""
    table = Table(
        title=(
            f"逾期账单 overdue statement {position.loan_id} as of {position.as_of}: DPD {position.dpd} "
            f"{position.bucket} {position.classification}{flags}"
        ),
        title_justify="left",
    )
    columns = ("seq", "due", "payable", "days", "principal", "interest", "paid", "outstanding")
    for column in (*columns, "罚息 principal", "复利 interest", "penalty owed"):
        table.add_column(column, justify="left" if column in ("due", "payable") else "right")
    for line in position.lines:
        table.add_row(
            str(line.seq),
            line.due_date.isoformat(),
            line.payable_on.isoformat() if line.payable_on else "=",
            str(line.days_overdue),
            fmt(line.principal_due),
            fmt(line.interest_due),
            fmt(line.principal_paid + line.interest_paid),
            fmt(line.principal_outstanding + line.interest_outstanding),
            fmt(line.penalty_on_principal_accrued),
            fmt(line.compound_interest_accrued),
            fmt(line.penalty_outstanding),
        )
    out.print(table)
    if loan is not None:
        rate = loan.annual_rate * loan.penalty_rate_multiplier
        out.print(
            f"  罚息 and 复利 accrue daily at {rate:.2%} a year ({loan.annual_rate:.2%} contract rate x "
            f"{loan.penalty_rate_multiplier}), 360-day year, on overdue principal and on overdue interest; "
            "payments go to penalty, then interest, then principal, oldest installment first",
            highlight=False,
        )
    if any(line.payable_on for line in position.lines):
        out.print(
            f"  payable: under the {position.rules} rule pack a due date on a public holiday or rest day is "
            "payable on the next working day; days overdue and penalty start after it (docs/rules.md)",
            highlight=False,
        )
    out.print(
        f"  overdue principal {fmt(position.overdue_principal)} + interest {fmt(position.overdue_interest)} + "
        f"penalty {fmt(position.penalty)} = "
        f"[bold]total overdue {fmt(position.total_overdue)} {position.currency}[/bold]; "
        f"outstanding principal {fmt(position.outstanding_principal)}"
    )


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
