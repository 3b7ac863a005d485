#!/usr/bin/env python3
"""Two Lambda functions packaged by lpack inside a CDK Python app: no Docker, no PythonFunction.

`cdk synth` runs this; lpack builds each function for its runtime and architecture while CDK
stages its asset (see README.md).
"""
import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from lpack.cdk import LpackFunction, lpack_code


class OrdersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # runtime, architecture and handler from functions/orders/lpack.toml: one place, no mismatch
        LpackFunction(self, "OrdersFunction", path="functions/orders", memory_size=256,
                      timeout=Duration.seconds(10))

        # a plain lambda_.Function: give lpack_code the same runtime and architecture as the
        # Function (lpack refuses a mismatch at synth); lambda_function.py is lpack's zero config
        lambda_.Function(
            self, "ReportsFunction",
            code=lpack_code("functions/reports", runtime=lambda_.Runtime.PYTHON_3_13,
                            architecture=lambda_.Architecture.ARM_64),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler="lambda_function.lambda_handler",
            timeout=Duration.seconds(30),
        )


app = cdk.App()
OrdersStack(app, "LpackCdkExample")
app.synth()
