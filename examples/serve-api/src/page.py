"""A page with a form: GET shows it, POST (application/x-www-form-urlencoded) greets the name sent."""

import base64
import html
from urllib.parse import parse_qs

FORM = """<!doctype html>
<html><head><title>Guestbook</title></head>
<body>
<h1>Guestbook</h1>
<form method="post" action="{action}">
  <label>Name <input name="name" id="name"></label>
  <button type="submit" id="send">Sign</button>
</form>
</body></html>
"""

GREETING = """<!doctype html>
<html><head><title>Signed</title></head>
<body><h1 id="greeting">Thank you, {name}!</h1><a href="{action}">Back</a></body></html>
"""


def handler(event, context):
    action = "/"
    if event["httpMethod"] == "POST":
        body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8")
        name = parse_qs(body).get("name", ["stranger"])[0]
        print(f"signed by {name!r}")
        return _html(GREETING.format(name=html.escape(name), action=action))
    return _html(FORM.format(action=action))


def _html(text):
    return {"statusCode": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": text}
