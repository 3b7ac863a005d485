#!/usr/bin/env python3
"""An orders function writing to a DynamoDB table and a reports function reading its stream, as a CDK Python app.

Shaped like aws-samples/serverless-patterns' ``cdk`` Python patterns; synthesised with
``cdk synth --no-lookups`` into ``cdk.out/`` (see ../README.md). The stack has no ``env``, so the
synthesis needs no AWS account or credentials.
"""
import aws_cdk as cdk
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        table = dynamodb.Table(
            self,
            "OrdersTable",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
            removal_policy=RemovalPolicy.DESTROY,
        )

        orders = lambda_.Function(
            self,
            "OrdersFunction",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="app.handler",
            code=lambda_.Code.from_asset("functions/orders"),
            memory_size=256,
            timeout=Duration.seconds(10),
            environment={"TABLE_NAME": table.table_name},
        )
        table.grant_read_write_data(orders)

        reports = lambda_.Function(
            self,
            "ReportsFunction",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler="app.handler",
            code=lambda_.Code.from_asset("functions/reports"),
            timeout=Duration.seconds(30),
        )
        reports.add_event_source(sources.DynamoEventSource(
            table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=100))

        cdk.CfnOutput(self, "OrdersFunctionName", value=orders.function_name)


app = cdk.App()
OrdersStack(app, "OrdersStack")
app.synth()
