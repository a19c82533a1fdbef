"""The web page and the HTTP API: FastAPI routes, authentication, settings, and the static page."""
