"""DynamoDB access for the orders API."""

from snapshot_restore_py import register_before_snapshot

CACHE: dict[str, dict] = {}


@register_before_snapshot
def _empty_cache():
    CACHE.clear()


def put(table, order):
    table.put_item(Item=order)
    CACHE[order["id"]] = order


def get(table, order_id):
    if order_id not in CACHE:
        item = table.get_item(Key={"id": order_id}).get("Item")
        if item is None:
            return None
        CACHE[order_id] = item
    return CACHE[order_id]
