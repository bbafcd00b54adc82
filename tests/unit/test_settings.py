"""The one settings object: from CDK context, to and from the Lambda environment, and its checks."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from dueflow.settings import ENV_VAR, Settings
from infra.app_builder import project_context


def test_defaults_synthesize_out_of_the_box() -> None:
    settings = Settings()
    assert (settings.scan_time, settings.time_zone) == (time(2, 0), "Asia/Shanghai")
    assert (settings.contact_window_start, settings.contact_window_end) == (time(8, 0), time(21, 0))
    assert settings.audit_retention_years == 5 and settings.prefix == "dueflow-dev"


def test_environment_values_override_the_defaults_of_cdk_json() -> None:
    context = project_context()["dueflow"]
    prod = Settings.from_context(context, "prod")
    dev = Settings.from_context(context, "dev")
    assert prod.environment == "prod" and prod.log_retention_days == 3653 and prod.api_rate_limit == 200
    assert dev.environment == "dev" and dev.audit_retention_years == 1
    assert prod.scan_time == dev.scan_time == time(2, 0)  # shared default


def test_round_trip_through_the_lambda_environment() -> None:
    settings = Settings.from_context({"defaults": {"sender_email": "dun@bank.example", "scan_time": "03:30"}}, "uat")
    again = Settings.from_env({ENV_VAR: settings.to_env()})
    assert again == settings and again.scan_time == time(3, 30) and again.environment == "uat"
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"region": "moon-1"}, "not an AWS region"),
        ({"account": "12345"}, "12-digit"),
        ({"environment": "Prod!"}, "lowercase"),
        ({"contact_window_start": "22:00", "contact_window_end": "08:00"}, "before contact_window_end"),
        ({"max_contacts_per_day": 9, "max_contacts_per_7_days": 7}, "cannot exceed"),
        ({"log_retention_days": 42}, "log_retention_days"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_settings_name_the_field(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings.model_validate(values)


def test_a_region_outside_the_customer_data_regions_is_refused() -> None:
    china = ("cn-north-1", "cn-northwest-1")
    assert Settings(region="cn-north-1", customer_data_regions=china).region == "cn-north-1"
    with pytest.raises(ValueError, match="customer data may not be kept there"):
        Settings(region="ap-southeast-1", customer_data_regions=china)


def test_no_bank_hotline_or_name_is_written_in_the_code() -> None:
    """The bank's name and hotline come from the settings (cdk.json per deployment); the defaults are
    placeholders. No real bank's customer-service number is hard-coded anywhere DueFlow ships or runs."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    numbers = ("95588", "95533", "95599", "95566", "95559", "95555", "95595", "95568", "95528", "95558")
    places = [root / "layers" / "dueflow_core", root / "functions", root / "local", root / "infra"]
    found = [
        str(path.relative_to(root))
        for place in places
        for path in place.rglob("*")
        if path.suffix in (".py", ".json") and any(n in path.read_text(encoding="utf-8") for n in numbers)
    ]
    assert found == []
    settings = Settings(bank_hotline="021-5555-0100", bank_name="某银行")
    assert (settings.bank_hotline, settings.bank_name) == ("021-5555-0100", "某银行")
