"""A transparent monthly cost model of a DueFlow deployment, by number of loans.

Every price is a public list price (USD, us-east-1, on-demand) with the page it comes from; every volume
is an assumption stated here and derived from how the workflow behaves (see docs/deploy.md). Prices
change and differ by region, and SMS prices differ by destination country: check them before budgeting.
Run ``.venv/bin/python -m dueflow_local.cost`` to print the table docs/deploy.md shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

D = Decimal

# price per unit, and where it is published
PRICES: dict[str, tuple[Decimal, str]] = {
    "sfn_transition": (D("0.000025"), "aws.amazon.com/step-functions/pricing (Standard: $0.025 per 1,000 transitions)"),
    "lambda_request": (D("0.0000002"), "aws.amazon.com/lambda/pricing ($0.20 per 1M requests)"),
    "lambda_gb_second": (D("0.0000166667"), "aws.amazon.com/lambda/pricing (x86, per GB-second)"),
    "ddb_write_unit": (D("0.000000625"), "aws.amazon.com/dynamodb/pricing/on-demand ($0.625 per 1M write units)"),
    "ddb_read_unit": (D("0.000000125"), "aws.amazon.com/dynamodb/pricing/on-demand ($0.125 per 1M read units)"),
    "ddb_gb_month": (D("0.25"), "aws.amazon.com/dynamodb/pricing/on-demand (storage, per GB-month)"),
    "ddb_pitr_gb_month": (D("0.20"), "aws.amazon.com/dynamodb/pricing/on-demand (continuous backups, per GB-month)"),
    "s3_put": (D("0.000005"), "aws.amazon.com/s3/pricing ($0.005 per 1,000 PUT requests)"),
    "s3_gb_month": (D("0.023"), "aws.amazon.com/s3/pricing (S3 Standard, per GB-month)"),
    "ses_email": (D("0.0001"), "aws.amazon.com/ses/pricing ($0.10 per 1,000 emails)"),
    "sns_sms": (D("0.02"), "aws.amazon.com/sns/sms-pricing (varies by country; an assumed average)"),
    "kms_request": (D("0.000003"), "aws.amazon.com/kms/pricing ($0.03 per 10,000 requests)"),
    "kms_key_month": (D("1.00"), "aws.amazon.com/kms/pricing (per customer-managed key)"),
    "scheduler_invocation": (D("0.000001"), "aws.amazon.com/eventbridge/pricing (Scheduler: $1.00 per 1M)"),
    "waf_acl_month": (D("5.00"), "aws.amazon.com/waf/pricing (per web ACL)"),
    "waf_rule_month": (D("1.00"), "aws.amazon.com/waf/pricing (per rule or rule group)"),
    "dashboard_month": (D("3.00"), "aws.amazon.com/cloudwatch/pricing (per dashboard)"),
    "alarm_month": (D("0.10"), "aws.amazon.com/cloudwatch/pricing (per standard alarm)"),
    "logs_gb": (D("0.50"), "aws.amazon.com/cloudwatch/pricing (log ingestion, per GB)"),
    "s3_get": (D("0.0000004"), "aws.amazon.com/s3/pricing ($0.0004 per 1,000 GET and other requests)"),
    "sns_publish": (D("0.0000005"), "aws.amazon.com/sns/pricing ($0.50 per 1M publishes to a topic)"),
    "api_request": (D("0.0000035"), "aws.amazon.com/api-gateway/pricing (REST: $3.50 per 1M requests)"),
    "waf_request": (D("0.0000006"), "aws.amazon.com/waf/pricing ($0.60 per 1M requests)"),
}


@dataclass(frozen=True)
class Assumptions:
    """Volumes per month. Per-case figures follow the workflow: a case that cures after the first
    reminder is the short end, one that reaches legal review the long end; these are averages."""

    new_cases_share: Decimal = D("0.03")  # loans entering collection per month
    due_soon_share: Decimal = D("0.15")  # loans in the due-index on a given day (due within 3 days or overdue)
    reminders_per_loan: int = 1  # a pre-due SMS and email per installment
    transitions_per_case: int = 30
    invocations_per_case: int = 20
    messages_per_case: int = 6  # SMS and email together
    audit_records_per_case: int = 14
    writes_per_case: int = 60
    reads_per_case: int = 120
    kms_per_case: int = 20
    lambda_seconds: Decimal = D("0.3")
    lambda_gb: Decimal = D("0.5")
    loan_item_kb: int = 6  # the item and its due-index copy
    audit_kb_per_case: int = 30
    log_kb_per_invocation: int = 2
    alarms: int = 34  # the template's, alarm_email set (a template test checks)
    api_calls_per_case: int = 6  # plan proposal, acceptance, lookups
    payments_per_loan: int = 1  # the bank's feed posts each payment through the API


def monthly_cost(loans: int, a: Assumptions = Assumptions()) -> dict[str, Decimal]:
    """USD per month by item for a book of ``loans``."""

    def p(key: str) -> Decimal:
        return PRICES[key][0]

    cases = D(loans) * a.new_cases_share
    days = 30
    scan_reads = D(loans) * a.due_soon_share * days / 2  # eventually consistent index queries: half a unit
    dispatcher_runs = D(96 * days)
    invocations = cases * a.invocations_per_case + days + dispatcher_runs
    reminders = D(loans) * a.reminders_per_loan
    gb = D(1024 * 1024)
    items = {
        "Step Functions": cases * a.transitions_per_case * p("sfn_transition"),
        "Lambda": invocations * p("lambda_request")
        + invocations * a.lambda_seconds * a.lambda_gb * p("lambda_gb_second"),
        "DynamoDB": (cases * a.writes_per_case + reminders * 2) * p("ddb_write_unit")
        + (cases * a.reads_per_case + scan_reads) * p("ddb_read_unit")
        + D(loans) * a.loan_item_kb / gb * (p("ddb_gb_month") + p("ddb_pitr_gb_month")),
        "S3 audit store": cases * a.audit_records_per_case * p("s3_put")
        + cases * a.audit_kb_per_case / gb * p("s3_gb_month") * 12,  # a year of records kept on average
        "SMS (SNS)": (cases * a.messages_per_case / 2 + reminders) * p("sns_sms"),
        "Email (SES)": (cases * a.messages_per_case / 2 + reminders) * p("ses_email"),
        "KMS": 3 * p("kms_key_month") + (cases * a.kms_per_case + reminders) * p("kms_request"),
        "Scheduler": (days + dispatcher_runs) * p("scheduler_invocation"),
        "WAF, dashboard, alarms": p("waf_acl_month")
        + 3 * p("waf_rule_month")
        + p("dashboard_month")
        + a.alarms * p("alarm_month"),
        "CloudWatch Logs": invocations * a.log_kb_per_invocation / gb * p("logs_gb"),
        "API Gateway + WAF requests": (cases * a.api_calls_per_case + D(loans) * a.payments_per_loan)
        * (p("api_request") + p("waf_request")),
    }
    return {k: v.quantize(D("0.01"), rounding=ROUND_HALF_UP) for k, v in items.items()}


def table(books: tuple[int, ...] = (10_000, 100_000, 1_000_000)) -> str:
    """The Markdown table of docs/deploy.md."""
    costs = {n: monthly_cost(n) for n in books}
    header = "| item | " + " | ".join(f"{n:,} loans" for n in books) + " |"
    lines = [header, "|---|" + "---:|" * len(books)]
    for item in costs[books[0]]:
        lines.append(f"| {item} | " + " | ".join(f"{costs[n][item]:,}" for n in books) + " |")
    totals = [sum(costs[n].values(), D(0)) for n in books]
    lines.append("| **total per month** | " + " | ".join(f"**{t:,}**" for t in totals) + " |")
    return "\n".join(lines) + "\n"


DDB_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
DDB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def measured_monthly_cost(
    calls: dict[str, dict[str, int]],
    lambda_invocations: int,
    state_transitions: int,
    api_requests: int,
    days: int,
    a: Assumptions = Assumptions(),
    extra_read_units: int = 0,
) -> dict[str, Decimal]:
    """USD per month by item, from what a simulation of ``days`` days actually called, scaled to 30 days.
    ``extra_read_units``: read units beyond one per read call (a full-table Scan page reads many).

    Approximations, stated: every DynamoDB read call is one read unit and every write call one write
    unit (items here are under 1 KB to 4 KB; a query page reads at least one unit); Lambda bills
    ``lambda_seconds`` at ``lambda_gb`` per invocation; DynamoDB Streams reads by Lambda are free;
    Step Functions API calls are free, its state transitions are not. Storage is left out (see
    ``monthly_cost``), the fixed monthly items (keys, WAF, dashboard, alarms, schedules) are in."""

    def p(key: str) -> Decimal:
        return PRICES[key][0]

    scale = D(30) / D(max(days, 1))
    ddb = calls.get("dynamodb", {})
    s3 = calls.get("s3", {})
    sns = calls.get("sns", {})
    reads = sum(n for op, n in ddb.items() if op in DDB_READS)
    writes = sum(n for op, n in ddb.items() if op in DDB_WRITES)
    kms = sum(calls.get("kms", {}).values())
    items = {
        "Step Functions": state_transitions * p("sfn_transition"),
        "Lambda": lambda_invocations * (p("lambda_request") + a.lambda_seconds * a.lambda_gb * p("lambda_gb_second")),
        "DynamoDB": (reads + extra_read_units) * p("ddb_read_unit") + writes * p("ddb_write_unit"),
        "S3 audit store": s3.get("PutObject", 0) * p("s3_put")
        + sum(n for op, n in s3.items() if op != "PutObject") * p("s3_get"),
        "SMS (SNS)": sns.get("Publish:sms", 0) * p("sns_sms") + sns.get("Publish", 0) * p("sns_publish"),
        "Email (SES)": calls.get("sesv2", {}).get("SendEmail", 0) * p("ses_email"),
        "KMS requests": kms * p("kms_request"),
        "API Gateway + WAF requests": api_requests * (p("api_request") + p("waf_request")),
    }
    monthly = {k: v * scale for k, v in items.items()}
    monthly["Fixed (keys, schedules, WAF, dashboard, alarms)"] = (
        3 * p("kms_key_month")
        + D(30 * 97) * p("scheduler_invocation")
        + p("waf_acl_month")
        + 3 * p("waf_rule_month")
        + p("dashboard_month")
        + a.alarms * p("alarm_month")
    )
    return {k: v.quantize(D("0.01"), rounding=ROUND_HALF_UP) for k, v in monthly.items()}


NAIVE_POLL_READS = 2  # a daily poll of one case reads the case and its loan
NAIVE_POLL_TRANSITIONS = 3  # Wait a day -> poll task -> choice, per case per day


def naive_design(
    calls: dict[str, dict[str, int]],
    invocations: dict[str, int],
    transitions: int,
    case_days: int,
    days: int,
    scan_pages: int,
    scan_read_units: int,
) -> tuple[dict[str, dict[str, int]], int, int, int]:
    """The calls the naive design would have made for the same run: the same messages, audit records and
    API calls, but a full-table Scan of the loans every day (``scan_pages`` calls reading
    ``scan_read_units`` units, measured on the run's table) instead of the sparse due-index, and every
    open case polled daily (a Lambda invocation reading the case and the loan, three state transitions)
    instead of parking on a callback (no ``case_wait`` invocations, no ``SendTaskSuccess``).
    Returns (calls, Lambda invocations, state transitions, read units beyond one per call)."""
    naive = {service: dict(ops) for service, ops in calls.items()}
    ddb = naive.setdefault("dynamodb", {})
    ddb["Scan"] = ddb.get("Scan", 0) + scan_pages * days
    ddb["GetItem"] = ddb.get("GetItem", 0) + NAIVE_POLL_READS * case_days
    sfn = naive.setdefault("stepfunctions", {})
    sfn.pop("SendTaskSuccess", None)
    lambdas = sum(invocations.values()) - invocations.get("case_wait", 0) + case_days
    extra_units = max(scan_read_units - scan_pages, 0) * days
    return naive, lambdas, transitions + NAIVE_POLL_TRANSITIONS * case_days, extra_units


if __name__ == "__main__":
    print(table(), end="")
