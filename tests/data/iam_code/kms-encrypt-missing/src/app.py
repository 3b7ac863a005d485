import os

import boto3

kms = boto3.client("kms")
KEY = os.environ["KEY_ARN"]


def handler(event, context):
    blob = kms.encrypt(KeyId=KEY, Plaintext=event["card"].encode())["CiphertextBlob"]  # expect: kms:Encrypt
    return kms.decrypt(CiphertextBlob=blob, KeyId=KEY)["Plaintext"].decode()
