"""Services: the workflow's use cases, written against the ports (``dueflow.ports``) that ``Services``
bundles. Handlers call exactly one service function each."""
