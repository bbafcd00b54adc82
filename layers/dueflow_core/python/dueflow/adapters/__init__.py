"""Adapters to AWS services (boto3). The domain never imports these; services receive them."""
