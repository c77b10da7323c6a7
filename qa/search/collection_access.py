"""Who may read and write one collection: its ``access.toml``.

A collection directory ``DIR/NAME/`` may hold ``access.toml`` with two keys::

    read_token = "…"    # reading needs this token (or the admin token); absent: reading is open
    admin_token = "…"   # writing needs this token; absent: the collection cannot be written over HTTP

Any other key, a value that is not a non-empty string, a file that is not TOML, or one that sets
neither key is an error (``AccessFileError``): a misspelt ``read-token`` must never leave a
collection open by accident, so the server withholds such a collection until the file is mended.
An open collection has no ``access.toml``; an empty one is what a scan reads while an editor
rewrites the file (truncated, then written), and must not open the collection until the next
scan. Parsed with ``tomllib`` (the standard library's TOML reader).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

ACCESS_FILE = "access.toml"
_KEYS = ("read_token", "admin_token")


class AccessFileError(ValueError):
    """An ``access.toml`` that cannot be read as the two tokens; the message says why."""


@dataclass(frozen=True)
class Access:
    """The tokens of what is served: ``None`` means open reading / no writing over HTTP."""

    read_token: str | None = None
    admin_token: str | None = None


def read_access(collection_dir: Path) -> Access:
    """The tokens in ``collection_dir/access.toml``; ``Access()`` when there is no such file.

    Raises ``AccessFileError`` for a file that is unreadable, not TOML, or holds anything but
    the two keys with non-empty string values.
    """
    path = collection_dir / ACCESS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Access()
    except OSError as exc:
        raise AccessFileError(f"{path}: unreadable ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AccessFileError(f"{path}: not a TOML file ({exc})") from None
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise AccessFileError(f"{path}: unknown key(s) {', '.join(unknown)}; only "
                              f"{' and '.join(_KEYS)} are read")
    for key in _KEYS:
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise AccessFileError(f"{path}: {key} must be a non-empty string")
    read, admin = (data.get(key) for key in _KEYS)
    if read is None and admin is None:
        raise AccessFileError(f"{path}: sets neither {' nor '.join(_KEYS)}; remove the file to "
                              "serve the collection openly")
    # Stripped like the bearer token a request sends (api.auth), so that they can match.
    return Access(read_token=read.strip() if read else None,
                  admin_token=admin.strip() if admin else None)
