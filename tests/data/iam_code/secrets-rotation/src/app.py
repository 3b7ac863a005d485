import boto3

secrets = boto3.client("secretsmanager")


def handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    metadata = secrets.describe_secret(SecretId=arn)
    if step == "createSecret":
        password = secrets.get_random_password(ExcludeCharacters="/@\"")  # expect: secretsmanager:GetRandomPassword
        secrets.put_secret_value(SecretId=arn, ClientRequestToken=token,
                                 SecretString=password["RandomPassword"], VersionStages=["AWSPENDING"])
    elif step == "finishSecret":
        current = next(v for v, stages in metadata["VersionIdsToStages"].items() if "AWSCURRENT" in stages)
        secrets.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                            MoveToVersionId=token, RemoveFromVersionId=current)
