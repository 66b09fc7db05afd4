"""The web editor: server-rendered pages on the same domain functions as the API."""
