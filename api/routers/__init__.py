"""The routes, one router per resource: health, search, documents, the chat page."""
