"""Services: the workflow's use cases, written against the adapters (repositories, audit store, AWS
clients) that ``Services`` bundles. Handlers call exactly one service function each."""
