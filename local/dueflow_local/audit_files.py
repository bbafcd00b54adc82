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


def verify_digests(out: Path, public_key_pem: bytes, cases: Sequence[dict[str, Any]]) -> list[str]:
    """Check the run's records against its signed daily digests, trusting only ``public_key_pem`` (the
    verifier's own copy of the signing key's public half), not the folder: every digest's signature, each
    digest chained to the day before, and every case of the last digest of each stream present with
    exactly the records it was sealed with (none added, removed, truncated, rewritten or re-chained);
    a case in the folder or in cases.jsonl that no digest holds is reported too. Problems, in words."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from dueflow.domain.audit_chain import GENESIS
    from dueflow.domain.digest import Digest, statement

    problems: list[str] = []
    key = serialization.load_pem_public_key(public_key_pem)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    folder_key = out / "signing-key.pem"
    if folder_key.is_file() and folder_key.read_bytes().strip() != public_key_pem.strip():
        problems.append("the folder's signing-key.pem is not the public key given: it was replaced")
    root = out / "audit" / "digests"
    streams = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not streams:
        return [*problems, "no signed digests in the folder: nothing proves the records"]
    sealed: dict[tuple[str, str], tuple[int, str, str]] = {}  # (loan, case) -> (seq, head, stream/day)
    for stream in streams:
        previous: bytes | None = None
        days = sorted(p.stem for p in stream.glob("*.json"))
        for day in days:
            where = f"digest {stream.name}/{day}"
            body = (stream / f"{day}.json").read_bytes()
            signature_path = stream / f"{day}.sig"
            try:
                key.verify(signature_path.read_bytes(), statement(day, body), ec.ECDSA(hashes.SHA256()))
            except (InvalidSignature, FileNotFoundError):
                problems.append(f"{where}: its signature does not verify with the given key (edited or re-signed)")
            digest = Digest.from_bytes(body)
            expected = sha256(previous) if previous is not None else GENESIS
            if digest.day != day:
                problems.append(f"{where}: it says it is the digest of {digest.day}")
            if digest.previous != expected:
                problems.append(f"{where}: it does not follow the digest before it (one removed or replaced)")
            for loan_id, case_id, seq, head in digest.heads:
                found = {r.get("seq"): r["hash"] for r in read_case_records(out, loan_id, case_id)}
                if found.get(seq) != head:
                    problems.append(f"case {case_id}: record {seq} is not the one sealed in {where}")
                sealed[(loan_id, case_id)] = (seq, head, where)
            previous = body
    for (loan_id, case_id), (seq, _, where) in sorted(sealed.items()):
        objects = case_objects(out, loan_id, case_id)
        if not objects:
            problems.append(f"case {case_id}: its records are gone ({seq} sealed in {where})")
        elif len(objects) != seq:
            problems.append(f"case {case_id}: {len(objects)} records where {seq} were sealed in {where}")
    listed = {(str(c["loan_id"]), str(c["case_id"])) for c in cases}
    on_disk = set()
    cases_root = out / "audit" / "cases"
    if cases_root.is_dir():
        on_disk = {(loan.name, case.name) for loan in cases_root.iterdir() if loan.is_dir() for case in loan.iterdir()}
    for loan_id, case_id in sorted((listed | on_disk) - set(sealed)):
        problems.append(f"case {case_id} of loan {loan_id}: no digest holds it (added after the seal?)")
    for loan_id, case_id in sorted(set(sealed) - listed):
        problems.append(f"case {case_id} of loan {loan_id}: sealed, but missing from cases.jsonl")
    summary = out / "summary.json"
    if summary.is_file():
        written = json.loads(summary.read_text(encoding="utf-8")).get("audit_records")
        total = sum(seq for seq, _, _ in sealed.values())
        if written is not None and written != total:
            problems.append(f"summary.json counts {written} audit records; the digests sealed {total}")
    return problems
