import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    """Calculate the area of a rectangle (the Lambda getting-started guide's function)."""
    length = event["length"]
    width = event["width"]
    area = length * width
    logger.info("The area is %s", area)
    return {"area": area}
