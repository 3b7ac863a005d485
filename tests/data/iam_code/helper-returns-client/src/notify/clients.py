import functools

import boto3


@functools.lru_cache(maxsize=None)
def client_for(service):
    return boto3.client(service)
