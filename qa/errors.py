"""Every error a user can act on, in one place, each with the HTTP status it is answered with.

The CLI prints an error's message as one line and exits non-zero; the API answers
``{"detail": <message>}`` with the class's ``status`` (``api.errors`` has the one handler). Only
conditions that pass by themselves are 503 with ``Retry-After``: a client told to retry a
permanent error (a broken index, a model that cannot load) would retry for ever.
"""

from __future__ import annotations

from typing import ClassVar


class QAError(Exception):
    """Base class: the message is meant for the user, never a stack trace.

    ``status`` is the HTTP status of the answer; ``retry_after`` (seconds) is set only on
    temporary conditions, which are answered 503 with that ``Retry-After``.
    """

    status: ClassVar[int] = 500
    retry_after: ClassVar[int | None] = None


# --- the request is wrong: 4xx ---------------------------------------------------------------


class CorpusError(QAError):
    """A source file or JSONL line cannot be read as documents."""

    status = 422


class QuestionError(QAError):
    """A question the service cannot take; the message says why."""

    status = 422


class FilterError(QAError):
    """A filter the search cannot take; the message says which part and why."""

    status = 422


class UnknownModeError(QAError):
    """A mode name that is not one of the ranking modes."""

    status = 422


class UnknownDocumentError(QAError):
    """A document id the index does not hold."""

    status = 404


class UnknownCollectionError(QAError):
    """A collection name the service does not serve (or not a collection name at all)."""

    status = 404


class UnknownIdError(QAError):
    """A change names a document the index does not hold."""

    status = 404


class EmptyIndexError(QAError):
    """A change would leave the index without documents."""

    status = 409


# --- the service cannot do it now, and will later: 503 with Retry-After -----------------------


class IndexBusyError(QAError):
    """Another build held the index directory's lock past ``QA_BUILD_LOCK_TIMEOUT``."""

    status = 503
    retry_after = 10


class ConversionStopped(QAError):
    """The conversion pool was stopped (the service is shutting down) before its files were read."""

    status = 503
    retry_after = 10


class ClusterError(QAError):
    """Ray is missing, the cluster cannot be reached, or it cannot hold what was asked."""

    status = 503
    retry_after = 30


# --- the installation is wrong: 500, until an operator mends it -------------------------------


class IndexLoadError(QAError):
    """An index directory is missing, incomplete, or built with another model."""


class ModelError(QAError):
    """The embedding model cannot be prepared or loaded."""
