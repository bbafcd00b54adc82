"""The audit records a simulation leaves in ``<out>/audit/``: the S3 objects, byte for byte, under their
S3 keys (``cases/<loan_id>/<case_id>/<seq>-<type>.json``), and each case's head in ``cases.jsonl``.

``dueflow audit verify`` re-reads them and checks every chain with the same ``verify_chain`` the
service uses against S3: any record removed, edited, re-ordered or added shows up as a problem."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dueflow.domain.audit_chain import ChainReport, sha256, verify_chain


def case_objects(out: Path, loan_id: str, case_id: str) -> list[tuple[str, bytes]]:
    """``(key, bytes)`` of every stored object of one case, in key order."""
    folder = out / "audit" / "cases" / loan_id / case_id
    if not folder.is_dir():
        return []
    root = out / "audit"
    return sorted((path.relative_to(root).as_posix(), path.read_bytes()) for path in folder.iterdir() if path.is_file())


def read_case_records(out: Path, loan_id: str, case_id: str) -> list[dict[str, Any]]:
    """The records of one case with the SHA-256 of each object (what the next record chains to)."""
    records = []
    for _, data in case_objects(out, loan_id, case_id):
        try:
            record = json.loads(data)
        except ValueError:
            record = {"seq": "?", "type": "unreadable", "at": ""}
        records.append({**record, "hash": sha256(data)})
    return records


def verify_run(out: Path, cases: Sequence[dict[str, Any]]) -> list[ChainReport]:
    """Verify every case of ``cases.jsonl`` against its head; objects of cases not listed are reported."""
    reports = []
    listed = set()
    for case in cases:
        loan_id, case_id = str(case["loan_id"]), str(case["case_id"])
        listed.add((loan_id, case_id))
        objects = case_objects(out, loan_id, case_id)
        report = verify_chain(case_id, objects, case.get("audit_head"))
        if case.get("audit_records") is not None and len(objects) != case["audit_records"]:
            problem = f"{len(objects)} records found, {case['audit_records']} written"
            report = ChainReport(report.case_id, report.records, (*report.problems, problem))
        reports.append(report)
    cases_root = out / "audit" / "cases"
    if cases_root.is_dir():
        for loan_dir in sorted(cases_root.iterdir()):
            for case_dir in sorted(loan_dir.iterdir()) if loan_dir.is_dir() else []:
                if (loan_dir.name, case_dir.name) not in listed:
                    reports.append(
                        ChainReport(case_dir.name, 0, (f"records of a case not in cases.jsonl: {case_dir}",))
                    )
    return reports
