"""Customer message templates (zh-CN and en) and their rendering.

Messages are polite and factual: what is due, by when, and how to reach the bank. They carry a loan
reference (the last 4 characters of the loan id) and amounts, never the customer's name or other PII,
so that a rendered text reveals nothing beyond the debt to whoever reads the phone's lock screen; the
contact policy makes sure it only goes to the borrower's own verified contacts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from string import Formatter
from typing import Literal

from dueflow.domain.money import display, fmt

Language = Literal["zh-CN", "en"]


@dataclass(frozen=True, slots=True)
class Template:
    subject: str  # email subject (SMS ignores it)
    body: str


TEMPLATES: dict[str, dict[Language, Template]] = {
    "pre_due_reminder": {
        "zh-CN": Template(
            "还款提醒",
            "尊敬的客户，您尾号{ref}的贷款将于{due_date}到期，应还金额{amount}。请按时还款，如有疑问请致电{bank_phone}。",
        ),
        "en": Template(
            "Repayment reminder",
            "Dear customer, {amount} on your loan ending {ref} is due on {due_date}. "
            "Please pay on time; questions: {bank_phone}.",
        ),
    },
    "first_reminder": {
        "zh-CN": Template(
            "逾期还款提醒",
            "尊敬的客户，您有一笔贷款已逾期，请尽快联系我们以安排还款。尾号{ref}，截至{as_of}逾期金额{amount}，"
            "客服电话{bank_phone}。逐项账单已发送至您的邮箱，也可致电索取。",
        ),
        "en": Template(
            "Your loan payment is overdue",
            "Dear customer, a payment on your loan ending {ref} is overdue: {amount} as of {as_of}. "
            "Please contact us soon to arrange repayment: {bank_phone}. The itemised statement is in your "
            "e-mail, or call us for it.",
        ),
    },
    "second_reminder": {
        "zh-CN": Template(
            "逾期还款再次提醒",
            "尊敬的客户，您尾号{ref}的贷款仍有{amount}逾期未还。我们愿意与您协商还款方案，请致电{bank_phone}。",
        ),
        "en": Template(
            "Second reminder: overdue payment",
            "Dear customer, {amount} on your loan ending {ref} is still overdue. "
            "We are glad to agree a repayment plan with you: {bank_phone}.",
        ),
    },
    "plan_installment_reminder": {
        "zh-CN": Template(
            "还款计划提醒",
            "尊敬的客户，您尾号{ref}的还款计划第{seq}期{amount}将于{due_date}到期，请按时还款。客服电话{bank_phone}。",
        ),
        "en": Template(
            "Repayment plan reminder",
            "Dear customer, installment {seq} of your repayment plan for the loan ending {ref}, "
            "{amount}, is due on {due_date}. Questions: {bank_phone}.",
        ),
    },
    "plan_progress": {
        "zh-CN": Template(
            "还款进度通知",
            "尊敬的客户，感谢您按计划还款。尾号{ref}的贷款已还{paid}，尚余{amount}。客服电话{bank_phone}。",
        ),
        "en": Template(
            "Your repayment progress",
            "Dear customer, thank you for keeping to your plan. On the loan ending {ref} you have repaid "
            "{paid}; {amount} remains. Questions: {bank_phone}.",
        ),
    },
    "promise_missed": {
        "zh-CN": Template(
            "还款承诺提醒",
            "尊敬的客户，您承诺于{due_date}前偿还尾号{ref}贷款的{amount}，我们尚未收到全部款项。"
            "请尽快还款或致电{bank_phone}与我们沟通。",
        ),
        "en": Template(
            "About your promise to pay",
            "Dear customer, you promised to pay {amount} on the loan ending {ref} by {due_date}; "
            "we have not received all of it. Please pay or call us soon: {bank_phone}.",
        ),
    },
    "broken_promise": {
        "zh-CN": Template(
            "还款计划未履行提醒",
            "尊敬的客户，您尾号{ref}的还款计划第{seq}期{amount}已逾期未还。请尽快还款或致电{bank_phone}与我们沟通。",
        ),
        "en": Template(
            "Missed repayment plan installment",
            "Dear customer, installment {seq} of your plan for the loan ending {ref}, {amount}, "
            "was not paid. Please pay or call us soon: {bank_phone}.",
        ),
    },
    # 15 U.S.C. 1692g(a), 12 CFR 1006.34: the validation notice (us pack), within 5 days of first contact
    "validation_notice": {
        "zh-CN": Template(
            "债务确认通知",
            "{sender}。截至{as_of}，您尾号{ref}的贷款欠款{amount}。如对全部或部分债务有异议，请于{dispute_by}前"
            "告知我们；收到异议后，我们将在核实前暂停催收。电话{bank_phone}。",
        ),
        "en": Template(
            "Validation notice about your debt",
            "This is a communication from {sender} about the loan ending {ref}. As of {as_of} you owe "
            "{amount}. If you dispute all or part of this debt by {dispute_by}, we will stop collection until "
            "we send you verification. You may also ask for the name and address of the original creditor. "
            "Call {bank_phone}.",
        ),
    },
    # 征信业管理条例 第十五条 (cn), 12 CFR 1006.30(a) (us): the customer hears before anything adverse is
    # reported to a credit bureau, and when it may be
    "credit_report_prenotice": {
        "zh-CN": Template(
            "征信报送事先告知",
            "尊敬的客户，您尾号{ref}的贷款截至{as_of}已逾期，欠款{amount}。根据《征信业管理条例》第十五条，特此事先告知："
            "如仍未还清，我行将自{report_from}起向金融信用信息基础数据库报送该笔逾期信息。如有疑问请致电{bank_phone}。",
        ),
        "en": Template(
            "Before we report to the credit bureaus",
            "Dear customer, the loan ending {ref} is past due: {amount} as of {as_of}. If it is still unpaid, "
            "we may report it to the credit reporting agencies from {report_from}. Questions: {bank_phone}.",
        ),
    },
    # to a guarantor liable with the borrower (连带责任保证人), where the pack allows it: never to anyone else
    "guarantor_notice": {
        "zh-CN": Template(
            "保证责任提示",
            "尊敬的客户，您为尾号{ref}的贷款提供了连带责任保证。该贷款截至{as_of}已逾期，欠款{amount}。"
            "请督促借款人尽快还款，或致电{bank_phone}与我们联系。",
        ),
        "en": Template(
            "About the loan you guaranteed",
            "Dear customer, you guaranteed the loan ending {ref}. As of {as_of} it is past due: {amount}. "
            "Please ask the borrower to pay, or call us: {bank_phone}.",
        ),
    },
}

# 12 CFR 1006.6(e): every electronic communication carries a clear way to opt out (us pack)
OPT_OUT_LINES: dict[Language, str] = {
    "zh-CN": "回复TD退订短信；邮件请回复“退订”。",
    "en": "Reply STOP to opt out of texts; reply UNSUBSCRIBE to opt out of e-mails.",
}

# how to complain (《银行业保险业消费投诉处理管理办法》: banks tell customers how; cn pack): the hotline
COMPLAINT_LINES: dict[Language, str] = {
    "zh-CN": "如对催收有异议或需投诉，请致电{bank_phone}。",
    "en": "To dispute or complain about this collection, call {bank_phone}.",
}

# What an agent says on the call a call task asks for (in the customer's language): the script, not the
# text of the SMS sent the same day. Same placeholders as the message of the same name.
CALL_SCRIPTS: dict[Language, Template] = {
    "zh-CN": Template(
        "外呼任务",
        "外呼脚本：您好，我是银行贷款服务专员。确认对方为借款人本人后说明：尾号{ref}的贷款逾期金额{amount}。"
        "询问未还款原因及可还款时间；如客户有困难，介绍分期还款方案；如客户承诺还款，记录日期和金额。"
        "礼貌结束，不施压；客户要求不再致电时记录并尊重。",
    ),
    "en": Template(
        "Call task",
        "Call script: introduce yourself as the bank's loan service officer; once the borrower is confirmed, say "
        "the loan ending {ref} is {amount} overdue. Ask why and when they can pay; if they are in "
        "difficulty, offer a repayment plan; if they promise to pay, record the date and amount. Stay courteous, "
        "never press; if they ask not to be called, record it and respect it.",
    ),
}

_AMOUNT_FIELDS = frozenset({"amount", "paid"})


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    template: str
    language: Language
    subject: str
    text: str


def loan_reference(loan_id: str) -> str:
    """The last 4 characters of the loan id: enough for the customer, little for anyone else."""
    return loan_id[-4:]


def _amount(key: str, value: object, currency: str) -> object:
    """An amount placeholder as the customer reads it (``¥1,066.20``); other values as they are."""
    if key not in _AMOUNT_FIELDS:
        return value
    if currency:
        return display(value, currency)
    return fmt(value) if isinstance(value, Decimal) else value


def call_script(template_id: str, language: Language, values: Mapping[str, object]) -> RenderedMessage:
    """The agent's script for the call task queued with ``template_id`` (its values fill the script)."""
    script = CALL_SCRIPTS[language] if language in CALL_SCRIPTS else CALL_SCRIPTS["en"]
    currency = str(values.get("currency") or "")
    formatted = {k: _amount(k, v, currency) for k, v in values.items()}
    filled = {name: formatted.get(name, "?") for _, name, _, _ in Formatter().parse(script.body) if name}
    return RenderedMessage(template_id, language, script.subject, script.body.format(**filled))


STATEMENT_WORDS: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "title": "逾期账单（截至{as_of}）",
        "line": "第{seq}期 {due_date}到期：本金{principal} 利息{interest} 罚息{penalty} 复利{compound} "
        "已付{paid} 应还{owed}",
        "total": "合计应还{total}（罚息、复利按年利率{rate}、每年360天按日计收）",
        "pay": "还款方式：{instructions}",
    },
    "en": {
        "title": "Itemised overdue statement as of {as_of}",
        "line": "Installment {seq} due {due_date}: principal {principal}, interest {interest}, penalty interest "
        "{penalty}, compound interest {compound}, paid {paid}, owed {owed}",
        "total": "Total owed {total} (penalty and compound interest at {rate} a year, daily, 360-day year)",
        "pay": "How to pay: {instructions}",
    },
}


def statement_text(language: Language, statement: Mapping[str, object], rate: str, instructions: str) -> str:
    """The itemised statement as the first e-mail carries it (no PII: seq, dates, amounts)."""
    words = STATEMENT_WORDS.get(language, STATEMENT_WORDS["en"])
    lines = [words["title"].format(as_of=statement["as_of"])]
    for item in statement["installments"]:  # type: ignore[attr-defined]
        lines.append(
            words["line"].format(
                seq=item["seq"],
                due_date=item["due_date"],
                principal=item["principal_outstanding"],
                interest=item["interest_outstanding"],
                penalty=item["penalty_on_principal_accrued"],
                compound=item["compound_interest_accrued"],
                paid=fmt(
                    Decimal(item["principal_paid"]) + Decimal(item["interest_paid"]) + Decimal(item["penalty_paid"])
                ),
                owed=item["total_outstanding"],
            )
        )
    total = display(str(statement["total_overdue"]), str(statement["currency"]))
    lines.append(words["total"].format(total=total, rate=rate))
    lines.append(words["pay"].format(instructions=instructions))
    return "\n".join(lines)


# Who a validation notice says it is from ({sender}): the bank collecting its own loan is the creditor
# (``Settings.collects_own_debt``); a collection agency acting for it says it is a debt collector.
SENDERS: dict[str, dict[str, str]] = {
    "creditor": {"zh-CN": "本通知来自您的贷款人{bank}", "en": "{bank}, the creditor of this loan,"},
    "debt_collector": {"zh-CN": "本通知来自催收方", "en": "a debt collector"},
}


def render(template_id: str, language: Language, values: Mapping[str, object]) -> RenderedMessage:
    """Render a template; amounts (``amount``, ``paid``) are formatted with 2 places. Every placeholder
    must be given (a missing one is an error, not a blank in a customer's message)."""
    try:
        template = TEMPLATES[template_id][language]
    except KeyError:
        raise ValueError(f"no template {template_id!r} in {language!r}") from None
    currency = str(values.get("currency") or "")
    formatted = {k: _amount(k, v, currency) for k, v in values.items()}
    needed = {name for _, name, _, _ in Formatter().parse(template.body) if name}
    if "sender" in needed and "sender" not in formatted and values.get("sender_role") in SENDERS:
        sender = SENDERS[str(values["sender_role"])]
        formatted["sender"] = sender.get(language, sender["en"]).format(bank=values.get("bank", ""))
    missing = sorted(needed - formatted.keys())
    if missing:
        raise ValueError(f"template {template_id!r} needs {', '.join(missing)}")
    body = template.body.format(**formatted)
    if values.get("complaint_line"):  # the pack's complaint route
        line = COMPLAINT_LINES.get(language, COMPLAINT_LINES["en"])
        body = f"{body}{'' if language == 'zh-CN' else ' '}{line.format(bank_phone=values.get('bank_phone', ''))}"
    if values.get("opt_out_line"):  # the pack's mandatory opt-out notice (Reg F 1006.6(e))
        body = f"{body} {OPT_OUT_LINES.get(language, OPT_OUT_LINES['en'])}"
    bank = values.get("bank")
    if bank:  # the sender's signature: 【银行名】 leads a Chinese message; an English one is signed
        body = f"【{bank}】{body}" if language == "zh-CN" else f"{body} — {bank}"
    if formatted.get("statement"):  # an e-mail with the itemised statement below the message
        body = f"{body}\n\n{formatted['statement']}"
    return RenderedMessage(template_id, language, template.subject, body)
