from importlib.metadata import version

import humanize
from tabulate import tabulate


def handler(event, context):
    rows = [(name, humanize.naturalsize(size)) for name, size in event.get("files", {}).items()]
    return {"table": tabulate(rows, headers=["file", "size"], tablefmt="github"),
            "versions": {name: version(name) for name in ("reports", "humanize", "tabulate")}}
