"""iamgen: the canonical spec of the aws-external-anthropic IAM service and its generator."""
