import boto3

kms = boto3.client("kms")


def handler(event, context):
    return kms.encrypt(KeyId="alias/app", Plaintext=event["data"].encode())["CiphertextBlob"]
