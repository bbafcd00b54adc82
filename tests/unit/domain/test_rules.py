"""Jurisdiction rule packs (dueflow.domain.rules, docs/rules.md): each test names the rule's source."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from dueflow.domain.loan import Loan
from dueflow.domain.position import assess
from dueflow.domain.rules import PACK_IDS, PACKS_DIR, RulePackError, is_working_day, load_pack, parse_pack
from dueflow_local.cli import app
from tests.conftest import make_loan


def loan(start: str, rules: str | None = "cn", **extra: object) -> Loan:
    record = {
        "loan_id": "H1",
        "customer_id": "C1",
        "principal": "12000.00",
        "annual_rate": "0.12",
        "term_months": 12,
        "start_date": start,
        "rules": rules,
        **extra,
    }
    return Loan.model_validate(record)


def test_state_council_2026_national_day_a_due_date_on_a_holiday_is_payable_on_the_next_working_day() -> None:
    """国务院办公厅关于2026年部分节假日安排的通知 (via chinesecalendar): 2026-10-01 to 10-07 are holidays,
    so an installment due 2026-10-01 under the cn pack is payable on 2026-10-08: no days overdue and no
    penalty through that day; on 10-09 one day of penalty at 0.12 x 1.5 / 360 on the 1,066.19 due."""
    held = loan("2026-09-01")
    for day in (date(2026, 10, 1), date(2026, 10, 7), date(2026, 10, 8)):
        position = assess(held, day)
        assert (position.dpd, position.penalty) == (0, Decimal("0.00")), day
    after = assess(held, date(2026, 10, 9))
    (line,) = after.lines
    assert (after.dpd, line.due_date, line.payable_on, line.days_overdue) == (
        1,
        date(2026, 10, 1),
        date(2026, 10, 8),
        1,
    )
    assert after.penalty == Decimal("0.53")  # 1066.19 x 0.18 / 360 = 0.533
    legacy = assess(loan("2026-09-01", rules=None), date(2026, 10, 9))  # no pack: the contractual date
    assert legacy.dpd == 8 and legacy.lines[0].payable_on is None


def test_state_council_make_up_working_days_are_working_days_and_rest_days_are_not() -> None:
    """国务院办公厅关于2026年部分节假日安排的通知: Saturday 2026-10-10 is a make-up working day (调休上班),
    so a due date then is payable that day; Sunday 2026-10-11 is a rest day, payable Monday."""
    cn = load_pack("cn")
    assert is_working_day(date(2026, 10, 10), "cn") and date(2026, 10, 10).weekday() == 5
    assert cn.payable_on(date(2026, 10, 10)) == date(2026, 10, 10)
    assert cn.payable_on(date(2026, 10, 11)) == date(2026, 10, 12)


def test_beyond_the_calendars_years_the_weekday_rule_stands_in() -> None:
    """chinesecalendar 1.11 covers 2004-2026 (the State Council publishes each year's notice late in the
    year before): for 2027 dates the weekday rule applies until the package is updated (docs/rules.md)."""
    cn = load_pack("cn")
    assert cn.payable_on(date(2027, 1, 2)) == date(2027, 1, 4)  # a Saturday: the Monday
    assert cn.payable_on(date(2027, 1, 5)) == date(2027, 1, 5)


def test_us_pack_keeps_the_contractual_date_no_federal_holiday_rule() -> None:
    """FDCPA / Regulation F set no due-date rule: the us pack keeps the contractual date."""
    held = loan("2026-06-04", rules="us")  # first due 2026-07-04, a Saturday and Independence Day
    assert assess(held, date(2026, 7, 5)).dpd == 1


def test_pboc_2003_251_the_penalty_rate_is_the_contract_rate_plus_30_to_50_percent() -> None:
    """中国人民银行《关于人民币贷款利率有关问题的通知》(银发〔2003〕251号) 第三条: 逾期贷款罚息利率为借款合同
    载明的贷款利率水平上加收30%-50%: under the cn pack a multiplier outside 1.3-1.5 is refused, naming it."""
    assert loan("2026-01-15", penalty_rate_multiplier="1.3").penalty_rate_multiplier == Decimal("1.3")
    assert loan("2026-01-15", penalty_rate_multiplier="1.5").penalty_rate_multiplier == Decimal("1.5")
    with pytest.raises(ValidationError, match="penalty_rate_multiplier"):
        loan("2026-01-15", penalty_rate_multiplier="10")
    with pytest.raises(ValidationError, match="penalty_rate_multiplier"):
        loan("2026-01-15", penalty_rate_multiplier="1.2")
    assert loan("2026-01-15", rules=None, penalty_rate_multiplier="2").penalty_rate_multiplier == Decimal("2")


def test_every_shipped_pack_loads_and_every_rule_cites_its_source() -> None:
    for name in PACK_IDS:
        pack = load_pack(name)
        for section in ("calendar", "penalty", "contact", "limitation", "credit_report_prenotice_days", "messages"):
            assert len(getattr(pack, section).source) >= 10, (name, section)
    us = load_pack("us")
    assert us.contact.quiet_days_after_conversation == 7 and us.messages.validation_notice_days == 5


def test_a_bad_pack_is_refused_naming_the_pack_and_each_field(tmp_path: Path) -> None:
    data = json.loads((PACKS_DIR / "cn.json").read_text(encoding="utf-8"))
    data["contact"]["window_start"] = "22:00"
    data["penalty"]["multiplier_min"] = "2"
    del data["limitation"]["source"]
    with pytest.raises(RulePackError) as refused:
        parse_pack("cn", json.dumps(data))
    message = str(refused.value)
    assert message.startswith("rule pack cn:")
    assert "contact" in message and "penalty" in message and "limitation.source" in message
    with pytest.raises(RulePackError, match="no rule pack 'xx'"):
        load_pack("xx")


def test_dueflow_statement_shows_the_day_a_holiday_due_date_is_payable(tmp_path: Path) -> None:
    book = tmp_path / "book.jsonl"
    book.write_text(loan("2026-09-01").model_dump_json(exclude_none=True) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["statement", "--book", str(book), "--loan", "H1", "--as-of", "2026-10-09"])
    assert result.exit_code == 0, result.stderr
    assert "2026-10-01" in result.stdout and "2026-10-08" in result.stdout and "DPD 1" in result.stdout
    assert "rule pack" in result.stdout
    shown = CliRunner().invoke(
        app, ["statement", "--book", str(book), "--loan", "H1", "--as-of", "2026-10-08", "--json"]
    )
    assert json.loads(shown.stdout)["dpd"] == 0


def test_pboc_1999_interest_rules_art_25_penalty_on_principal_and_compound_interest_on_interest_apart() -> None:
    """中国人民银行《人民币利率管理规定》第二十五条: 逾期贷款按罚息利率计收罚息; 贷款逾期后对不能按时支付的
    利息按罚息利率计收复利. Both accrue at the same daily rate (0.12 x 1.5 / 360 = 0.0005): installment 1 of
    the docs/formulas.md example, 71 days late on 2026-05-10, owes 罚息 946.19 x 71 x 0.0005 = 33.59 and
    复利 120.00 x 71 x 0.0005 = 4.26, which add up to its 37.85 of penalty."""
    first = assess(make_loan(), date(2026, 5, 10)).lines[0]
    assert (first.penalty_on_principal_accrued, first.compound_interest_accrued) == (Decimal("33.59"), Decimal("4.26"))
    assert first.penalty_on_principal_accrued + first.compound_interest_accrued == first.penalty_accrued


def test_dueflow_statement_prints_penalty_on_principal_and_compound_interest_separately(tmp_path: Path) -> None:
    book = tmp_path / "book.jsonl"
    record = {"loan_id": "L1", "customer_id": "C1", "principal": "12000.00", "annual_rate": "0.12"}
    book.write_text(json.dumps(record | {"term_months": 12, "start_date": "2026-01-31"}) + "\n", encoding="utf-8")
    args = ["statement", "--book", str(book), "--loan", "L1", "--as-of", "2026-05-10"]
    table = CliRunner().invoke(app, args)
    assert "罚息" in table.stdout and "复利" in table.stdout and "33.59" in table.stdout and "4.26" in table.stdout
    assert "18.00% a year" in table.stdout
    line = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)["installments"][0]
    assert (line["penalty_on_principal_accrued"], line["compound_interest_accrued"]) == ("33.59", "4.26")


def test_the_contact_window_and_caps_are_the_loans_packs_else_the_settings() -> None:
    """15 U.S.C. 1692c(a)(1) (8am-9pm) for a us loan whatever the deployment's settings say; a loan under
    no pack keeps the settings' window."""
    from datetime import time

    from dueflow.services.dispatch import contact_rules
    from dueflow.settings import Settings

    settings = Settings(contact_window_start=time(9, 30), contact_window_end=time(18, 0), max_contacts_per_day=2)
    us = contact_rules(settings, loan("2026-01-15", rules="us"))
    assert (us.window_start, us.window_end, us.max_per_day, us.max_per_7_days) == (time(8), time(21), 3, 7)
    plain = contact_rules(settings, loan("2026-01-15", rules=None))
    assert (plain.window_start, plain.window_end, plain.max_per_day) == (time(9, 30), time(18), 2)


def test_reg_f_1006_14_b_2_i_us_calls_are_capped_per_debt_by_dial_attempts_cn_per_customer() -> None:
    """12 CFR 1006.14(b)(2)(i): 7 calls in 7 days about one debt. The us pack caps calls per debt by the
    attempts agents record (a call task is not a call); the cn pack caps SMS and calls per customer."""
    from datetime import UTC, datetime

    from dueflow.domain.case import Case
    from dueflow.services.customers import CustomerRules
    from dueflow.services.dispatch import caps_log, counts_on_customer_log

    us, cn = load_pack("us").contact, load_pack("cn").contact
    assert (us.cap_scope, us.counts, us.max_per_7_days) == ("debt", "attempts", 7) and "1006.14(b)(2)" in us.source
    assert cn.cap_scope == "customer"
    attempt, sms = datetime(2026, 6, 17, 13, tzinfo=UTC), datetime(2026, 6, 17, 14, tzinfo=UTC)
    case = Case(case_id="U1-2026-06-15", loan_id="H1", call_attempts=(attempt.isoformat(),))
    customer = CustomerRules(frozenset(), frozenset(), None, (sms,))
    assert caps_log(loan("2026-01-15", rules="us"), case, "call", customer) == [attempt]
    assert caps_log(loan("2026-01-15", rules="us"), case, "sms", customer) == [sms]
    assert caps_log(loan("2026-01-15", rules="cn"), case, "call", customer) == [sms]
    assert not counts_on_customer_log(loan("2026-01-15", rules="us"), "call")
    assert counts_on_customer_log(loan("2026-01-15", rules="cn"), "call")
    assert counts_on_customer_log(loan("2026-01-15", rules="us"), "sms")


def test_civil_code_arts_687_688_only_a_joint_guarantor_is_asked_to_pay_and_from_30_days() -> None:
    """民法典 第六百八十八条 (连带责任保证: asked when the debtor fails to perform), 第六百八十七条 (一般保证: not
    before enforcement against the debtor); 15 U.S.C. 1692a(3) / 1692c(b) for the us pack."""
    from dueflow.domain.position import assess
    from dueflow.services.notices import guarantor_may_be_asked

    assert "第六百八十八条" in load_pack("cn").guarantors.source and "1692c(b)" in load_pack("us").guarantors.source
    joint = loan("2026-05-15", guarantor={"liability": "joint_several", "phone": "+8613900000001"})
    general = loan("2026-05-15", guarantor={"liability": "general", "phone": "+8613900000001"})
    unpacked = loan("2026-05-15", rules=None, guarantor={"liability": "joint_several", "phone": "+8613900000001"})
    at_29, at_30 = assess(joint, date(2026, 7, 14)), assess(joint, date(2026, 7, 15))
    assert (at_29.dpd, at_30.dpd) == (29, 30)
    assert not guarantor_may_be_asked(joint, at_29) and guarantor_may_be_asked(joint, at_30)
    assert not guarantor_may_be_asked(general, assess(general, date(2026, 9, 1)))
    assert not guarantor_may_be_asked(unpacked, assess(unpacked, date(2026, 9, 1)))


def test_reg_f_1006_14_b_2_ii_no_call_within_seven_days_after_a_conversation() -> None:
    """12 CFR 1006.14(b)(2)(ii): the us pack's quiet period holds calls (not SMS or e-mail) for 7 days
    after a telephone conversation; the cn pack has none."""
    from datetime import UTC, datetime, timedelta

    from dueflow.domain.contact_policy import Channel, Recipient, Verdict, decide
    from dueflow.services.dispatch import _quiet_until

    spoke = datetime(2026, 6, 17, 14, tzinfo=UTC)  # 10:00 in New York
    until = _quiet_until(loan("2026-01-15", rules="us"), spoke)
    assert until == spoke + timedelta(days=7) and _quiet_until(loan("2026-01-15", rules="cn"), spoke) is None
    who = Recipient("America/New_York", frozenset(Channel), calls_quiet_until=until)
    call = decide(Channel.CALL, spoke + timedelta(days=6, hours=23), who, [])
    assert (call.verdict, call.not_before) == (Verdict.DEFER, until)
    assert decide(Channel.SMS, spoke + timedelta(days=1), who, []).verdict == Verdict.SEND
    assert decide(Channel.CALL, until, who, []).verdict == Verdict.SEND


def test_reg_f_1006_6_e_and_1692g_us_messages_carry_the_opt_out_and_the_validation_notice() -> None:
    """12 CFR 1006.6(e): every electronic message under the us pack says how to opt out; 15 U.S.C. 1692g(a)
    and 12 CFR 1006.34: the validation notice (within 5 days of first contact) gives the dispute date."""
    from dueflow.domain.messages import render
    from dueflow.domain.position import assess
    from dueflow.services.notices import reminder_values
    from dueflow.settings import Settings

    us = loan("2026-01-15", rules="us", currency="USD", customer={"language": "en", "timezone": "America/New_York"})
    pack = load_pack("us").messages
    assert {"opt_out_notice", "validation_notice"} <= set(pack.mandatory_lines) and pack.validation_notice_days == 5
    values = reminder_values(us, assess(us, date(2026, 3, 1)), Settings())
    reminder = render("first_reminder", "en", values)
    assert "Reply STOP to opt out" in reminder.text
    notice = render("validation_notice", "en", values | {"dispute_by": "2026-03-31", "sender_role": "debt_collector"})
    assert "dispute all or part of this debt by 2026-03-31" in notice.text
    assert notice.text.startswith("This is a communication from a debt collector about the loan ending")
    # the bank collecting its own loan is its creditor, and says so
    own = render("validation_notice", "en", values | {"dispute_by": "2026-03-31", "sender_role": "creditor"})
    assert own.text.startswith(f"This is a communication from {Settings().bank_name}, the creditor of this loan,")
    assert "debt collector" not in own.text
    cn_values = reminder_values(loan("2026-01-15"), assess(loan("2026-01-15"), date(2026, 3, 1)), Settings())
    assert "opt_out_line" not in cn_values


def test_consumer_complaint_measures_cn_messages_say_how_to_complain() -> None:
    """《银行业保险业消费投诉处理管理办法》: under the cn pack every message carries the complaint route (the
    bank's hotline from the settings)."""
    from dueflow.domain.messages import render
    from dueflow.domain.position import assess
    from dueflow.services.notices import reminder_values
    from dueflow.settings import Settings

    assert "complaint_route" in load_pack("cn").messages.mandatory_lines
    cn = loan("2026-01-15")
    values = reminder_values(cn, assess(cn, date(2026, 3, 1)), Settings(bank_hotline="95000"))
    assert "如对催收有异议或需投诉，请致电95000" in render("first_reminder", "zh-CN", values).text


def test_credit_reporting_regulation_art_15_and_reg_f_1006_30_a_the_customer_is_told_before_reporting() -> None:
    """《征信业管理条例》第十五条 (cn: told in advance, 7 days in the pack); 12 CFR 1006.30(a) (us: a
    communication, then 14 days): the pre-notice names the day reporting may start."""
    from dueflow.domain.messages import render

    assert (load_pack("cn").credit_report_prenotice_days.days, load_pack("us").credit_report_prenotice_days.days) == (
        7,
        14,
    )
    assert "第十五条" in load_pack("cn").credit_report_prenotice_days.source
    assert "1006.30(a)" in load_pack("us").credit_report_prenotice_days.source
    values = {"ref": "0042", "amount": "1066.20", "currency": "CNY", "as_of": "2026-03-01", "bank_phone": "95000"}
    text = render("credit_report_prenotice", "zh-CN", values | {"report_from": "2026-03-08", "bank": "示例银行"}).text
    assert "《征信业管理条例》第十五条" in text and "2026-03-08" in text


def test_a_year_the_calendar_does_not_cover_warns_and_doctor_says_so() -> None:
    """chinesecalendar 1.11 has no State Council schedule for 2027: the weekday rule stands in, never
    silently (a warning once a year), and ``dueflow doctor`` names the year and exits 1."""
    import warnings

    from dueflow.domain.rules import CalendarNotCovered, _warn_uncovered, calendar_years, is_working_day

    covered = calendar_years("cn")
    assert covered is not None and covered[0] <= 2026 <= covered[1] < 2027
    _warn_uncovered.cache_clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert is_working_day(date(2027, 10, 1), "cn") is True  # a Friday: the weekday rule, not 国庆节
        assert is_working_day(date(2027, 10, 4), "cn") is True
    assert [type(w.message) for w in caught] == [CalendarNotCovered] and "2027" in str(caught[0].message)
    result = CliRunner().invoke(app, ["doctor", "--as-of", "2026-12-04"])
    assert result.exit_code == 1 and "NOT COVERED: 2027" in result.stdout and "2027" in result.stderr
    assert CliRunner().invoke(app, ["doctor", "--as-of", "2025-06-01", "--json"]).exit_code == 0


def test_reg_f_1006_34_b_5_five_business_days_skip_weekends_and_legal_public_holidays() -> None:
    """12 CFR 1006.34(b)(5): receipt may be assumed 5 days after sending, excluding legal public holidays
    (5 U.S.C. 6103), Saturdays and Sundays; the us pack's calendar counts them."""
    from dueflow.domain.rules import business_days_after, is_working_day

    us = load_pack("us")
    assert us.calendar.kind == "us_federal" and us.messages.assumed_receipt_business_days == 5
    # Juneteenth (Friday 2026-06-19) and the weekend are skipped: sent Wednesday 06-17, received Thursday 06-25
    assert business_days_after(date(2026, 6, 17), 5, "us_federal") == date(2026, 6, 25)
    assert business_days_after(date(2026, 6, 17), 5, "weekdays") == date(2026, 6, 24)
    # Thanksgiving (Thursday 2026-11-26); Independence Day 2027 falls on a Sunday, observed Monday 07-05
    assert not is_working_day(date(2026, 11, 26), "us_federal")
    assert not is_working_day(date(2027, 7, 5), "us_federal")
    assert business_days_after(date(2026, 11, 25), 5, "us_federal") == date(2026, 12, 3)
    # the us pack moves no due date (no holiday grace)
    assert us.payable_on(date(2026, 6, 19)) == date(2026, 6, 19)
