"""The call meter sees every client's calls, whatever session made the client, and can be paused."""

from __future__ import annotations

import boto3
from moto import mock_aws

from dueflow_local.meter import CallMeter, metering


def test_calls_are_counted_by_service_and_operation_and_sms_apart() -> None:
    meter = CallMeter()
    with mock_aws(), metering(meter):
        sns = boto3.client("sns", region_name="eu-west-1")
        other = boto3.session.Session().client("sns", region_name="eu-west-1")  # another session
        topic = sns.create_topic(Name="t")["TopicArn"]
        sns.publish(PhoneNumber="+8613800000000", Message="hello")
        other.publish(TopicArn=topic, Message="task")
        with meter.pause():
            sns.list_topics()
        sns.list_topics()
    assert meter.by_service() == {"sns": {"CreateTopic": 1, "ListTopics": 1, "Publish": 1, "Publish:sms": 1}}
    assert meter.total() == 4
    assert meter.messages_sent() == 2
