"""API Gateway REST proxy events, as API Gateway hands them to the ``api`` Lambda (one builder for the
local runtime and the sample events)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from dueflow.settings import Settings

# an IAM-signed call of the bank's payment feed, as API Gateway names its caller (an assumed-role session)
SYSTEM_ROLE = f"arn:aws:sts::123456789012:assumed-role/{Settings().payment_feed_role_name}/payments-feed"


def api_gateway_event(
    method: str,
    path: str,
    body: dict[str, Any] | str | None = None,
    *,
    user: str | None = None,
    groups: tuple[str, ...] = (),
    system: bool = False,
    stage: str = "local",
    request_id: str = "local",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """A staff ``user`` in Cognito ``groups`` (the authorizer's claims), or a bank ``system`` signing
    with IAM (the caller's role ARN); neither is an unauthenticated call. A ``str`` body is sent as it
    is (what a client that sends broken JSON sends); a ``?query`` on the path becomes the query string
    parameters."""
    path, _, query = path.partition("?")
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name, []).append(value)
    identity: dict[str, Any] = {"sourceIp": source_ip, "userArn": SYSTEM_ROLE if system and not user else None}
    authorizer: dict[str, Any] = {}
    if user:
        authorizer = {"claims": {"cognito:username": user, "sub": user, "cognito:groups": ",".join(groups)}}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": {k: v[-1] for k, v in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": path,
            "stage": stage,
            "requestId": request_id,
            "identity": identity,
            "authorizer": authorizer,
        },
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
