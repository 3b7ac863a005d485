import boto3

transcribe = boto3.client("transcribe")


def handler(event, context):
    record = event["Records"][0]["s3"]
    uri = f"s3://{record['bucket']['name']}/{record['object']['key']}"
    return transcribe.start_transcription_job(TranscriptionJobName=record["object"]["key"],
                                              Media={"MediaFileUri": uri}, OutputBucketName="transcripts",
                                              LanguageCode="en-US")
