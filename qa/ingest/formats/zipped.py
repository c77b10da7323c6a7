"""The guard in front of zip-based formats (DOCX, ODT): a zip bomb is refused unopened.

A DOCX or ODT is a zip archive whose XML a library inflates in full. Before any library
opens one, its central directory is read (no member is inflated) and the archive is refused
when the members together would inflate past ``max_unzipped_bytes``, when one member inflates
implausibly far for a document, or when it lists an absurd number of members. The declared
sizes are what ``zipfile`` then holds each member to (it stops at the declared size and a
member that inflates further fails its checksum), so they cannot be used to lie past the guard.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from qa.ingest.converted import Skip

MAX_MEMBERS = 10_000
# Office XML deflates to a tenth or a twentieth of its size; a thousandfold is a bomb.
MAX_RATIO = 1_000
RATIO_FLOOR = 10 * 2**20  # below this unzipped size a member's ratio does not matter


def check_zip(path: Path, max_unzipped_bytes: int, kind: str) -> None:
    """Raise ``Skip`` unless ``path`` is a zip archive that is safe to unzip.

    ``Skip("corrupt")`` when it is not a zip archive at all (``kind`` names what it should
    be, e.g. ``"DOCX"``), ``Skip("too large")`` when it would inflate past the limits.
    """
    if not zipfile.is_zipfile(path):
        raise Skip("corrupt", f"not a {kind} file (a {kind} file is a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Skip("corrupt", f"damaged zip archive ({exc})") from None
    if len(members) > MAX_MEMBERS:
        raise Skip("too large", f"{len(members):,} files inside the {kind} archive (zip bomb?)")
    total = sum(member.file_size for member in members)
    if total > max_unzipped_bytes:
        raise Skip("too large", f"unzips to {total / 2**20:,.0f} MiB, the limit is "
                   f"{max_unzipped_bytes / 2**20:,.0f} MiB (zip bomb?)")
    for member in members:
        ratio = member.file_size // max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise Skip("too large", f"{member.filename} inflates {ratio:,} times (zip bomb?)")
