"""``report.html``: one self-contained page for a collections manager, from a simulation's results.

No scripts, no fonts, no links: the charts are inline SVG drawn here, so the page opens offline in any
browser and can be attached to an e-mail or an audit file as it is.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from dueflow.domain.classification import BUCKETS

COLOURS = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#57606a", "#bf3989")
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:24px;
color:#1f2328;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
p.note{color:#57606a;font-size:13px;margin:2px 0 10px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:130px}
.card b{display:block;font-size:20px}.card span{font-size:12px;color:#57606a}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right}
th{background:#f6f8fa}td.l,th.l{text-align:left}
svg text{font-size:11px;fill:#1f2328}.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _legend(names: Sequence[str]) -> str:
    items = "".join(
        f'<span><i style="background:{COLOURS[i % len(COLOURS)]}"></i>{_e(n)}</span>' for i, n in enumerate(names)
    )
    return f'<div class="legend">{items}</div>'


def line_chart(
    labels: Sequence[str], series: dict[str, Sequence[float]], width: int = 1000, height: int = 240, bars: bool = False
) -> str:
    """Lines (or grouped bars) over ``labels``; the y axis starts at 0."""
    left, right, top, bottom = 56, 10, 10, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((max(values, default=0) for values in series.values()), default=0) or 1
    n = max(len(labels), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for step in range(5):
        value = peak * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaeef2"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt_number(value)}</text>')
    every = max(n // 12, 1)
    for i, label in enumerate(labels):
        if i % every == 0:
            x = left + plot_w * (i + 0.5) / n
            parts.append(f'<text x="{x:.1f}" y="{height - 14}" text-anchor="middle">{_e(label)}</text>')
    slot = plot_w / n
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        if bars:
            width_each = max(slot * 0.8 / max(len(series), 1), 1)
            for i, value in enumerate(values):
                h = plot_h * value / peak
                x = left + slot * i + slot * 0.1 + width_each * index
                parts.append(
                    f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{width_each:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{_e(name)} {_e(labels[i])}: {_fmt_number(value)}</title></rect>'
                )
        else:
            points = " ".join(
                f"{left + slot * (i + 0.5):.1f},{top + plot_h - plot_h * value / peak:.1f}"
                for i, value in enumerate(values)
            )
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
    parts.append("</svg>")
    return _legend(list(series)) + "".join(parts)


def funnel(stages: Sequence[tuple[str, int]], width: int = 1000) -> str:
    """Horizontal bars: how many cases reached each stage."""
    row, label_w = 24, 270
    peak = max((count for _, count in stages), default=0) or 1
    height = row * len(stages) + 6
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, (stage, count) in enumerate(stages):
        y = i * row + 3
        w = (width - label_w - 60) * count / peak
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{_e(stage)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row - 6}" fill="{COLOURS[0]}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 15}">{count}</text>')
    parts.append("</svg>")
    return "".join(parts)


def roll_rate_table(matrix: dict[str, dict[str, int]]) -> str:
    """Rows: bucket at one month end; columns: bucket a month later; cells: share of the row (and count)."""
    used = [b for b in BUCKETS if b in matrix or any(b in row for row in matrix.values())]
    head = "".join(f"<th>{_e(b)}</th>" for b in used)
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
            shade = f"rgba(209,36,47,{share * 0.6:.2f})" if worse else f"rgba(26,127,55,{share * 0.5:.2f})"
            cells.append(f'<td style="background:{shade}">{share:.1%}<br><small>{count}</small></td>')
        rows.append(f'<tr><th class="l">{_e(source)} ({total})</th>{"".join(cells)}</tr>')
    return f'<table><tr><th class="l">from \\ to</th>{head}</tr>{"".join(rows)}</table>'


def open_cases_table(rows: Sequence[dict[str, Any]], limit: int = 200) -> str:
    body = "".join(
        "<tr>"
        f'<td class="l">{_e(r["loan_id"])}</td><td class="l">{_e(r["case_id"])}</td><td>{_e(r["opened"])}</td>'
        f'<td class="l">{_e(r["stage"])}</td><td class="l">{_e(r["next_action"])}</td>'
        "</tr>"
        for r in rows[:limit]
    )
    more = f'<p class="note">and {len(rows) - limit} more in cases.jsonl</p>' if len(rows) > limit else ""
    return (
        '<table><tr><th class="l">loan</th><th class="l">case</th><th>opened</th><th class="l">stage</th>'
        f'<th class="l">next action</th></tr>{body}</table>{more}'
    )


INVARIANT_NAMES = {
    "one_case_per_episode": "one case per delinquency episode",
    "no_stuck_case": "no case stuck",
    "no_duplicate_message": "no message sent twice",
    "contact_window": "every message inside the contact window",
    "contact_caps": "no customer over the contact caps",
    "audit_complete": "every audit chain verifies, every stage on record",
    "messages_on_record": "every message sent (or in doubt) on record",
    "outcomes_match_baseline": "outcomes equal the baseline run",
}


def invariants_table(checked: dict[str, Any]) -> str:
    rows = []
    for name, result in checked.items():
        if not isinstance(result, dict):
            continue
        ok = result["violations"] == 0
        mark = (
            '<td style="color:#1a7f37">holds</td>'
            if ok
            else f'<td style="color:#d1242f">{result["violations"]} violations</td>'
        )
        example = "" if ok else _e(result["examples"][0])
        rows.append(
            f'<tr><td class="l">{_e(INVARIANT_NAMES.get(name, name))}</td>{mark}<td class="l">{example}</td></tr>'
        )
    head = '<tr><th class="l">invariant</th><th>result</th><th class="l">first example</th></tr>'
    return f"<table>{head}{''.join(rows)}</table>"


def _fmt_number(value: float) -> str:
    if value >= 10_000:
        return f"{value:,.0f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _card(label: str, value: object) -> str:
    return f'<div class="card"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def render_report(
    summary: dict[str, Any], daily: Sequence[dict[str, Any]], open_cases: Sequence[dict[str, Any]]
) -> str:
    """The page. ``daily`` has one entry per simulated day (see ``Simulation``)."""
    labels = [d["date"][5:] for d in daily]
    outcomes = summary["cases_by_outcome"]
    plans = summary["plans"]
    cards = "".join(
        [
            _card("loans", f"{summary['loans']:,}"),
            _card("cases opened", summary["cases_opened"]),
            _card("cured", outcomes.get("CURED", 0)),
            _card("settled by plan", outcomes.get("SETTLED", 0)),
            _card("to litigation", outcomes.get("LITIGATION", 0)),
            _card("write-off review", outcomes.get("WRITE_OFF_REVIEW", 0)),
            _card("still open", outcomes.get("OPEN", 0)),
            _card("recovered", summary["recovered"]),
            _card("overdue at start", summary["overdue_at_start"]),
            _card("overdue at end", summary["overdue_at_end"]),
            _card("plans accepted / broken", f"{plans['accepted']} / {plans['broken']}"),
            _card("complaints", summary["complaints"]),
            _card(
                "promises kept / broken",
                f"{summary['promises']['kept']} / {summary['promises']['broken']}" if "promises" in summary else "-",
            ),
            _card("messages sent", sum(summary["messages_by_channel"].values())),
            _card("audit chains verified", "yes" if summary["audit_chains_verified"] else "NO"),
            _card("est. AWS cost / month (USD)", summary["aws"]["monthly_cost_usd"]["total"]),
        ]
    )
    channels = sorted({c for d in daily for c in d["messages"]})
    recovered = [float(Decimal(d["recovered_to_date"])) for d in daily]
    sections = [
        f"<h1>DueFlow simulation: {summary['loans']:,} loans, {summary['days']} days from {_e(summary['start'])}</h1>",
        '<p class="note">Played through the real workflow (the synthesized state machine and the Lambda handlers) '
        "on the local runtime. Amounts are in the book's currency.</p>",
        f'<div class="cards">{cards}</div>',
        "<h2>Stage funnel</h2>",
        '<p class="note">How many cases entered each stage at least once; the drop between bars is the share '
        "that cured, agreed a plan or was closed before the next step.</p>",
        funnel(list(summary["stage_funnel"].items())),
        "<h2>Cases opened and cured per day</h2>",
        '<p class="note">Opened: the daily scan found a loan past the grace period. Cured: a payment brought it '
        "back to 0 days past due. Open: cases in progress at the end of the day.</p>",
        line_chart(
            labels,
            {
                "opened": [d["opened"] for d in daily],
                "cured": [d["cured"] for d in daily],
                "closed otherwise": [d["closed_other"] for d in daily],
            },
            bars=True,
        ),
        line_chart(labels, {"open cases": [d["open"] for d in daily]}, height=160),
        "<h2>Bucket roll rates, month over month</h2>",
        '<p class="note">Each row: the loans in a bucket at one month end, and where they were a month later '
        "(M0 current, M1 1-30 days past due, M2 31-60, ...). Green: stayed or improved; red: rolled forward.</p>",
        roll_rate_table(summary["roll_rates"]),
        "<h2>Recovery curve</h2>",
        '<p class="note">Cumulative payments received on loans with a case since the first simulated day.</p>',
        line_chart(labels, {"recovered to date": recovered}, height=200),
        "<h2>Contacts per channel per day</h2>",
        '<p class="note">Messages sent (pre-due reminders included): SMS and e-mail to the customer, calls as '
        "tasks for agents. Every one passed the contact rules (hours in the customer's zone, caps, opt-outs).</p>",
        line_chart(labels, {c: [d["messages"].get(c, 0) for d in daily] for c in channels}, bars=True),
        f"<h2>Open cases ({len(open_cases)})</h2>",
        open_cases_table(open_cases),
    ]
    if "invariants" in summary:
        faults = summary.get("faults")
        injected = (
            f" Faults were injected ({_e(faults['plan'])}): {faults['injected_total']} failed attempts, "
            f"{faults['crashes_after_send']} crashes after a send."
            if faults
            else ""
        )
        sections[3:3] = [  # after the headline cards
            "<h2>Invariants</h2>",
            '<p class="note">Checked after the run against the loan book and what the SMS and e-mail providers '
            f"accepted (not against DueFlow's own records).{injected}</p>",
            invariants_table(summary["invariants"]),
        ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>DueFlow simulation report</title><style>{CSS}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
