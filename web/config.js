// Replaced at deploy time (infra/constructs/site.py writes the API's URL and the Cognito login); the
// local server (dueflow serve) answers this path itself.
window.DUEFLOW_CONFIG = { mode: "local", api: "/api" };
