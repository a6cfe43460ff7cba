"""Prints how many CloudFormation resources a stack's template (infra/template.yaml, or a nested
stack of infra/areas/) expands to, by running the SAM transform itself (samtranslator, offline):
a stack's limit (500) counts these, not the template's own resources. Used by
tests/tests/api/cross/contract.rs."""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no AWS managed policy; nothing to look up."""

    def load(self):
        return {}


os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
template = yaml_parse(open(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml").read())
# What `sam package` does before the transform: the code is uploaded and named by its S3 URI.
template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = "s3://bucket/code.zip"
# ... and each nested stack's template, named by its URL.
for resource in template.get("Resources", {}).values():
    if resource.get("Type") == "AWS::Serverless::Application":
        resource["Properties"]["Location"] = "https://bucket.s3.amazonaws.com/nested.yaml"
params = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
          "AWS::StackName": "auth", "AWS::StackId": "stack", "AWS::URLSuffix": "amazonaws.com",
          "AWS::NotificationARNs": []}
out = transform(template, params, NoManagedPolicies())
kinds = {}
for resource in out["Resources"].values():
    kinds[resource["Type"]] = kinds.get(resource["Type"], 0) + 1
print(json.dumps({"total": len(out["Resources"]), "by_type": kinds}))
