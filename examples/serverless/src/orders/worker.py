"""SQS batch: one order per message; reports the failed ones (ReportBatchItemFailures)."""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            json.loads(record["body"])["order_id"]
        except (ValueError, KeyError, TypeError):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
