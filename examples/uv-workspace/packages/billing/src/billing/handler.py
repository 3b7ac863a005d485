from dateutil import __version__ as dateutil_version
from dateutil.parser import isoparse
from dateutil.relativedelta import relativedelta

from common import versions


def handler(event, context):
    due = isoparse(event.get("issued", "2024-01-31")) + relativedelta(months=1)
    return {"due": due.date().isoformat(), "dateutil": dateutil_version,
            "versions": versions("python-dateutil", "six", "common")}
