"""A function that knows nothing about tracing: the layer and two variables do it all."""


def handler(event, context):
    return {"statusCode": 200, "body": "hello"}
