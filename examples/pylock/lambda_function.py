from importlib.metadata import version

import jmespath
from dateutil.parser import isoparse


def lambda_handler(event, context):
    dates = jmespath.search("orders[?status=='shipped'].shipped", event)
    latest = max(isoparse(d) for d in dates).date().isoformat() if dates else None
    return {"latest_shipped": latest,
            "versions": {name: version(name) for name in ("jmespath", "python-dateutil", "six")}}
