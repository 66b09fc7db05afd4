"""The HTTP layer: the app factory, the REST API, the web pages, sign-in, webhooks, operations."""
