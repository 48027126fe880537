"""A plain function that leaves the interpreter: awslambdaric lets SystemExit end the process."""


def handler(event, context):
    raise SystemExit(3)
