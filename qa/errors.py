"""Errors a user can act on; the CLI and API turn them into one clear message."""


class QAError(Exception):
    """Base class: the message is meant for the user, never a stack trace."""


class CorpusError(QAError):
    """A source file or JSONL line cannot be read as documents."""


class IndexLoadError(QAError):
    """An index directory is missing, incomplete, or built with another model."""


class ModelError(QAError):
    """The embedding model cannot be prepared or loaded."""

