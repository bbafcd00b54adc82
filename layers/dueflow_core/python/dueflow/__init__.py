"""DueFlow: overdue-loan collection on AWS serverless.

This package is deployed as a Lambda layer. ``dueflow.domain`` is the pure domain engine: plain Python
and pydantic, no AWS SDK.
"""

__version__ = "0.1.0"
