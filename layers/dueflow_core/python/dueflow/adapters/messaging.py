"""The ``Notifier`` port on SNS (SMS, the internal topic) and SES v2 (e-mail)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from dueflow.ports import ProviderRefused


class AwsNotifier:
    """``topic_arn`` is the internal topic (agents, supervisors, legal); ``sender`` the verified SES
    identity; ``configuration_set`` the SES configuration set that publishes delivery events."""

    def __init__(self, sns: Any, ses: Any, topic_arn: str, sender: str, configuration_set: str) -> None:
        self._sns = sns
        self._ses = ses
        self._topic = topic_arn
        self._sender = sender
        self._configuration_set = configuration_set

    def send_sms(self, phone: str, text: str) -> str:
        try:
            response = self._sns.publish(
                PhoneNumber=phone,
                Message=text,
                MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
            )
        except ClientError as exc:
            raise ProviderRefused(f"SNS refused the SMS: {exc}") from exc
        return str(response["MessageId"])

    def send_email(self, to: str, subject: str, text: str) -> str:
        try:
            response = self._ses.send_email(
                FromEmailAddress=self._sender,
                Destination={"ToAddresses": [to]},
                Content={
                    "Simple": {
                        "Subject": {"Data": subject, "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
                    }
                },
                ConfigurationSetName=self._configuration_set,
            )
        except ClientError as exc:
            raise ProviderRefused(f"SES refused the e-mail: {exc}") from exc
        return str(response["MessageId"])

    def notify_staff(self, subject: str, body: Mapping[str, Any]) -> str:
        try:
            response = self._sns.publish(TopicArn=self._topic, Subject=subject, Message=json.dumps(body))
        except ClientError as exc:
            raise ProviderRefused(f"SNS refused the notice: {exc}") from exc
        return str(response["MessageId"])
