"""Reading a loan book (JSON Lines, one loan per line) without ever losing a line silently.

Every line is either a validated ``Loan`` or a ``BookError`` naming the line number, the ``loan_id`` when
it can be read, the field and a one-line reason. Duplicate ``loan_id``: the first line wins, later
ones are rejected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dueflow.domain.loan import FieldError, Loan
from dueflow.domain.rules import PackSelection
from dueflow.domain.strict import DuplicateKey, strict_json

DEFAULT_SELECTION = PackSelection()  # the default jurisdiction table, no pack required


@dataclass(frozen=True, slots=True)
class BookError:
    """Why one line of a book was rejected."""

    line: int
    loan_id: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        who = f" loan_id={self.loan_id}" if self.loan_id else ""
        return f"line {self.line}{who} field={self.field}: {self.reason}"


@dataclass(slots=True)
class Book:
    """The good loans of a book, in file order, and the rejected lines."""

    loans: list[Loan] = field(default_factory=list)
    errors: list[BookError] = field(default_factory=list)
    lines_read: int = 0

    def by_id(self) -> dict[str, Loan]:
        return {loan.loan_id: loan for loan in self.loans}

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})


def validation_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """Turn a pydantic ValidationError into (field, reason) pairs, with dotted field paths."""
    out: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            out.append((cause.field, cause.reason))
            continue
        loc = ".".join(str(part) for part in err["loc"]) or "-"
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        out.append((loc, HOUSE_STYLE.get(err["type"], lambda _ctx, m: m)(err.get("ctx") or {}, message)))
    return out


# pydantic's messages in the house style: lower case, what the value must be
HOUSE_STYLE: dict[str, Any] = {
    "missing": lambda ctx, m: "missing required field",
    "extra_forbidden": lambda ctx, m: "unknown field",
    "greater_than_equal": lambda ctx, m: f"must be at least {ctx.get('ge')}",
    "greater_than": lambda ctx, m: f"must be more than {ctx.get('gt')}",
    "less_than_equal": lambda ctx, m: f"must be at most {ctx.get('le')}",
    "less_than": lambda ctx, m: f"must be less than {ctx.get('lt')}",
    "int_type": lambda ctx, m: "must be a whole number",
    "int_parsing": lambda ctx, m: "must be a whole number",
    "int_from_float": lambda ctx, m: "must be a whole number",
    "string_type": lambda ctx, m: "must be text",
    "bool_type": lambda ctx, m: "must be true or false",
    "string_too_long": lambda ctx, m: f"must be at most {ctx.get('max_length')} characters",
    "string_too_short": lambda ctx, m: f"must be at least {ctx.get('min_length')} characters",
    "literal_error": lambda ctx, m: f"must be one of {ctx.get('expected')}",
    "union_tag_invalid": lambda ctx, m: f"must be one of {ctx.get('expected_tags')}",
    "tuple_type": lambda ctx, m: "must be a list",
    "model_type": lambda ctx, m: "must be an object",
    "model_attributes_type": lambda ctx, m: "must be an object",
}


def parse_line(text: str, line_no: int) -> tuple[Loan | None, list[BookError]]:
    """Parse one JSON line into a Loan, or the errors that reject it."""
    try:
        raw: Any = strict_json(text)
    except DuplicateKey as exc:
        return None, [BookError(line_no, None, "-", f"bad JSON: {exc.msg} (each field once)")]
    except json.JSONDecodeError as exc:
        return None, [BookError(line_no, None, "-", f"bad JSON: {exc.msg} at column {exc.colno}")]
    if not isinstance(raw, dict):
        return None, [BookError(line_no, None, "-", f"a loan must be a JSON object, got {type(raw).__name__}")]
    loan_id = raw.get("loan_id")
    readable_id = loan_id if isinstance(loan_id, str) and loan_id and len(loan_id) <= 64 else None
    try:
        return Loan.model_validate(raw), []
    except ValidationError as exc:
        return None, [BookError(line_no, readable_id, f, r) for f, r in validation_errors(exc)]


def assign_pack(loan: Loan, selection: PackSelection) -> Loan:
    """``loan`` under the rule pack ``selection`` chooses for it when it names none (the pack's bounds
    then apply: a loan outside them raises ``ValidationError`` naming the field); a loan that maps to no
    pack where one is required raises ``FieldError`` on ``rules``."""
    if loan.rules is not None:
        return loan
    country = loan.customer.country if loan.customer is not None else None
    pack = selection.pack_for(loan.currency, country)
    if pack is None:
        if selection.required:
            raise FieldError("rules", selection.refusal(loan.currency, country))
        return loan
    return Loan.model_validate({**loan.model_dump(mode="json", exclude_none=True), "rules": pack})


def read_lines(lines: Iterable[str], packs: PackSelection = DEFAULT_SELECTION) -> Book:
    """Validate every non-blank line; keep the good ones, report the bad ones. A loan naming no rule pack
    is put under the one ``packs`` chooses (the default jurisdiction table), and checked against it."""
    book = Book()
    seen: dict[str, int] = {}
    for line_no, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        book.lines_read += 1
        loan, errors = parse_line(text, line_no)
        if loan is not None:
            try:
                loan = assign_pack(loan, packs)
            except FieldError as exc:
                loan, errors = None, [BookError(line_no, exc_loan_id(text), exc.field, exc.reason)]
            except ValidationError as exc:
                loan, errors = None, [BookError(line_no, exc_loan_id(text), f, r) for f, r in validation_errors(exc)]
        if loan is None:
            book.errors.extend(errors)
            continue
        first = seen.get(loan.loan_id)
        if first is not None:
            book.errors.append(
                BookError(line_no, loan.loan_id, "loan_id", f"duplicate loan_id (first seen on line {first})")
            )
            continue
        seen[loan.loan_id] = line_no
        book.loans.append(loan)
    return book


def exc_loan_id(text: str) -> str | None:
    """The loan id of a line that parsed (for an error found after validation)."""
    loan_id = json.loads(text).get("loan_id")
    return loan_id if isinstance(loan_id, str) else None


def read_book(path: str | Path, packs: PackSelection = DEFAULT_SELECTION) -> Book:
    """Read a JSON Lines loan book from a file (UTF-8)."""
    with open(path, encoding="utf-8") as handle:
        return read_lines(handle, packs)


def iter_jsonl(loans: Iterable[Loan]) -> Iterator[str]:
    """Serialise loans back to JSON Lines (amounts as decimal strings)."""
    for loan in loans:
        yield loan.model_dump_json(exclude_none=True) + "\n"
