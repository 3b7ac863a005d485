"""GET /orders/{id}: the order, as the HTTP API's payload format 2.0 expects."""

from __future__ import annotations

import json
from typing import Any

import attrs


@attrs.frozen
class Order:
    order_id: str
    status: str = "received"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    order = Order(order_id=(event.get("pathParameters") or {}).get("id", ""))
    return {"statusCode": 200, "body": json.dumps(attrs.asdict(order))}
