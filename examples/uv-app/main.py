import requests


def handler(event, context):
    return {"requests": requests.__version__, "name": event.get("name", "world")}
