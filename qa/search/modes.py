"""The ranking modes and the one check of a mode name.

Every entry point (the engine, ``qa ask``, ``qa eval``) validates a mode here, so
the set of modes and the message for an unknown one are defined once. The HTTP
API validates the same set through ``qa.settings.SearchMode`` in its schema.
"""

from __future__ import annotations

from typing import cast, get_args

from qa.errors import UnknownModeError
from qa.settings import SearchMode

MODES: tuple[SearchMode, ...] = get_args(SearchMode)


def check_mode(mode: str) -> SearchMode:
    """``mode`` itself when it names a ranking mode; otherwise ``UnknownModeError`` saying which exist."""
    if mode not in MODES:
        raise UnknownModeError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    return cast(SearchMode, mode)
