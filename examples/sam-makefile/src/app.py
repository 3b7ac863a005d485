from tabulate import tabulate


def handler(event, context):
    rows = [(key, value) for key, value in sorted(event.items())]
    return {"table": tabulate(rows, headers=["key", "value"])}
