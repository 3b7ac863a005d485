# A Python Lambda function whose package lpack builds at plan time: copy this folder, put your
# function in orders/ (its lock beside it), and run `terraform init && terraform apply`.
# Needs `lpack` on PATH where Terraform runs (see README.md). No archive_file, no null_resource,
# no Docker: `lpack terraform-external` installs exactly the lock's pins for the function's
# runtime and architecture, writes a byte-reproducible zip and returns its path and hash.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    external = {
      source  = "hashicorp/external"
      version = ">= 2.3"
    }
  }
}

variable "function_name" {
  description = "The Lambda function's name."
  type        = string
  default     = "orders"
}

variable "runtime" {
  description = "Target runtime, e.g. python3.12; null: orders/lpack.toml decides."
  type        = string
  default     = null
}

variable "architecture" {
  description = "x86_64 or arm64; null: orders/lpack.toml decides."
  type        = string
  default     = null
}

# Read at every plan: lpack's cache makes a build with nothing changed take well under a second,
# and the zip's bytes (so its hash) change only when the source or the lock does.
data "external" "orders" {
  program = ["lpack", "terraform-external"]
  query = {
    project      = "${path.module}/orders" # relative to where Terraform runs, as `filename` is
    runtime      = var.runtime             # null values are left out of the query
    architecture = var.architecture
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "orders" {
  name               = var.function_name
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.orders.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_lambda_function" "orders" {
  function_name    = var.function_name
  role             = aws_iam_role.orders.arn
  filename         = data.external.orders.result.filename
  source_code_hash = data.external.orders.result.source_code_hash # base64(sha256(zip)): a new upload only when the bytes change
  handler          = data.external.orders.result.handler
  runtime          = data.external.orders.result.runtime
  architectures    = [data.external.orders.result.architecture]
  memory_size      = 256
  timeout          = 10
}

# With terraform-aws-modules/lambda instead of the resource above (it hashes the file itself):
#
# module "orders" {
#   source                 = "terraform-aws-modules/lambda/aws"
#   function_name          = var.function_name
#   create_package         = false
#   local_existing_package = data.external.orders.result.filename
#   handler                = data.external.orders.result.handler
#   runtime                = data.external.orders.result.runtime
#   architectures          = [data.external.orders.result.architecture]
# }

output "package" {
  description = "The zip lpack built, and its base64 sha256 (what Lambda reports as CodeSha256)."
  value = {
    filename         = data.external.orders.result.filename
    source_code_hash = data.external.orders.result.source_code_hash
  }
}
