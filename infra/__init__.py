"""DueFlow's AWS deployment in CDK: one construct per concern, assembled by ``stack.py``."""
