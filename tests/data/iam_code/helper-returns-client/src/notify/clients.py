import functools

import boto3


@functools.cache
def client_for(service):
    return boto3.client(service)
