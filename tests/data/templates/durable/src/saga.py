from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def lambda_handler(event, context: DurableContext):
    reserved = context.step(lambda _: {"seat": event.get("seat")}, name="reserve")
    return {"reserved": reserved}
