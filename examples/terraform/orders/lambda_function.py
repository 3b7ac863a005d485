"""The orders function: totals an order's lines. Built by `lpack terraform-external` at plan time."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Line:
    sku: str
    quantity: int
    unit_price_cents: int


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    lines = [Line(**line) for line in event.get("lines", [])]
    return {"order_id": event.get("order_id"), "total_cents": sum(l.quantity * l.unit_price_cents for l in lines)}
