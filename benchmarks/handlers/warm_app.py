"""Two copies of one trivial function: ``handler`` for us and the bare row, ``upstream_handler``
for the upstream instrumentor to wrap in place (it wraps one module attribute)."""


def handler(event, context):
    return {"statusCode": 200, "body": "ok"}


def upstream_handler(event, context):
    return {"statusCode": 200, "body": "ok"}
