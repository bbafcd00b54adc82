"""The DueFlow REST API (API Gateway, Cognito for staff, IAM for bank systems).

Routes parse and validate the request (pydantic, 422 with the field on bad input), identify the caller,
and call one case action. Business refusals are 409 with the reason; forbidden actions 403; calls with no
identity 401.
"""

import os
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict

from dueflow.domain.loan import PaymentReference
from dueflow.domain.strict import iso_date, plain_decimal, strict_json
from dueflow.observability import correlate, lambda_logging
from dueflow.ports import PostingConflict
from dueflow.services import case_actions as actions
from dueflow.services.case_actions import Caller
from dueflow.services.context import default_services
from dueflow.services.payments import InvalidPayment, post_payment

# the workbench's page (CloudFront) calls from its own origin: CORS admits that origin alone (none locally,
# where the page and the API share one)
_SITE = os.environ.get("SITE_ORIGIN")
_CORS = CORSConfig(allow_origin=_SITE, allow_headers=["Authorization", "Content-Type"], max_age=3600) if _SITE else None
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=strict_json, cors=_CORS)

# one strict policy for money and dates (dueflow.domain.strict): plain decimal strings, ISO dates
Plain = BeforeValidator(plain_decimal)
Money = Annotated[Decimal, Plain, Field(ge=0, le=Decimal("1000000000000"), max_digits=15, decimal_places=2)]
Day = Annotated[date, BeforeValidator(iso_date)]
Hash = Annotated[str, Field(pattern="^[0-9a-f]{16}$")]  # a plan's or a waiver request's content hash


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentIn(_Body):
    date: Day
    amount: Annotated[Decimal, Plain, Field(gt=0, le=Decimal("1000000000000"), max_digits=15, decimal_places=2)]
    reference: PaymentReference  # the bank's own id of the payment: a posting is safe to repeat


class PlanIn(_Body):
    waive_penalty: Money = Decimal("0")
    waive_interest: Money = Decimal("0")
    months: Annotated[int, Field(ge=1, le=120)] | None = None
    # beyond the caller's waiver authority: hold it for a role that may approve it (the approvals inbox)
    request_approval: bool = False


class PromiseIn(_Body):
    promised_date: Day
    amount: Money


class OptOutIn(_Body):
    channel: Annotated[str, Field(pattern="^(sms|email|call)$")]


class AssignIn(_Body):
    agent: Annotated[str, Field(min_length=1, max_length=128)]


def caller() -> Caller:
    """Staff from the Cognito authorizer's claims; bank systems from an IAM-signed request."""
    context = app.current_event.request_context
    claims = (context.authorizer.raw_event or {}).get("claims") if context.authorizer else None
    if claims:
        groups = claims.get("cognito:groups", "")
        names = groups if isinstance(groups, list) else [g for g in str(groups).replace(",", " ").split() if g]
        principal = claims.get("cognito:username") or claims.get("sub")
        if not isinstance(principal, str) or not principal.strip():
            raise actions.Unauthenticated("the token names no user (neither cognito:username nor sub)")
        return Caller(principal=principal, groups=frozenset(names))
    identity = context.identity
    if identity and identity.user_arn:
        if not default_services().settings.is_payment_feed(identity.user_arn):
            # the API's resource policy admits only that role; this holds if the policy is ever changed
            raise actions.Forbidden("only the bank's payment-feed role may call the IAM-signed routes")
        return Caller(principal=identity.user_arn, groups=frozenset(), system=True)
    raise actions.Unauthenticated("no staff identity and no IAM signature")


def _error(status: int, message: str) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message})


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response[Any]:
    """422 naming each field and saying what is wrong with it in words (the reasons are ours or
    pydantic's: no Python internals, no input echoed back)."""
    detail = []
    for error in exc.errors():
        reason = str((error.get("ctx") or {}).get("error") or error.get("msg") or error["type"])
        reason = reason.removeprefix("Value error, ")
        if error["type"] == "json_invalid":
            reason = f"the body is not valid JSON: {reason}"
        detail.append({"loc": list(error["loc"]), "msg": reason, "type": error["type"]})
    message = "; ".join(f"{'.'.join(str(p) for p in d['loc'][1:]) or 'body'}: {d['msg']}" for d in detail)
    return Response(
        status_code=422,
        content_type=content_types.APPLICATION_JSON,
        body={"statusCode": 422, "message": message, "detail": detail},
    )


@app.exception_handler(actions.Unauthenticated)
def unauthenticated(exc: actions.Unauthenticated) -> Response[Any]:
    return _error(401, str(exc))


@app.exception_handler(actions.Forbidden)
def forbidden(exc: actions.Forbidden) -> Response[Any]:
    return _error(403, str(exc))


@app.exception_handler(actions.NotFound)
def not_found(exc: actions.NotFound) -> Response[Any]:
    return _error(404, str(exc))


@app.exception_handler(InvalidPayment)
def invalid_payment(exc: InvalidPayment) -> Response[Any]:
    """As Powertools reports a body that fails validation: 422 with the field's location."""
    detail = [{"loc": ["body", exc.field], "msg": exc.reason, "type": "value_error"}]
    body = {"statusCode": 422, "message": f"{exc.field}: {exc.reason}", "detail": detail}
    return Response(status_code=422, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(actions.InvalidInput)
def invalid_input(exc: actions.InvalidInput) -> Response[Any]:
    """As Powertools reports a body that fails validation: 422 with the field's location."""
    detail = [{"loc": ["body", exc.field], "msg": exc.reason, "type": "value_error"}]
    body = {"statusCode": 422, "message": f"{exc.field}: {exc.reason}", "detail": detail}
    return Response(status_code=422, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(actions.Refused)
def refused(exc: actions.Refused) -> Response[Any]:
    return _error(409, str(exc))


@app.post("/loans/<loan_id>/payments")
def payments(loan_id: str, body: Annotated[PaymentIn, Body()]) -> dict[str, Any]:
    who = caller()
    if not who.system:
        raise actions.Forbidden("payments are posted by the bank's payment system")
    try:
        return post_payment(default_services(), loan_id, body.date, str(body.amount), body.reference)
    except KeyError as exc:
        raise actions.NotFound(str(exc)) from None
    except PostingConflict as exc:
        raise actions.Refused(str(exc)) from None


@app.get("/cases/<case_id>")
def read(case_id: str) -> dict[str, Any]:
    return actions.read_case(default_services(), caller(), case_id)


@app.post("/cases/<case_id>/assignment")
def assign(case_id: str, body: Annotated[AssignIn, Body()]) -> dict[str, Any]:
    return actions.assign(default_services(), caller(), case_id, body.agent)


@app.post("/cases/<case_id>/plan-proposals")
def propose(case_id: str, body: Annotated[PlanIn, Body()]) -> dict[str, Any]:
    return actions.propose(
        default_services(),
        caller(),
        case_id,
        body.waive_penalty,
        body.waive_interest,
        body.months,
        request_approval=body.request_approval,
    )


class AccelerationIn(_Body):
    sent_on: Day
    reference: Annotated[str, Field(min_length=3, max_length=100)]


@app.post("/cases/<case_id>/acceleration-notice")
def acceleration_notice(case_id: str, body: Annotated[AccelerationIn, Body()]) -> dict[str, Any]:
    return actions.acceleration_notice(default_services(), caller(), case_id, body.sent_on, body.reference)


class ConversationIn(_Body):
    outcome: Annotated[str, Field(min_length=2, max_length=200)]


@app.post("/cases/<case_id>/conversations")
def conversation(case_id: str, body: Annotated[ConversationIn, Body()]) -> dict[str, Any]:
    return actions.conversation(default_services(), caller(), case_id, body.outcome)


class CallAttemptIn(_Body):
    outcome: Literal["no_answer", "busy", "voicemail", "wrong_number", "conversation"]
    at: AwareDatetime  # when the dialer placed the call (within the last 15 minutes)


@app.post("/cases/<case_id>/call-attempts")
def call_attempt(case_id: str, body: Annotated[CallAttemptIn, Body()]) -> dict[str, Any]:
    return actions.call_attempt(default_services(), caller(), case_id, body.outcome, body.at)


Flag = Annotated[str, Field(pattern="^(true|false)$")]
Text = Annotated[str, Field(min_length=1, max_length=128)]


@app.get("/cases")
def queue(
    assignee: Annotated[Text | None, Query()] = None,
    stage: Annotated[Text | None, Query()] = None,
    bucket: Annotated[Annotated[str, Field(pattern=r"^M[0-7]\+?$")] | None, Query()] = None,
    complaint_open: Annotated[Flag | None, Query()] = None,
    promise_due: Annotated[Flag | None, Query()] = None,
    awaiting_approval: Annotated[Flag | None, Query()] = None,
    outcome: Annotated[
        Annotated[str, Field(pattern="^(SETTLED|CURED|LITIGATION|WRITE_OFF_REVIEW|UNKNOWN)$")] | None, Query()
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """A work queue: open cases filtered and sorted by the settings' priority, a page at a time."""
    from dueflow.services import workbench  # on the first workbench request: not in every cold start

    def flag(value: str | None) -> bool | None:
        return None if value is None else value == "true"

    wanted = workbench.QueueFilter(
        assignee=assignee,
        stage=stage,
        bucket=bucket,
        complaint_open=flag(complaint_open),
        promise_due=flag(promise_due),
        awaiting_approval=flag(awaiting_approval),
        outcome=outcome,
        limit=limit,
        cursor=cursor,
    )
    return workbench.queue(default_services(), caller(), wanted)


@app.get("/cases/<case_id>/view")
def case_view(case_id: str) -> dict[str, Any]:
    from dueflow.services import workbench  # on the first workbench request: not in every cold start

    return workbench.case_view(default_services(), caller(), case_id)


@app.get("/cases/<case_id>/plan-preview")
def plan_preview(
    case_id: str,
    waive_penalty: Annotated[Annotated[str, Field(pattern=r"^\d{1,12}(\.\d{1,2})?$")], Query()] = "0",
    waive_interest: Annotated[Annotated[str, Field(pattern=r"^\d{1,12}(\.\d{1,2})?$")], Query()] = "0",
    months: Annotated[int | None, Query(ge=1, le=120)] = None,
) -> dict[str, Any]:
    """The plan calculator: the proposal these terms would make, the waiver's decision and affordability."""
    from dueflow.services import workbench  # on the first workbench request: not in every cold start

    return workbench.plan_preview(
        default_services(), caller(), case_id, Decimal(waive_penalty), Decimal(waive_interest), months
    )


@app.post("/cases/<case_id>/phone-reveal")
def phone_reveal(case_id: str) -> dict[str, Any]:
    from dueflow.services import workbench  # on the first workbench request: not in every cold start

    return workbench.reveal_phone(default_services(), caller(), case_id)


class CallOutcomeIn(_Body):
    disposition: Literal[
        "right_party_contact",
        "promise_to_pay",
        "hardship",
        "refused",
        "dispute",
        "left_message",
        "no_answer",
        "wrong_number",
    ]
    at: AwareDatetime  # when the call was placed
    note: Annotated[str, Field(max_length=2000)] | None = None
    promise_date: Day | None = None
    promise_amount: Money | None = None
    reason_code: Annotated[str, Field(max_length=64)] | None = None
    reason_text: Annotated[str, Field(max_length=2000)] | None = None


@app.post("/cases/<case_id>/call-outcomes")
def call_outcome(case_id: str, body: Annotated[CallOutcomeIn, Body()]) -> dict[str, Any]:
    from dueflow.services import workbench  # on the first workbench request: not in every cold start

    return workbench.call_outcome(
        default_services(),
        caller(),
        case_id,
        body.disposition,
        body.at,
        note=body.note,
        promise_date=body.promise_date,
        promise_amount=body.promise_amount,
        reason_code=body.reason_code,
        reason_text=body.reason_text,
    )


class NoteIn(_Body):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


@app.post("/cases/<case_id>/notes")
def note(case_id: str, body: Annotated[NoteIn, Body()]) -> dict[str, Any]:
    from dueflow.services import workbench  # on the first workbench request: not in every cold start

    return workbench.add_note(default_services(), caller(), case_id, body.text)


@app.get("/approvals")
def approvals() -> dict[str, Any]:
    from dueflow.services import workbench  # on the first workbench request: not in every cold start

    return workbench.approvals(default_services(), caller())


class RefusalIn(_Body):
    version: Annotated[int, Field(ge=1, le=100_000), Strict()]
    request_hash: Hash
    reason: Annotated[str, Field(min_length=3, max_length=500)]


@app.post("/cases/<case_id>/waiver-approvals/refuse")
def refuse_waiver(case_id: str, body: Annotated[RefusalIn, Body()]) -> dict[str, Any]:
    return actions.refuse_waiver(default_services(), caller(), case_id, body.version, body.request_hash, body.reason)


class DoNotContactIn(_Body):
    reason: Annotated[str, Field(min_length=3, max_length=200)]


@app.post("/cases/<case_id>/do-not-contact")
def do_not_contact(case_id: str, body: Annotated[DoNotContactIn, Body()]) -> dict[str, Any]:
    return actions.do_not_contact(default_services(), caller(), case_id, body.reason)


@app.post("/cases/<case_id>/do-not-contact/clear")
def clear_do_not_contact(case_id: str, body: Annotated[DoNotContactIn, Body()]) -> dict[str, Any]:
    return actions.clear_do_not_contact(default_services(), caller(), case_id, body.reason)


class RequestNamed(_Body):
    """The waiver request decided, as the approver saw it (``GET /approvals``, the case page)."""

    version: Annotated[int, Field(ge=1, le=100_000), Strict()]
    request_hash: Hash


class PlanNamed(_Body):
    """The plan accepted, as the customer saw it (the proposal's ``version`` and ``plan_hash``)."""

    version: Annotated[int, Field(ge=1, le=100_000), Strict()]
    plan_hash: Hash


@app.post("/cases/<case_id>/waiver-approvals")
def approve_waiver(case_id: str, body: Annotated[RequestNamed, Body()]) -> dict[str, Any]:
    return actions.approve_waiver(default_services(), caller(), case_id, body.version, body.request_hash)


@app.post("/cases/<case_id>/plan-acceptance")
def accept(case_id: str, body: Annotated[PlanNamed, Body()]) -> dict[str, Any]:
    return actions.accept(default_services(), caller(), case_id, body.version, body.plan_hash)


@app.post("/cases/<case_id>/promises")
def promise(case_id: str, body: Annotated[PromiseIn, Body()]) -> dict[str, Any]:
    return actions.promise(default_services(), caller(), case_id, body.promised_date, body.amount)


@app.post("/cases/<case_id>/complaints")
def complaint(case_id: str) -> dict[str, Any]:
    return actions.open_complaint(default_services(), caller(), case_id)


@app.post("/cases/<case_id>/complaints/resolve")
def resolve(case_id: str) -> dict[str, Any]:
    return actions.resolve_complaint(default_services(), caller(), case_id)


@app.post("/cases/<case_id>/opt-outs")
def opt_out(case_id: str, body: Annotated[OptOutIn, Body()]) -> dict[str, Any]:
    return actions.opt_out(default_services(), caller(), case_id, body.channel)


@app.get("/cases/<case_id>/audit")
def audit(case_id: str) -> list[dict[str, Any]]:
    return actions.audit_records(default_services(), caller(), case_id)


@app.get("/cases/<case_id>/litigation-package")
def litigation(case_id: str) -> list[dict[str, Any]]:
    return actions.audit_records(default_services(), caller(), case_id, litigation_only=True)


@lambda_logging
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = event.get("pathParameters") if isinstance(event, dict) else None
    correlate(str((path or {}).get("case_id") or ""), loan_id=(path or {}).get("loan_id"))
    return app.resolve(event, context)
