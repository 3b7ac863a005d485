"""Render the orders in the event as a text table."""
from tabulate import tabulate


def lambda_handler(event, context):
    rows = [(o["id"], o["amount"]) for o in event.get("orders", [])]
    return {"report": tabulate(rows, headers=["id", "amount"])}
