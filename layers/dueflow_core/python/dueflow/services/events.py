"""Lambda events as typed models, with errors that name the field.

The models are pydantic models, as Powertools Parser's are; they are validated with pydantic directly
rather than through ``aws_lambda_powertools.utilities.parser.parse``, whose import alone costs about
160 ms of a handler's cold start here (and loads botocore into every service).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def parse_event(model: type[Model], event: Any, what: str) -> Model:
    """``event`` as ``model``; a ValueError naming ``what`` and the first bad field otherwise."""
    if not isinstance(event, dict):
        raise ValueError(f"a {what} must be an object, got {type(event).__name__}")
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "(event)"
        if error["type"] == "missing":
            raise ValueError(f"{what}: missing {field}") from None
        raise ValueError(f"{what} field {field}: {error['msg']}") from None
