import os

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent

persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])  # expect: dynamodb:UpdateItem dynamodb:DeleteItem


@idempotent(persistence_store=persistence)
def handler(event, context):
    return {"payment": event["id"], "status": "accepted"}
