# Terraform: attach the otel-lambda-init layer and set the variables (no code changes).
# Build the layer first:  otel-lambda-init layer build --out ../layer/

resource "aws_lambda_layer_version" "otel_lambda_init" {
  layer_name               = "otel-lambda-init"
  filename                 = "${path.module}/../layer/otel-lambda-init-python3.12-x86_64.zip"
  source_code_hash         = filebase64sha256("${path.module}/../layer/otel-lambda-init-python3.12-x86_64.zip")
  compatible_runtimes      = ["python3.12"]
  compatible_architectures = ["x86_64"]
}

data "archive_file" "app" {
  type        = "zip"
  source_file = "${path.module}/../app.py"
  output_path = "${path.module}/build/app.zip"
}

resource "aws_lambda_function" "hello" {
  function_name    = "hello"
  role             = var.role_arn
  filename         = data.archive_file.app.output_path
  source_code_hash = data.archive_file.app.output_base64sha256
  handler          = "app.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  memory_size      = 512
  layers           = [aws_lambda_layer_version.otel_lambda_init.arn]

  environment {
    variables = {
      AWS_LAMBDA_EXEC_WRAPPER     = "/opt/otel-lambda-init"
      OTEL_EXPORTER_OTLP_ENDPOINT = var.otlp_endpoint
    }
  }
}

variable "role_arn" {
  type = string
}

variable "otlp_endpoint" {
  type    = string
  default = "http://localhost:4318"
}
