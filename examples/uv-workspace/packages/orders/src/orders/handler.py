import attrs

from common import versions


@attrs.define
class Order:
    id: str
    quantity: int = 1


def handler(event, context):
    order = Order(event.get("order", "o-1"), event.get("quantity", 1))
    return {"order": attrs.asdict(order), "versions": versions("attrs", "common")}
