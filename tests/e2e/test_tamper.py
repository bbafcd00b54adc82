"""Audit evidence that proves itself: a run's records are checked against the signed daily digests with
the verifier's own copy of the public key, so an attacker who edits the records *and* the heads beside
them (cases.jsonl, summary.json) in the same folder is still caught, and the message names what changed.
Without the digests (chains and heads only) each of these attacks passes: that is the point."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dueflow_local.cli import app

runner = CliRunner()
RUN = ["simulate", "--generate", "40", "--seed", "5", "--start", "2026-03-01", "--days", "30", "--workers", "1"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("tamper") / "run"
    result = runner.invoke(app, [*RUN, "--out", str(out)])
    assert result.exit_code == 0, result.output
    key = tmp_path_factory.mktemp("bank") / "signing-key.pem"  # the verifier's own copy, kept elsewhere
    shutil.copy(out / "signing-key.pem", key)
    return out, key


def lines(out: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (out / "cases.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


def write_lines(out: Path, cases: list[dict[str, object]]) -> None:
    (out / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")


def longest(out: Path) -> tuple[dict[str, object], list[Path]]:
    case = max(lines(out), key=lambda c: int(c["audit_records"]))  # type: ignore[call-overload]
    folder = out / "audit" / "cases" / str(case["loan_id"]) / str(case["case_id"])
    return case, sorted(folder.iterdir())


def rechain(out: Path, case: dict[str, object], files: list[Path], start: int) -> None:
    """Re-link records ``start`` onwards to their (edited) predecessors, and fix the head beside them."""
    previous = hashlib.sha256(files[start - 1].read_bytes()).hexdigest() if start else "0" * 64
    for path in files[start:]:
        record = json.loads(path.read_bytes())
        record["prev_hash"] = previous
        data = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        path.write_bytes(data)
        previous = hashlib.sha256(data).hexdigest()
    cases = lines(out)
    for line in cases:
        if line["case_id"] == case["case_id"]:
            line["audit_head"] = previous
            line["audit_records"] = len(files)
    write_lines(out, cases)


def append_record(out: Path) -> str:
    case, files = longest(out)
    last = json.loads(files[-1].read_bytes())
    extra = {**last, "seq": last["seq"] + 1, "type": "customer_reply", "body": {"note": "forged"}}
    path = files[-1].with_name(f"{extra['seq']:06d}-customer_reply.json")
    path.write_bytes(json.dumps(extra, sort_keys=True, separators=(",", ":")).encode())
    rechain(out, case, [*files, path], len(files))
    return f"case {case['case_id']}: {len(files) + 1} records where {len(files)} were sealed"


def truncate_four(out: Path) -> str:
    case, files = longest(out)
    for path in files[-4:]:
        path.unlink()
    rechain(out, case, files[:-4], len(files) - 4)
    return f"case {case['case_id']}: {len(files) - 4} records where {len(files)} were sealed"


def rewrite_middle(out: Path) -> str:
    case, files = longest(out)
    middle = len(files) // 2
    record = json.loads(files[middle].read_bytes())
    record["at"] = "2026-03-02T01:00:00+00:00"  # moved in time
    files[middle].write_bytes(json.dumps(record, sort_keys=True, separators=(",", ":")).encode())
    rechain(out, case, files, middle + 1)
    # the first sealed head at or after the rewritten record no longer matches
    return f"case {case['case_id']}: record"


def drop_case(out: Path) -> str:
    case, files = longest(out)
    shutil.rmtree(files[0].parent)
    write_lines(out, [c for c in lines(out) if c["case_id"] != case["case_id"]])
    return f"case {case['case_id']}: its records are gone"


def headless_edit(out: Path) -> str:
    case, files = longest(out)
    record = json.loads(files[-1].read_bytes())
    record["body"] = {"outcome": "CURED"}
    files[-1].write_bytes(json.dumps(record, sort_keys=True, separators=(",", ":")).encode())
    cases = lines(out)
    for line in cases:
        if line["case_id"] == case["case_id"]:
            line.pop("audit_head", None)
    write_lines(out, cases)
    return f"case {case['case_id']}: record {record['seq']} is not the one sealed"


def summary_count(out: Path) -> str:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary["audit_records"] += 1
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return "summary.json counts"


def edit_digest(out: Path) -> str:
    digest = sorted((out / "audit" / "digests" / "0").glob("*.json"))[-1]
    body = json.loads(digest.read_bytes())
    body["heads"] = body["heads"][1:]  # a case dropped from the seal
    digest.write_bytes(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    return f"digest 0/{digest.stem}: its signature does not verify"


def remove_digest(out: Path) -> str:
    digests = sorted((out / "audit" / "digests" / "0").glob("*.json"))
    digests[len(digests) // 2].unlink()
    after = digests[len(digests) // 2 + 1].stem
    return f"digest 0/{after}: it does not follow the digest before it"


def replace_key(out: Path) -> str:
    """The attacker's own key: the digests re-signed with it, and its public half left in the folder."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from dueflow.domain.digest import statement

    attacker = ec.generate_private_key(ec.SECP256R1())
    for body in (out / "audit" / "digests" / "0").glob("*.json"):
        signature = attacker.sign(statement(body.stem, body.read_bytes()), ec.ECDSA(hashes.SHA256()))
        body.with_suffix(".sig").write_bytes(signature)
    pem = attacker.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (out / "signing-key.pem").write_bytes(pem)
    return "signing-key.pem is not the public key given"


ATTACKS: dict[str, Callable[[Path], str]] = {
    "append a record": append_record,
    "truncate the last four": truncate_four,
    "rewrite a middle record and re-chain": rewrite_middle,
    "drop a whole case and its line": drop_case,
    "remove the head and edit the last record": headless_edit,
    "change summary.json's count": summary_count,
    "edit a digest": edit_digest,
    "remove a digest": remove_digest,
    "replace the public key and re-sign": replace_key,
}


def test_the_untouched_run_verifies_against_its_digests(run: tuple[Path, Path]) -> None:
    out, key = run
    result = runner.invoke(app, ["audit", "verify", "--run", str(out), "--public-key", str(key)])
    assert result.exit_code == 0 and "every record is the one sealed" in result.stdout, result.output


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attack_is_caught_and_named(run: tuple[Path, Path], tmp_path: Path, attack: str) -> None:
    out, key = run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    says = ATTACKS[attack](copy)
    result = runner.invoke(app, ["audit", "verify", "--run", str(copy), "--public-key", str(key)])
    assert result.exit_code == 1, (attack, result.output)
    assert says in " ".join(result.stdout.split()), (attack, says, result.stdout)


def test_a_second_run_into_the_same_folder_does_not_mix_its_records_with_the_first(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = [*RUN[:3], "--seed", "5", *RUN[5:], "--out", str(out)]
    assert runner.invoke(app, first).exit_code == 0
    second = [*RUN[:3], "--seed", "6", *RUN[5:], "--out", str(out)]
    refused = runner.invoke(app, second)  # a non-empty --out is refused without --replace
    assert refused.exit_code == 2 and "--replace" in refused.stderr
    assert runner.invoke(app, [*second, "--replace"]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", "--run", str(out), "--public-key", str(out / "signing-key.pem")])
    assert result.exit_code == 0, result.output
