"""Execution names derived from case ids: what Step Functions accepts, deterministic, distinct."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from dueflow.domain.case import execution_name

ALLOWED = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
IDS = st.text(alphabet=st.sampled_from("AZaz09._:- \u00e9/"), min_size=1, max_size=120)


def test_a_case_id_step_functions_accepts_is_its_own_name() -> None:
    assert execution_name("L00000001-2026-06-15") == "L00000001-2026-06-15"


@given(IDS)
def test_every_name_is_one_step_functions_accepts_and_is_always_the_same(case_id: str) -> None:
    name = execution_name(case_id)
    assert ALLOWED.match(name) and execution_name(case_id) == name


@given(IDS, IDS)
def test_two_case_ids_never_share_a_name(first: str, second: str) -> None:
    if first != second:
        assert execution_name(first) != execution_name(second)
