"""The ``dueflow`` command line: book validation, statements, the portfolio picture and the demo."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dueflow.domain.book import Book, iter_jsonl, read_book
from dueflow.domain.money import fmt
from dueflow.domain.portfolio import Portfolio, assess_portfolio
from dueflow.domain.position import Position, WarningPolicy, assess
from dueflow.domain.statement import statement_dict

app = typer.Typer(help="DueFlow: overdue-loan collection, run locally.", no_args_is_help=True, add_completion=False)
book_app = typer.Typer(help="Loan books (JSON Lines, one loan per line).", no_args_is_help=True)
app.add_typer(book_app, name="book")
case_app = typer.Typer(help="Cases of a finished simulation run.", no_args_is_help=True)
app.add_typer(case_app, name="case")
audit_app = typer.Typer(help="The audit records a run left behind.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

# Wide enough for statements when the output is a file or a CI log rather than a terminal.
out = Console(width=None if sys.stdout.isatty() else 132)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 132)

BookOpt = Annotated[Path, typer.Option("--book", help="Loan book (JSON Lines).", exists=True, dir_okay=False)]
AsOfOpt = Annotated[str, typer.Option("--as-of", help="As-of date (YYYY-MM-DD), end of day.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
DueSoonOpt = Annotated[int, typer.Option("--due-soon-days", min=0, max=60, help="Pre-due look-ahead in days.")]


def _parse_date(text: str, option: str) -> date:
    from dueflow.domain.strict import iso_date

    try:
        return iso_date(text)
    except ValueError as exc:
        err.print(f"{option}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def _load(path: Path) -> Book:
    """Load the good lines; list every rejected one on stderr."""
    book = read_book(path)
    if book.errors:
        err.print(
            f"[yellow]{path}: {len(book.rejected_lines)} of {book.lines_read} lines rejected "
            f"({len(book.loans)} loans loaded):[/yellow]"
        )
        for error in book.errors:
            err.print(f"  {error}", markup=False, highlight=False)
    return book


@book_app.command("validate")
def book_validate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Loan book to check.")],
) -> None:
    """Check every line of a book; list each bad line (line, loan_id, field, reason); exit 1 if any."""
    book = read_book(file)
    for error in book.errors:
        out.print(str(error), markup=False, highlight=False)
    bad = len(book.rejected_lines)
    summary = f"{book.lines_read} lines: {len(book.loans)} good, {bad} bad"
    if bad:
        err.print(f"[red]{summary}[/red]")
        raise typer.Exit(1)
    err.print(f"[green]{summary}[/green]")


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
        err.print(f"[red]loan {loan!r} is not among the {len(loaded.loans)} good loans of {book}[/red]")
        raise typer.Exit(1)
    position = assess(found, day)
    if as_json:
        sys.stdout.write(json.dumps(statement_dict(position), ensure_ascii=False) + "\n")
    else:
        print_statement(position)


@app.command("assess")
def assess_cmd(book: BookOpt, as_of: AsOfOpt, as_json: JsonOpt = False, due_soon_days: DueSoonOpt = 3) -> None:
    """The portfolio picture: loans and amounts per bucket and classification, early warnings."""
    day = _parse_date(as_of, "--as-of")
    loaded = _load(book)
    portfolio = assess_portfolio(loaded.loans, day, WarningPolicy(due_soon_days=due_soon_days))
    if as_json:
        payload = portfolio.as_dict() | {"rejected_lines": loaded.rejected_lines}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        print_portfolio(portfolio)


@app.command("demo")
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the generated book.")] = Path("demo-out"),
    loans: Annotated[int, typer.Option("--loans", min=1)] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    as_of: AsOfOpt = "2026-06-30",
) -> None:
    """Generate a sample book and print its delinquency picture and a few statements."""
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
    out.rule(f"DueFlow demo: {len(loaded.loans)} loans as of {day}")
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
    from datetime import UTC, datetime, timedelta

    from dueflow_local.moto_runtime import LocalRuntime
    from dueflow_local.runtime import FUNCTIONS

    if function not in FUNCTIONS:
        err.print(f"[red]unknown function {function!r}; one of: {', '.join(FUNCTIONS)}[/red]")
        raise typer.Exit(2)
    try:
        event = json.loads(event_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        err.print(f"[red]{event_file}: bad JSON: {exc.msg} (line {exc.lineno})[/red]")
        raise typer.Exit(2) from None
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


@app.command("simulate")
def simulate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for summary.json and cases.jsonl.")],
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
) -> None:
    """Play a loan book through the real workflow on the local runtime, day by day."""
    from dueflow_local.runtime import BACKENDS

    if backend not in BACKENDS:
        err.print(f"[red]--backend: one of {', '.join(BACKENDS)}, not {backend!r}[/red]")
        raise typer.Exit(2)
    from dueflow_local.faults import FaultPlan
    from dueflow_local.simulate import Simulation, read_events

    try:
        plan = FaultPlan.parse(faults or "")
    except ValueError as exc:
        err.print(f"[red]--faults: {exc}[/red]")
        raise typer.Exit(2) from None
    outcomes = None
    if baseline is not None:
        outcomes = {str(c["case_id"]): str(c["outcome"]) for c in _case_lines(baseline)}

    if (book is None) == (generate is None):
        err.print("[red]give exactly one of --book FILE and --generate N[/red]")
        raise typer.Exit(2)
    first = _parse_date(start, "--start")
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
    )
    with _progress() as progress:
        task = progress.add_task("simulating", total=days)

        def advance(done: int, state: dict[str, int]) -> None:
            description = f"day {done}/{days}, {state['open']} open cases, {state['sent']} messages sent"
            progress.update(task, completed=done, description=description)

        started = time.perf_counter()
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
    out.print(
        f"{summary['loans']} loans, {summary['cases_opened']} cases: {summary['cases_by_outcome']}; "
        f"messages {summary['messages_by_channel']}; audit chains verified: {summary['audit_chains_verified']}"
    )
    out.print(
        f"{days} days in {wall:.1f} s of wall time ({backend} backend, {simulation.workers} workers): "
        f"{summary['case_days'] / wall:.1f} simulated case-days/s; "
        f"estimated AWS cost for this book: {summary['aws']['monthly_cost_usd']['total']} USD a month"
    )
    checked = summary["invariants"]
    broken = {name: v["violations"] for name, v in checked.items() if isinstance(v, dict) and v["violations"]}
    if summary["faults"]:
        out.print(
            f"faults injected: {summary['faults']['injected_total']} failed attempts, "
            f"{summary['faults']['crashes_after_send']} crashes after a send"
        )
    promises = summary["promises"]
    out.print(
        f"promises to pay: {promises['made']} made, {promises['kept']} kept, {promises['broken']} broken"
        + (f" (kept rate {promises['kept_rate']:.0%})" if promises["made"] else "")
    )
    names = [name for name, v in checked.items() if isinstance(v, dict)]
    if broken:
        out.print(f"invariants broken: {broken}")
    else:
        out.print(f"invariants: all {len(names)} hold ({', '.join(names)})")
    out.print(f"wrote {out_dir / 'summary.json'}, {out_dir / 'cases.jsonl'} and the report: {out_dir / 'report.html'}")
    if broken:
        raise typer.Exit(1)


OutOpt = Annotated[Path, typer.Option("--out", exists=True, file_okay=False, help="Folder of a finished run.")]


def _case_lines(out_dir: Path) -> list[dict[str, object]]:
    path = out_dir / "cases.jsonl"
    if not path.is_file():
        err.print(f"[red]{path}: not found; run dueflow simulate --out {out_dir} first[/red]")
        raise typer.Exit(2)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@case_app.command("show")
def case_show(
    loan_id: Annotated[str, typer.Argument(help="The loan whose case(s) to show.")],
    out_dir: OutOpt,
) -> None:
    """One loan's case timeline from a finished run: stages, messages, plan, payments, audit records."""
    from zoneinfo import ZoneInfo

    from dueflow.settings import Settings
    from dueflow_local.audit_files import read_case_records

    zone = ZoneInfo(Settings().time_zone)  # the bank's zone: stages in it, messages in the customer's
    cases = [c for c in _case_lines(out_dir) if c["loan_id"] == loan_id]
    if not cases:
        err.print(f"[red]loan {loan_id}: no case in {out_dir / 'cases.jsonl'}[/red]")
        raise typer.Exit(1)
    for case in cases:
        out.print(
            f"[bold]{case['case_id']}[/bold]  outcome [bold]{case['outcome']}[/bold], stage {case['stage']}; "
            f"opened {case['opened']}, closed {case['closed'] or '-'}; recovered {case['recovered']}, "
            f"waived {case['waived']}"
        )
        if case.get("next_action"):
            out.print(f"next: {case['next_action']}")
        rows: list[tuple[str, str, str]] = []
        for stage in case["stages"]:  # type: ignore[attr-defined]
            entered = datetime.fromisoformat(str(stage["entered"])).astimezone(zone)
            rows.append((entered.strftime("%Y-%m-%d %H:%M"), "stage", str(stage["stage"])))
        for message in case["messages"]:  # type: ignore[attr-defined]
            when = f"{message['date']} {message['local_time'] or ''}".strip()
            rows.append((when, str(message["channel"]), f"{message['template']} ({message['language']})"))
        for payment in case.get("payments", []):  # type: ignore[attr-defined]
            rows.append((str(payment["date"]), "payment", str(payment["amount"])))
        timeline = Table(f"when ({zone.key})", "what", "detail", title="timeline", title_justify="left")
        for row in sorted(rows, key=lambda r: r[0]):  # stable: same-minute rows keep their order
            timeline.add_row(*row)
        out.print(timeline)
        if case.get("plan"):
            out.print(f"plan: {json.dumps(case['plan'], ensure_ascii=False, default=str)}")
        history = Table(f"when ({zone.key})", "event", "state or error", title="execution", title_justify="left")
        for when, kind, detail in case.get("execution", []):  # type: ignore[attr-defined]
            moment = datetime.fromisoformat(str(when)).astimezone(zone)
            history.add_row(moment.strftime("%Y-%m-%d %H:%M:%S"), str(kind), str(detail))
        if history.row_count:
            out.print(history)
        records = read_case_records(out_dir, str(case["loan_id"]), str(case["case_id"]))
        audit = Table("seq", "type", "at", "hash", title="audit records", title_justify="left")
        for record in records:
            audit.add_row(str(record["seq"]), record["type"], record["at"][:19], record["hash"][:16])
        out.print(audit)


@audit_app.command("verify")
def audit_verify(
    out_dir: OutOpt,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            exists=True,
            dir_okay=False,
            help="Your own copy of the signing key's public half (PEM): the folder's own copy is not trusted.",
        ),
    ] = None,
) -> None:
    """Re-read every audit record of a finished run and verify every case's hash chain and head, and,
    with --public-key, every record against the signed daily digests (so that nothing in the folder,
    the heads in cases.jsonl included, needs to be trusted)."""
    from dueflow_local.audit_files import verify_digests, verify_run

    lines = _case_lines(out_dir)
    results = verify_run(out_dir, lines)
    bad = [r for r in results if not r.ok]
    for report in bad:
        for problem in report.problems:
            out.print(f"[red]{report.case_id}: {problem}[/red]", highlight=False)
    records = sum(r.records for r in results)
    sealed: list[str] = []
    if public_key is not None:
        sealed = verify_digests(out_dir, public_key.read_bytes(), lines)
        for problem in sealed:
            out.print(f"[red]{problem}[/red]", highlight=False)
    if bad or sealed:
        out.print(
            f"[red]{len(bad)} of {len(results)} case chains failed, {len(sealed)} problems against the signed "
            f"digests ({records} records read)[/red]"
        )
        raise typer.Exit(1)
    out.print(f"[green]all {len(results)} case chains verify ({records} records, every head matches)[/green]")
    if public_key is None:
        err.print(
            "not checked against the signed digests: give --public-key (your own copy of the signing key) "
            "to verify without trusting this folder",
            markup=False,
            highlight=False,
        )
    else:
        out.print("[green]every record is the one sealed in the signed daily digests[/green]")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
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


def print_statement(position: Position) -> None:
    flags = f" flags: {', '.join(position.flags)}" if position.flags else ""
    table = Table(
        title=(
            f"逾期账单 overdue statement {position.loan_id} as of {position.as_of}: DPD {position.dpd} "
            f"{position.bucket} {position.classification}{flags}"
        ),
        title_justify="left",
    )
    for column in ("seq", "due", "days", "principal", "interest", "paid", "outstanding", "penalty"):
        table.add_column(column, justify="left" if column == "due" else "right")
    for line in position.lines:
        table.add_row(
            str(line.seq),
            line.due_date.isoformat(),
            str(line.days_overdue),
            fmt(line.principal_due),
            fmt(line.interest_due),
            fmt(line.principal_paid + line.interest_paid),
            fmt(line.principal_outstanding + line.interest_outstanding),
            fmt(line.penalty_outstanding),
        )
    out.print(table)
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
