import logging

logger = logging.getLogger()


def handler(event, context):
    for record in event.get("Records", []):
        logger.info("processing %s", record.get("messageId"))
    return {"processed": len(event.get("Records", []))}
