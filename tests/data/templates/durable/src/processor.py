import os

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_step


@durable_step
def record(step_context, token):
    return {"token": token, "table": os.environ.get("EVENTS_TABLE_NAME")}


@durable_execution
def lambda_handler(event, context: DurableContext):
    saved = context.step(record(event.get("token", "")))
    return {"status": "accepted", "saved": saved}
