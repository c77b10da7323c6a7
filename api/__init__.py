"""HTTP API and chat page for the Swedish question-answering service."""
