"""The collection workflow: the case state machine definition (shared by CDK and the local runtime)."""
