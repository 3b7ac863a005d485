import os

import awswrangler as wr
import boto3

ssm = boto3.client("ssm")


def handler(event, context):
    database = ssm.get_parameter(Name="/analytics/database")["Parameter"]["Value"]  # expect: ssm:GetParameter
    frame = wr.athena.read_sql_query("SELECT 1", database=database)
    wr.s3.to_parquet(frame, path=os.environ["OUTPUT"])
