"""The AWS world: one adapter (boto3) per port of ``dueflow.ports``. Services never import boto3; they get
these through ``Services`` (``dueflow.adapters.aws`` builds them).

``pii`` is the exception that is pure: the PII cipher, with its data keys from a ``KeyService``."""
