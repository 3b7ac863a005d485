from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities import parameters

logger = Logger()
tracer = Tracer()


@tracer.capture_lambda_handler
def handler(event, context):
    endpoint = parameters.get_parameter("/payments/endpoint")
    secret = parameters.get_secret("payments/api-key")
    logger.info("calling", extra={"endpoint": endpoint})
    return {"ok": bool(secret)}
