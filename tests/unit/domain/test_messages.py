"""Message templates: both languages, every placeholder filled, amounts with 2 places, no PII."""

from __future__ import annotations

import pytest

from dueflow.domain.messages import TEMPLATES, loan_reference, render
from tests.conftest import D

VALUES = {
    "ref": "0042",
    "amount": D("1066.2"),
    "paid": D("500"),
    "currency": "CNY",
    "due_date": "2026-07-15",
    "seq": 2,
    "bank_phone": "400-000-0000",
    "bank": "示例银行",
    "as_of": "2026-07-20",
    "dispute_by": "2026-08-19",
    "sender_role": "creditor",
    "report_from": "2026-07-27",
}


def test_first_reminder_in_chinese_is_the_polite_standard_text() -> None:
    message = render("first_reminder", "zh-CN", VALUES)
    # signed by the bank (【银行名】), the amount as the customer reads it
    assert message.text.startswith("【示例银行】尊敬的客户，您有一笔贷款已逾期，请尽快联系我们以安排还款。")
    assert "截至2026-07-20逾期金额¥1,066.20" in message.text and "400-000-0000" in message.text
    assert "逐项账单已发送至您的邮箱" in message.text  # how to get the itemised statement
    assert message.subject == "逾期还款提醒"


def test_first_reminder_in_english() -> None:
    message = render("first_reminder", "en", VALUES | {"bank": "Example Bank", "currency": "USD"})
    assert message.text == (
        "Dear customer, a payment on your loan ending 0042 is overdue: $1,066.20 as of 2026-07-20. "
        "Please contact us soon to arrange repayment: 400-000-0000. The itemised statement is in your e-mail, "
        "or call us for it. — Example Bank"
    )


def test_amounts_read_in_their_currency_yen_has_no_minor_unit() -> None:
    from dueflow.domain.money import display

    assert (display("5336.26", "CNY"), display("5336.26", "USD"), display("1200", "JPY")) == (
        "¥5,336.26",
        "$5,336.26",
        "¥1,200",
    )
    assert display("10.5", "CHF") == "10.50 CHF"


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_template_renders_in_both_languages(template_id: str, language: str) -> None:
    message = render(template_id, language, VALUES)  # type: ignore[arg-type]
    assert "{" not in message.text and message.subject


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(ValueError, match="needs amount"):
        render("first_reminder", "en", {k: v for k, v in VALUES.items() if k != "amount"})
    with pytest.raises(ValueError, match="no template"):
        render("threat", "en", VALUES)


def test_loan_reference_is_the_last_four_characters() -> None:
    assert loan_reference("L00000042") == "0042"
