"""``report.html``: one self-contained page for a collections manager, from a simulation's results.

No scripts, no fonts, no links: the charts are inline SVG drawn here (each with a ``viewBox``, so it
scales to a phone, and an accessible name), so the page opens offline in any browser and can be attached
to an e-mail or an audit file as it is. The business numbers come first, each with a one-line
definition; every figure is read from ``summary.json`` (its ``kpis``) or ``cases.jsonl``, so a card and
its chart always agree. The engineers' checks (invariants, AWS calls and cost) close the page. The page
is in English or Chinese (``lang``); amounts are formatted per locale with Babel.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal, format_percent

from dueflow.domain.classification import BUCKETS

# Okabe-Ito: safe for the common colour-vision deficiencies; good outcomes blue/green, bad ones
# vermillion/orange, neutral grey. Every series also has a text label (never colour alone).
BLUE, GREEN, VERMILLION, ORANGE, GREY, SKY, PURPLE = (
    "#0072B2",
    "#009E73",
    "#D55E00",
    "#E69F00",
    "#7F7F7F",
    "#56B4E9",
    "#CC79A7",
)
OUTCOME_COLOURS = {"CURED": BLUE, "SETTLED": GREEN, "LITIGATION": VERMILLION, "WRITE_OFF_REVIEW": ORANGE, "OPEN": GREY}
SERIES_COLOURS = (BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, GREY)
DASHES = ("", "6 3", "2 3", "8 3 2 3")
SMALL_SAMPLE = 30  # a roll-rate row of fewer loans is flagged

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:16px auto;
color:#1f2328;max-width:1100px;padding:0 12px;line-height:1.4}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:30px 0 6px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 4px}p.note,figcaption{color:#57606a;font-size:13px;margin:2px 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px;margin:14px 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px}
.card b{display:block;font-size:20px}.card span{display:block;font-size:13px;font-weight:600}
.card small{display:block;font-size:12px;color:#57606a;margin-top:2px}
.wide{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right}
th{background:#f6f8fa}td.l,th.l{text-align:left}caption{text-align:left;font-size:13px;color:#57606a;padding:2px 0}
figure{margin:8px 0}svg{max-width:100%;height:auto}svg text{font-size:12px;fill:#1f2328}
.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:18px;height:10px;margin-right:4px;vertical-align:middle}
.flag{color:#9a6700;font-weight:600}.engineering{margin-top:40px;border-top:3px double #d0d7de}
"""

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "DueFlow collection report",
        "heading": "Collections: {loans} loans over {days} days from {start}",
        "intro": "Played through the real workflow (the deployed state machine and the Lambda handlers) on the "
        "local runtime. Amounts in {currency}. Every figure is read from summary.json and cases.jsonl.",
        "results": "Results",
        "cases_opened": "Cases opened",
        "cases_opened_def": "collection cases the daily scan opened in the run",
        "cure_rate": "Cure rate",
        "cure_rate_def": "cases closed as cured (brought back to 0 days past due) / cases closed",
        "settle_rate": "Settled by plan",
        "settle_rate_def": "cases closed by a completed repayment plan / cases closed",
        "recovered": "Recovered",
        "recovered_def": "payments on a case's loan from the day it opened to the day it closed (or the run's end)",
        "amount_in_collection": "Amount in collection",
        "amount_in_collection_def": "what the cases owed (total overdue) on the day each opened",
        "recovery_rate": "Recovery rate",
        "recovery_rate_def": "the part of each case's amount at opening paid while it was open / amount in collection",
        "liquidation_rate": "Liquidation rate",
        "liquidation_rate_def": "recovered / the balance placed in collection (outstanding principal, overdue "
        "interest and penalty of each case on its opening day)",
        "aging": "Aging: overdue amount by bucket, start and end",
        "aging_def": "The book's overdue amount in each days-past-due bucket the day before the run and on its "
        "last day (the number of loans in brackets).",
        "start": "start",
        "end": "end",
        "bucket": "bucket",
        "promise_kept_rate": "Promises kept",
        "promise_kept_rate_def": "promises to pay kept / promises kept or broken",
        "contacts_per_case": "Contacts per case",
        "contacts_per_case_def": "SMS, e-mails and agent calls that went out for cases / cases opened",
        "complaint_resolution_days": "Complaint resolution",
        "complaint_resolution_days_def": "mean days from a complaint's opening to its resolution ({n} resolved)",
        "cost_per_10k_recovered_usd": "Cost to collect",
        "waivers_granted": "Waivers granted",
        "waivers_granted_def": "penalty and interest waived with accepted plans; {reinstated} of it owed again "
        "because the plan broke (clawback)",
        "cost_per_10k_recovered_usd_def": "estimated AWS cost of the run, messages included (USD), per 10,000 "
        "recovered",
        "days_unit": "{value} days",
        "none": "none",
        "outcomes": "Outcomes",
        "outcomes_def": "How the cases opened in the run ended (open: still in collection at the run's end).",
        "CURED": "cured",
        "SETTLED": "settled by plan",
        "LITIGATION": "to litigation",
        "WRITE_OFF_REVIEW": "write-off review",
        "OPEN": "still open",
        "by_product": "Outcomes by product",
        "product": "product",
        "by_vintage": "Outcomes by vintage (the half-year the loan was granted)",
        "vintage": "vintage",
        "cases": "cases",
        "recovery_curve": "Recovery curve",
        "recovery_curve_def": "Cumulative payments received on cases while open (the Recovered card is its last "
        "point: {total}).",
        "day": "day",
        "cases_axis": "cases",
        "messages_axis": "messages",
        "flow": "Cases opened and closed per day",
        "flow_def": "Opened: the daily scan found a loan past the grace period. Closed: cured by a payment, or "
        "otherwise (settled, litigation, write-off review).",
        "first_day": "The first day is left out of the chart: {n} cases opened for loans already overdue when the "
        "run began.",
        "opened": "opened",
        "cured": "cured",
        "closed_otherwise": "closed otherwise",
        "open_cases_axis": "open cases",
        "reach": "Stages the cases reached",
        "reach_def": "How many cases entered each stage at least once. Not a funnel: a plan proposed on the "
        "first call skips 'Negotiate by phone', and a case may wait for agreement several times.",
        "roll": "Bucket roll rates, month over month",
        "roll_def": "Each row: the loans in a days-past-due bucket at one month end and where they were a "
        "month later (M0 current, M1 1-30 days past due, M2 31-60, ...). Blue: improved or stayed current; "
        "vermillion: rolled forward; grey: stayed delinquent. Rows of fewer than {n} loans are flagged.",
        "small": "small sample",
        "from_to": "from / to",
        "contacts": "Contacts per channel per day",
        "contacts_def": "Messages that went out (pre-due reminders included), each through the contact rules: "
        "hours in the customer's zone, caps, opt-outs.",
        "sms": "SMS",
        "email": "e-mail",
        "call": "agent call",
        "open_cases": "Open cases ({n})",
        "no_open": "No case is open at the run's end.",
        "closed_cases": "Closed cases ({n})",
        "loan": "loan",
        "case": "case",
        "opened_on": "opened",
        "closed_on": "closed",
        "stage": "stage",
        "dpd": "days past due",
        "owed": "owed",
        "next": "next action",
        "outcome": "outcome",
        "more": "and {n} more in cases.jsonl",
        "portfolio": "The book at the start and the end",
        "portfolio_def": "Overdue at start: the book's total overdue (principal, interest, penalty) the day before "
        "the run. Overdue at end: the same on its last day; it grows as installments keep falling due. "
        "Recovered counts payments while a case was open, which pay installments that fell due during the "
        "case too: the three are different measures and need not add up.",
        "overdue_at_start": "Overdue at start",
        "overdue_at_end": "Overdue at end",
        "engineering": "For engineers",
        "invariants": "Invariants",
        "invariants_def": "Checked after the run against the loan book and what the SMS and e-mail providers "
        "accepted (not against DueFlow's own records).",
        "aws": "AWS calls and cost",
        "aws_def": "Every AWS API call the run made, by service; the estimated monthly cost of this book at list "
        "prices (USD).",
        "holds": "holds",
        "violations": "{n} violations",
        "invariant": "invariant",
        "result": "result",
        "example": "first example",
        "service": "service",
        "calls": "calls",
        "monthly_cost": "estimated AWS cost per month",
        "audit_chains": "audit chains verified: {ok}",
        "yes": "yes",
        "no": "NO",
    },
    "zh-CN": {
        "title": "DueFlow 催收报告",
        "heading": "催收：{loans} 笔贷款，自 {start} 起 {days} 天",
        "intro": "在本地运行环境中以真实流程（部署的状态机与 Lambda 处理程序）运行。金额单位：{currency}。"
        "所有数字均读自 summary.json 与 cases.jsonl。",
        "results": "催收成效",
        "cases_opened": "新建案件",
        "cases_opened_def": "运行期间每日扫描新建的催收案件数",
        "cure_rate": "治愈率",
        "cure_rate_def": "以治愈结案（恢复至未逾期）的案件 / 已结案件",
        "settle_rate": "还款计划结清",
        "settle_rate_def": "完成还款计划而结案的案件 / 已结案件",
        "recovered": "回收金额",
        "recovered_def": "案件存续期间（立案日至结案日或运行结束）该贷款收到的还款",
        "amount_in_collection": "在催金额",
        "amount_in_collection_def": "各案件立案当日的逾期总额（本金、利息、罚息）",
        "recovery_rate": "回收率",
        "recovery_rate_def": "各案件立案时欠款中在案件存续期间收回的部分 / 在催金额",
        "liquidation_rate": "清收率",
        "liquidation_rate_def": "回收金额 / 移交催收的余额（各案件立案日的未还本金、逾期利息与罚息）",
        "aging": "账龄：各逾期段的逾期金额（期初与期末）",
        "aging_def": "运行前一天与最后一天整个组合在各逾期段的逾期金额（括号内为贷款笔数）。",
        "start": "期初",
        "end": "期末",
        "bucket": "逾期段",
        "promise_kept_rate": "承诺兑现率",
        "promise_kept_rate_def": "兑现的还款承诺 / 已兑现或已违约的承诺",
        "contacts_per_case": "每案触达次数",
        "contacts_per_case_def": "为案件发出的短信、邮件与外呼任务 / 新建案件",
        "complaint_resolution_days": "投诉处理时长",
        "complaint_resolution_days_def": "投诉从受理到解决的平均天数（已解决 {n} 件）",
        "cost_per_10k_recovered_usd": "催收成本",
        "waivers_granted": "减免金额",
        "waivers_granted_def": "随还款计划批准的罚息与利息减免；其中 {reinstated} 因计划未履行而恢复收取",
        "cost_per_10k_recovered_usd_def": "本次运行的 AWS 估算成本（含消息，美元）/ 每回收 10,000",
        "days_unit": "{value} 天",
        "none": "无",
        "outcomes": "结案情况",
        "outcomes_def": "运行中新建案件的结果（未结：运行结束时仍在催收）。",
        "CURED": "已治愈",
        "SETTLED": "还款计划结清",
        "LITIGATION": "转诉讼",
        "WRITE_OFF_REVIEW": "核销审查",
        "OPEN": "未结",
        "by_product": "按产品的结案情况",
        "product": "产品",
        "by_vintage": "按放款批次（放款半年度）的结案情况",
        "vintage": "放款批次",
        "cases": "案件",
        "recovery_curve": "回收曲线",
        "recovery_curve_def": "案件存续期间累计收到的还款（“回收金额”即曲线终点：{total}）。",
        "day": "日期",
        "cases_axis": "案件数",
        "messages_axis": "消息数",
        "flow": "每日新建与结案",
        "flow_def": "新建：每日扫描发现超过宽限期的贷款。结案：因还款治愈，或其他方式（结清、诉讼、核销审查）。",
        "first_day": "图中未含第一天：运行开始时已逾期的贷款在当天新建了 {n} 个案件。",
        "opened": "新建",
        "cured": "治愈",
        "closed_otherwise": "其他结案",
        "open_cases_axis": "在催案件",
        "reach": "案件到达的阶段",
        "reach_def": "至少进入过各阶段一次的案件数。并非漏斗：首次联系即提出还款计划的案件会跳过“电话协商”，"
        "一个案件也可能多次等待协议。",
        "roll": "逾期段月度迁徙率",
        "roll_def": "每行：某月末处于某逾期段的贷款在一个月后的去向（M0 正常，M1 逾期 1-30 天，M2 31-60 天……）。"
        "蓝色：改善或保持正常；朱红：恶化；灰色：仍处逾期。少于 {n} 笔的行会标注。",
        "small": "样本较少",
        "from_to": "由 / 至",
        "contacts": "每日各渠道触达",
        "contacts_def": "发出的消息（含到期前提醒），均经过联系规则：客户当地时段、次数上限、退订。",
        "sms": "短信",
        "email": "邮件",
        "call": "人工外呼",
        "open_cases": "未结案件（{n}）",
        "no_open": "运行结束时没有未结案件。",
        "closed_cases": "已结案件（{n}）",
        "loan": "贷款",
        "case": "案件",
        "opened_on": "立案",
        "closed_on": "结案",
        "stage": "阶段",
        "dpd": "逾期天数",
        "owed": "欠款",
        "next": "下一步",
        "outcome": "结果",
        "more": "另有 {n} 条见 cases.jsonl",
        "portfolio": "运行开始与结束时的贷款组合",
        "portfolio_def": "期初逾期：运行前一天整个组合的逾期总额（本金、利息、罚息）。期末逾期：最后一天的同一数值，"
        "随着分期不断到期而增长。回收金额统计案件存续期间的还款，其中也包括案件期间新到期的分期：三者口径不同，无需相加。",
        "overdue_at_start": "期初逾期",
        "overdue_at_end": "期末逾期",
        "engineering": "工程检查",
        "invariants": "不变量",
        "invariants_def": "运行结束后依据贷款账簿及短信、邮件服务商实际受理的记录检查（而非 DueFlow 自身的记录）。",
        "aws": "AWS 调用与成本",
        "aws_def": "本次运行的每一次 AWS API 调用（按服务）；按公开价格估算本组合每月成本（美元）。",
        "holds": "成立",
        "violations": "{n} 处违反",
        "invariant": "不变量",
        "result": "结果",
        "example": "首个示例",
        "service": "服务",
        "calls": "调用次数",
        "monthly_cost": "每月 AWS 估算成本",
        "audit_chains": "审计哈希链校验：{ok}",
        "yes": "通过",
        "no": "未通过",
    },
}
LANGUAGES = tuple(TEXT)
LOCALES = {"en": "en_US", "zh-CN": "zh_CN"}
CLASSIFICATIONS = {
    "en": {"normal": "normal", "special_mention": "special mention", "substandard": "substandard",
           "doubtful": "doubtful", "loss": "loss"},
    "zh-CN": {"normal": "正常", "special_mention": "关注", "substandard": "次级", "doubtful": "可疑", "loss": "损失"},
}  # fmt: skip
INVARIANT_NAMES = {
    "one_case_per_episode": "one case per delinquency episode",
    "no_loan_left_behind": "no overdue loan left without a case",
    "no_stuck_case": "no case stuck",
    "no_duplicate_message": "no message sent twice",
    "contact_window": "every message inside the contact window",
    "contact_caps": "no customer over the contact caps",
    "opt_outs_respected": "no message on a channel the customer opted out of",
    "audit_complete": "every audit chain verifies, every stage on record",
    "messages_on_record": "every message sent (or in doubt) on record",
    "no_third_party_contact": "no message to a third party (emergency contacts, guarantors the rules exclude)",
    "outcomes_match_baseline": "outcomes equal the baseline run",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


class Page:
    """Formatting and words of one language."""

    def __init__(self, lang: str, currency: str) -> None:
        if lang not in TEXT:
            raise ValueError(f"lang: one of {', '.join(TEXT)}, not {lang!r}")
        self.lang, self.currency, self.locale = lang, currency, LOCALES[lang]

    def t(self, key: str, **values: object) -> str:
        return TEXT[self.lang][key].format(**values)

    def stage(self, name: str) -> str:
        """A state's name for a reader: in Chinese the team's term, the console's name beside it."""
        if self.lang == "zh-CN":
            from dueflow.workflow.definition import STATE_NAMES_ZH

            chinese = STATE_NAMES_ZH.get(name)
            return f"{chinese}（{name}）" if chinese else name
        return name

    def money(self, value: object) -> str:
        return format_currency(Decimal(str(value)), self.currency, locale=self.locale)

    def number(self, value: float | int | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: str | None) -> str:
        return self.t("none") if value is None else format_percent(Decimal(value), "#,##0.0%", locale=self.locale)


def nice_ticks(peak: float, integer: bool) -> list[float]:
    """0 to at least ``peak`` in 1-2-5 steps (whole steps for counts)."""
    if peak <= 0:
        return [0, 1]
    raw = peak / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1, math.ceil(step))
    top = math.ceil(peak / step) * step
    return [i * step for i in range(round(top / step) + 1)]


def chart(
    page: Page,
    name: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    y_title: str,
    x_title: str,
    integer: bool = True,
    bars: bool = False,
    colours: Sequence[str] = SERIES_COLOURS,
    fmt: Callable[[float], str] | None = None,
    height: int = 260,
    end_label: str | None = None,
) -> str:
    """Lines (or grouped bars) over ``labels`` in a scalable SVG with axis titles and an accessible name."""
    width, left, right, top, bottom = 1000, 96, 16, 14, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    fmt = fmt or page.number
    ticks = nice_ticks(max((max(values, default=0) for values in series.values()), default=0), integer)
    peak = ticks[-1] or 1
    n = max(len(labels), 1)
    ident = f"chart-{abs(hash(name)) % 10**8}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}"><title id="{ident}">{_e(name)}</title>'
    ]
    for value in ticks:
        y = top + plot_h - plot_h * value / peak
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaeef2"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(fmt(value))}</text>')
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.0f})">{_e(y_title)}</text>'
    )
    parts.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle">{_e(x_title)}</text>')
    every = max(math.ceil(n / 10), 1)
    for i, label in enumerate(labels):
        if i % every == 0:
            x = left + plot_w * (i + 0.5) / n
            parts.append(f'<text x="{x:.1f}" y="{height - 24}" text-anchor="middle">{_e(label)}</text>')
    slot = plot_w / n
    for index, (series_name, values) in enumerate(series.items()):
        colour = colours[index % len(colours)]
        if bars:
            each = max(slot * 0.8 / max(len(series), 1), 1)
            for i, value in enumerate(values):
                h = plot_h * value / peak
                x = left + slot * i + slot * 0.1 + each * index
                parts.append(
                    f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{each:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{_e(series_name)} {_e(labels[i])}: {_e(fmt(value))}</title></rect>'
                )
        else:
            points = " ".join(
                f"{left + slot * (i + 0.5):.1f},{top + plot_h - plot_h * value / peak:.1f}"
                for i, value in enumerate(values)
            )
            dash = DASHES[index % len(DASHES)]
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" '
                f'{f"stroke-dasharray={chr(34)}{dash}{chr(34)} " if dash else ""}points="{points}"/>'
            )
    if end_label and series:
        last = next(iter(series.values()))
        if last:
            y = top + plot_h - plot_h * last[-1] / peak
            parts.append(
                f'<text x="{width - right - 4}" y="{max(y - 8, top + 12):.1f}" text-anchor="end">{_e(end_label)}</text>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{colours[i % len(colours)]}"></i>{_e(s)}</span>' for i, s in enumerate(series)
    )
    return f'<figure><div class="legend">{legend}</div>{"".join(parts)}</figure>'


def hbars(page: Page, name: str, rows: Sequence[tuple[str, int, str]]) -> str:
    """Horizontal bars with their value written beside (label, count, colour)."""
    width, row, label_w = 1000, 26, 300
    peak = max((count for _, count, _ in rows), default=0) or 1
    height = row * len(rows) + 6
    ident = f"chart-{abs(hash(name)) % 10**8}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}"><title id="{ident}">{_e(name)}</title>'
    ]
    for i, (label, count, colour) in enumerate(rows):
        y = i * row + 3
        w = (width - label_w - 90) * count / peak
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{_e(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{_e(page.number(count))}</text>')
    parts.append("</svg>")
    return f"<figure>{''.join(parts)}</figure>"


def roll_rate_table(matrix: dict[str, dict[str, int]], page: Page | None = None) -> str:
    """Rows: bucket at one month end; columns: bucket a month later; cells: share of the row (and count)."""
    page = page or Page("en", "CNY")
    used = [b for b in BUCKETS if b in matrix or any(b in row for row in matrix.values())]
    head = "".join(f'<th scope="col">{_e(b)}</th>' for b in used)
    rows = []
    for source in used:
        counts = matrix.get(source, {})
        total = sum(counts.values())
        if not total:
            continue
        cells = []
        for target in used:
            count = counts.get(target, 0)
            share = count / total
            worse = BUCKETS.index(target) > BUCKETS.index(source)
            better = BUCKETS.index(target) < BUCKETS.index(source) or target == source == "M0"
            rgb = "213,94,0" if worse else "0,114,178" if better else "127,127,127"
            arrow = "▲ " if worse and count else "▼ " if better and count and source != "M0" else ""
            shade = f"background:rgba({rgb},{share * 0.45:.2f})"
            cells.append(f'<td style="{shade}">{arrow}{share:.1%}<br><small>{count}</small></td>')
        flag = f' <span class="flag">({_e(page.t("small"))})</span>' if total < SMALL_SAMPLE else ""
        rows.append(f'<tr><th scope="row" class="l">{_e(source)} ({total}){flag}</th>{"".join(cells)}</tr>')
    return (
        f'<div class="wide"><table><tr><th scope="col" class="l">{_e(page.t("from_to"))}</th>{head}</tr>'
        f"{''.join(rows)}</table></div>"
    )


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]], left: int = 0) -> str:
    cols = "".join(f'<th scope="col"{" class=l" if i < left else ""}>{_e(h)}</th>' for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=l' if i < left else ''}>{_e(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<div class="wide"><table><caption>{_e(caption)}</caption><tr>{cols}</tr>{body}</table></div>'


def _card(key: str, value: str, label: str, definition: str) -> str:
    return (
        f'<div class="card" data-kpi="{_e(key)}"><b>{_e(value)}</b><span>{_e(label)}</span>'
        f"<small>{_e(definition)}</small></div>"
    )


def render_report(
    summary: dict[str, Any],
    daily: Sequence[dict[str, Any]],
    cases: Sequence[dict[str, Any]],
    lang: str = "en",
    limit: int = 200,
) -> str:
    """The page. ``daily`` has one entry per simulated day; ``cases`` are the lines of cases.jsonl."""
    currency = next((str(c["currency"]) for c in cases if c.get("currency")), "CNY")
    p = Page(lang, currency)
    k = summary.get("kpis") or {}
    outcomes = summary["cases_by_outcome"]
    resolved = int(k.get("complaints_resolved", 0))
    cards = [
        ("cases_opened", p.number(int(k.get("cases_opened", summary["cases_opened"])))),
        ("cure_rate", p.percent(k.get("cure_rate"))),
        ("settle_rate", p.percent(k.get("settle_rate"))),
        ("recovered", p.money(k.get("recovered", summary["recovered"]))),
        ("amount_in_collection", p.money(k.get("amount_in_collection", "0"))),
        ("recovery_rate", p.percent(k.get("recovery_rate"))),
        ("liquidation_rate", p.percent(k.get("liquidation_rate"))),
        ("promise_kept_rate", p.percent(k.get("promise_kept_rate"))),
        ("contacts_per_case", p.number(Decimal(k["contacts_per_case"])) if k.get("contacts_per_case") else p.t("none")),
        (
            "complaint_resolution_days",
            p.t("days_unit", value=p.number(Decimal(k["complaint_resolution_days"])))
            if k.get("complaint_resolution_days")
            else p.t("none"),
        ),
        (
            "cost_per_10k_recovered_usd",
            format_currency(Decimal(k["cost_per_10k_recovered_usd"]), "USD", locale=p.locale)
            if k.get("cost_per_10k_recovered_usd")
            else p.t("none"),
        ),
        ("waivers_granted", p.money(summary.get("waivers_granted", "0"))),
    ]
    card_html = "".join(
        _card(
            key,
            value,
            p.t(key),
            p.t(f"{key}_def", n=resolved, reinstated=p.money(summary.get("waivers_reinstated", "0"))),
        )
        for key, value in cards
    )
    order = ("CURED", "SETTLED", "LITIGATION", "WRITE_OFF_REVIEW", "OPEN")
    outcome_cards = "".join(
        f'<div class="card" data-outcome="{o}"><b style="color:{OUTCOME_COLOURS[o]}">{p.number(outcomes.get(o, 0))}'
        f"</b><span>{_e(p.t(o))}</span></div>"
        for o in order
    )
    labels = [d["date"][5:] for d in daily]
    recovered_curve = [float(Decimal(d["recovered_to_date"])) for d in daily]
    total_recovered = p.money(k.get("recovered", summary["recovered"]))
    first_opened = daily[0]["opened"] if daily else 0
    flow_days = daily[1:] if len(daily) > 1 else daily
    channels = [c for c in ("sms", "email", "call") if any(c in d["messages"] for d in daily)]
    open_rows = [c for c in cases if c["outcome"] == "OPEN"]
    closed_rows = [c for c in cases if c["outcome"] != "OPEN"]
    sections = [
        f"<h1>{_e(p.t('heading', loans=p.number(summary['loans']), days=summary['days'], start=summary['start']))}"
        "</h1>",
        f'<p class="note">{_e(p.t("intro", currency=currency))}</p>',
        f"<h2>{_e(p.t('results'))}</h2>",
        f'<div class="cards">{card_html}</div>',
        f"<h2>{_e(p.t('outcomes'))}</h2>",
        f'<p class="note">{_e(p.t("outcomes_def"))}</p>',
        f'<div class="cards">{outcome_cards}</div>',
        *(
            _table(
                p.t(f"by_{dimension}"),
                [p.t(dimension), p.t("cases"), *(p.t(o) for o in order), p.t("recovered")],
                [
                    [name, p.number(row["cases"]), *(p.number(row.get(o, 0)) for o in order), p.money(row["recovered"])]
                    for name, row in (k.get(f"by_{dimension}") or {}).items()
                ],
                left=1,
            )
            for dimension in ("product", "vintage")
        ),
        f"<h2>{_e(p.t('recovery_curve'))}</h2>",
        f'<p class="note">{_e(p.t("recovery_curve_def", total=total_recovered))}</p>',
        chart(
            p,
            p.t("recovery_curve"),
            labels,
            {p.t("recovered"): recovered_curve},
            y_title=currency,
            x_title=p.t("day"),
            integer=False,
            fmt=lambda v: format_decimal(v, format="#,##0", locale=p.locale),
            end_label=total_recovered,
        ),
        f"<h2>{_e(p.t('flow'))}</h2>",
        f'<p class="note">{_e(p.t("flow_def"))} {_e(p.t("first_day", n=p.number(first_opened)))}</p>',
        chart(
            p,
            p.t("flow"),
            [d["date"][5:] for d in flow_days],
            {
                p.t("opened"): [d["opened"] for d in flow_days],
                p.t("cured"): [d["cured"] for d in flow_days],
                p.t("closed_otherwise"): [d["closed_other"] for d in flow_days],
            },
            y_title=p.t("cases_axis"),
            x_title=p.t("day"),
            bars=True,
            colours=(GREY, BLUE, ORANGE),
        ),
        chart(
            p,
            p.t("open_cases_axis"),
            labels,
            {p.t("open_cases_axis"): [d["open"] for d in daily]},
            y_title=p.t("open_cases_axis"),
            x_title=p.t("day"),
            height=200,
        ),
        f"<h2>{_e(p.t('reach'))}</h2>",
        f'<p class="note">{_e(p.t("reach_def"))}</p>',
        hbars(p, p.t("reach"), [(p.stage(stage), count, BLUE) for stage, count in summary["stage_funnel"].items()]),
        f"<h2>{_e(p.t('roll'))}</h2>",
        f'<p class="note">{_e(p.t("roll_def", n=SMALL_SAMPLE))}</p>',
        roll_rate_table(summary["roll_rates"], p),
        f"<h2>{_e(p.t('contacts'))}</h2>",
        f'<p class="note">{_e(p.t("contacts_def"))}</p>',
        chart(
            p,
            p.t("contacts"),
            labels,
            {p.t(c): [d["messages"].get(c, 0) for d in daily] for c in channels},
            y_title=p.t("messages_axis"),
            x_title=p.t("day"),
            bars=True,
            colours=(BLUE, ORANGE, GREEN),
        ),
        f"<h2>{_e(p.t('open_cases', n=p.number(len(open_rows))))}</h2>",
        (
            _table(
                p.t("open_cases", n=p.number(len(open_rows))),
                [p.t("loan"), p.t("case"), p.t("opened_on"), p.t("stage"), p.t("dpd"), p.t("owed"), p.t("next")],
                [
                    [
                        c["loan_id"],
                        c["case_id"],
                        c["opened"],
                        p.stage(str(c["stage"])),
                        str(c.get("dpd_at_end", "")),
                        p.money(c.get("owed_at_end") or "0"),
                        c.get("next_action") or "",
                    ]
                    for c in open_rows[:limit]
                ],
                left=2,
            )
            if open_rows
            else f'<p class="note">{_e(p.t("no_open"))}</p>'
        ),
        f'<p class="note">{_e(p.t("more", n=len(open_rows) - limit))}</p>' if len(open_rows) > limit else "",
        f"<h2>{_e(p.t('closed_cases', n=p.number(len(closed_rows))))}</h2>",
        _table(
            p.t("closed_cases", n=p.number(len(closed_rows))),
            [p.t("loan"), p.t("case"), p.t("opened_on"), p.t("closed_on"), p.t("outcome"), p.t("recovered")],
            [
                [
                    c["loan_id"],
                    c["case_id"],
                    c["opened"],
                    c["closed"] or "",
                    p.t(str(c["outcome"])),
                    p.money(c["recovered"]),
                ]
                for c in closed_rows[:limit]
            ],
            left=2,
        ),
        f'<p class="note">{_e(p.t("more", n=len(closed_rows) - limit))}</p>' if len(closed_rows) > limit else "",
        *_aging(p, summary.get("aging")),
        f"<h2>{_e(p.t('portfolio'))}</h2>",
        f'<p class="note">{_e(p.t("portfolio_def"))}</p>',
        '<div class="cards">'
        + _card("overdue_at_start", p.money(summary["overdue_at_start"]), p.t("overdue_at_start"), "")
        + _card("overdue_at_end", p.money(summary["overdue_at_end"]), p.t("overdue_at_end"), "")
        + "</div>",
        _engineering(p, summary),
    ]
    return (
        f'<!doctype html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(p.t('title'))}</title><style>{CSS}</style></head><body>"
        + "\n".join(s for s in sections if s)
        + "</body></html>\n"
    )


def _aging(p: Page, aging: dict[str, dict[str, dict[str, Any]]] | None) -> list[str]:
    """The overdue amount per bucket at the start and the end, as bars (start grey, end vermillion)."""
    if not aging:
        return []
    buckets = [b for b in BUCKETS if b != "M0"]
    rows = []
    for bucket in buckets:
        start, end = aging["start"].get(bucket, {}), aging["end"].get(bucket, {})
        rows.append(
            [bucket, f"{p.money(start.get('total_overdue', '0'))} ({start.get('loans', 0)})",
             f"{p.money(end.get('total_overdue', '0'))} ({end.get('loans', 0)})"]
        )  # fmt: skip
    return [
        f"<h2>{_e(p.t('aging'))}</h2>",
        f'<p class="note">{_e(p.t("aging_def"))}</p>',
        chart(
            p,
            p.t("aging"),
            buckets,
            {
                p.t("start"): [float(aging["start"].get(b, {}).get("total_overdue", 0)) for b in buckets],
                p.t("end"): [float(aging["end"].get(b, {}).get("total_overdue", 0)) for b in buckets],
            },
            y_title=p.currency,
            x_title=p.t("bucket"),
            bars=True,
            integer=False,
            colours=(GREY, VERMILLION),
            fmt=lambda v: format_decimal(v, format="#,##0", locale=p.locale),
            height=220,
        ),
        _table(p.t("aging"), [p.t("bucket"), p.t("start"), p.t("end")], rows, left=1),
    ]


def _engineering(p: Page, summary: dict[str, Any]) -> str:
    parts = [f'<section class="engineering"><h2>{_e(p.t("engineering"))}</h2>']
    if "invariants" in summary:
        faults = summary.get("faults")
        injected = (
            f" Faults were injected ({faults['plan']}): {faults['injected_total']} failed attempts, "
            f"{faults['crashes_after_send']} crashes after a send."
            if faults
            else ""
        )
        rows = []
        for name, result in summary["invariants"].items():
            if not isinstance(result, dict):
                continue
            ok = result["violations"] == 0
            verdict = p.t("holds") if ok else p.t("violations", n=result["violations"])
            rows.append([INVARIANT_NAMES.get(name, name), verdict, "" if ok else str(result["examples"][0])])
        parts += [
            f"<h3>{_e(p.t('invariants'))}</h3>",
            f'<p class="note">{_e(p.t("invariants_def"))}{_e(injected)}</p>',
            _table(p.t("invariants"), [p.t("invariant"), p.t("result"), p.t("example")], rows, left=1),
        ]
    aws = summary.get("aws") or {}
    if aws:
        calls = [[service, p.number(count)] for service, count in aws.get("calls_by_service", {}).items()]
        cost = aws.get("monthly_cost_usd", {})
        parts += [
            f"<h3>{_e(p.t('aws'))}</h3>",
            f'<p class="note">{_e(p.t("aws_def"))} '
            f"{_e(p.t('audit_chains', ok=p.t('yes') if summary.get('audit_chains_verified') else p.t('no')))}</p>",
            _table(p.t("aws"), [p.t("service"), p.t("calls")], calls, left=1),
            _table(
                p.t("monthly_cost"),
                ["", "USD"],
                [[item, format_decimal(Decimal(v), format="#,##0.00", locale=p.locale)] for item, v in cost.items()],
                left=1,
            ),
        ]
    parts.append("</section>")
    return "".join(parts)
