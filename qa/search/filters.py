"""Search filters: which passages a question may be answered from.

A passage **matches** a filter when every part that is given holds (the parts are AND-ed):

* ``document_ids``: its document is one of these ids (an id the index does not hold matches
  nothing, it is not an error);
* ``date_from``/``date_to`` (``YYYY-MM-DD``, either or both, inclusive): its date overlaps the
  period. A passage's date is its section's, else its document's, and may be partial: ``2015``
  stands for the whole year and ``2015-06`` for the whole month, so ``2015`` matches
  ``date_from=2015-06-01``. A date may carry a time after the day (``2015-06-02T10:00``), which
  is ignored. A passage without a date, or with one that does not start as an ISO date
  (``juni 2015`` from a JSONL record), does not match a date filter;
* ``formats``: its document was read from one of these formats (``FORMATS``);
* ``metadata``: for each field, the document's metadata value equals the given one, or, when
  the document's value is a list, contains it. Values are compared as text, so ``3`` and
  ``"3"`` are equal and so are ``true`` and ``"true"`` (``qa ask --meta`` can only give text).

The filter is applied inside ranking, not to its results: every ranker searches only the
matching passages (``qa.search.engine``), so a search returns ``k`` matching passages whenever
that many match. Which passages match is computed from the index's own data (formats and
metadata are on documents, dates on passages) once per distinct filter and index snapshot,
and the last few masks are kept (``FilterMasks``); a search without filters never gets here.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from qa.errors import FilterError
from qa.index.vectors import RowSelection

if TYPE_CHECKING:
    from qa.index.snapshot import Snapshot

DocumentFormat = Literal["pdf", "docx", "odt", "html", "md", "txt", "epub", "pptx", "xlsx", "ods",
                         "rtf", "eml", "jsonl"]
#: The formats a document can have been read from (``Document.format``).
FORMATS: tuple[str, ...] = get_args(DocumentFormat)

MetadataValue = str | int | float | bool

#: How each part is called in messages; ``qa ask`` passes its option names instead.
FIELD_NAMES: Mapping[str, str] = {
    "document_ids": "document_ids", "date_from": "date_from", "date_to": "date_to",
    "formats": "formats", "metadata": "metadata",
}

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?=$|[T ])")
_MASKS_KEPT = 32


@dataclass(frozen=True)
class Filters:
    """What passages may answer, checked and normalised by ``make`` (the only way to build one).

    ``None`` means a part is not given. Lists keep the order given, without repeats.
    """

    document_ids: tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None
    formats: tuple[str, ...] | None = None
    metadata: tuple[tuple[str, MetadataValue], ...] | None = None

    @classmethod
    def make(cls, *, document_ids: Iterable[str] | None = None, date_from: str | None = None,
             date_to: str | None = None, formats: Iterable[str] | None = None,
             metadata: Mapping[str, Any] | None = None,
             names: Mapping[str, str] = FIELD_NAMES) -> Filters:
        """Check every part; a bad one raises ``FilterError`` naming it (as ``names`` calls it).

        Refused: an empty list or mapping, an empty id or field name, a date that is not a
        real ``YYYY-MM-DD`` day, ``date_from`` after ``date_to``, a format not in ``FORMATS``,
        a metadata value that is not a string, number or boolean.
        """
        ids = None if document_ids is None else _unique(document_ids, names["document_ids"])
        if ids is not None and not all(ids):
            raise FilterError(f"{names['document_ids']}: a document id must not be empty")
        first = None if date_from is None else _day(date_from, names["date_from"])
        last = None if date_to is None else _day(date_to, names["date_to"])
        if first is not None and last is not None and first > last:
            raise FilterError(f"{names['date_from']} {date_from} is after {names['date_to']} "
                              f"{date_to}")
        kinds = None if formats is None else _unique(formats, names["formats"])
        for kind in kinds or ():
            if kind not in FORMATS:
                raise FilterError(f"{names['formats']}: unknown format {kind!r}; expected one of "
                                  f"{', '.join(FORMATS)}")
        meta = None if metadata is None else _metadata(metadata, names["metadata"])
        return cls(ids, date_from, date_to, kinds, meta)

    def __bool__(self) -> bool:
        """False when no part is given: such a filter lets every passage through."""
        return any(v is not None for v in (self.document_ids, self.date_from, self.date_to,
                                           self.formats, self.metadata))

    def to_json(self) -> dict[str, Any]:
        """Every part, ``null`` when not given: the ``filters`` of the search's answer."""
        return {
            "document_ids": None if self.document_ids is None else list(self.document_ids),
            "date_from": self.date_from, "date_to": self.date_to,
            "formats": None if self.formats is None else list(self.formats),
            "metadata": None if self.metadata is None else dict(self.metadata),
        }

    @property
    def key(self) -> tuple[Any, ...]:
        """What decides the matching passages (metadata values as compared: as text)."""
        meta = None if self.metadata is None else tuple((f, _text(v)) for f, v in self.metadata)
        return (self.document_ids, self.date_from, self.date_to, self.formats, meta)


def _unique(values: Iterable[str], name: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise FilterError(f"{name} must be a list, not a string")
    out = tuple(dict.fromkeys(values))
    if not out:
        raise FilterError(f"{name} must not be an empty list (leave it out to not filter by it)")
    return out


def _day(value: str, name: str) -> date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise FilterError(f"{name} {value!r} is not a date of the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name} {value!r} is not a valid date") from None


def _metadata(metadata: Mapping[str, Any], name: str) -> tuple[tuple[str, MetadataValue], ...]:
    if not isinstance(metadata, Mapping):
        raise FilterError(f"{name} must be an object of field: value")
    if not metadata:
        raise FilterError(f"{name} must name at least one field (leave it out to not filter by it)")
    out = []
    for field, value in metadata.items():
        if not isinstance(field, str) or not field:
            raise FilterError(f"{name}: a field name must be a non-empty string")
        if _text(value) is None:
            raise FilterError(f"{name} {field!r}: the value must be a string, number or boolean, "
                              f"not {type(value).__name__}")
        out.append((field, value))
    return tuple(sorted(out, key=lambda fv: fv[0]))


def _text(value: object) -> str | None:
    """A scalar as it is compared (JSON's spelling of numbers and booleans); None otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    return None


def _holds(value: object, wanted: str) -> bool:
    """Whether a document's metadata value equals ``wanted`` or, being a list, contains it."""
    if isinstance(value, list):
        return any(_text(v) == wanted for v in value)
    return _text(value) == wanted


def date_period(value: str | None) -> tuple[int, int] | None:
    """First and last day a (possibly partial) ISO date stands for, as ``YYYYMMDD`` numbers.

    ``2015`` → (20150101, 20151231), ``2015-06`` → (20150601, 20150631): the last day of a
    month is written as 31, which orders correctly against every real day. None for no date or
    one that does not start as an ISO date.
    """
    m = _PARTIAL_DATE.match(value or "")
    if m is None:
        return None
    year, month, day = int(m[1]), m[2], m[3]
    if month is None:
        return year * 10000 + 101, year * 10000 + 1231
    if not 1 <= int(month) <= 12:
        return None
    base = year * 10000 + int(month) * 100
    if day is None:
        return base + 1, base + 31
    if not 1 <= int(day) <= 31:
        return None
    return base + int(day), base + int(day)


@dataclass(frozen=True)
class PassageMask:
    """The passages (and their sentences) a filter lets through, in the forms rankers take."""

    passages: RowSelection
    sentences: RowSelection | None  # None when the index has no sentence vectors
    weights: np.ndarray  # float32, 1 for a matching passage and 0 otherwise (BM25's weight_mask)

    @property
    def count(self) -> int:
        return self.passages.count


class _Catalogue:
    """What filters test, read once from a snapshot: each passage's document and date period,
    each document's format and metadata."""

    def __init__(self, snapshot: Snapshot) -> None:
        facets = snapshot.store.document_facets()
        self.doc_index = {doc_id: i for i, (doc_id, _, _) in enumerate(facets)}
        self.formats = np.array([fmt for _, fmt, _ in facets], dtype=object)
        self.metadata = [meta if isinstance(meta, dict) else {} for _, _, meta in facets]
        passages = snapshot.passages
        # A passage of an unknown document points past the documents, at a slot always False.
        self.row_doc = np.fromiter((self.doc_index.get(p.document_id, len(facets)) for p in passages),
                                   dtype=np.int64, count=len(passages))
        periods: dict[str | None, tuple[int, int] | None] = {}
        self.first = np.zeros(len(passages), np.int64)
        self.last = np.zeros(len(passages), np.int64)
        self.dated = np.zeros(len(passages), bool)
        for row, p in enumerate(passages):
            if p.date not in periods:
                periods[p.date] = date_period(p.date)
            period = periods[p.date]
            if period is not None:
                self.first[row], self.last[row] = period
                self.dated[row] = True
        self.sentence_parent = None if snapshot.sentences is None else snapshot.sentences.parent

    def rows(self, f: Filters) -> np.ndarray:
        """A boolean per passage: whether it matches ``f``."""
        n_docs = len(self.formats)
        docs = np.ones(n_docs + 1, bool)
        docs[n_docs] = False
        if f.document_ids is not None:
            named = np.zeros(n_docs + 1, bool)
            named[[self.doc_index[i] for i in f.document_ids if i in self.doc_index]] = True
            docs &= named
        if f.formats is not None:
            docs[:n_docs] &= np.isin(self.formats, list(f.formats))
        if f.metadata is not None:
            wanted = [(field, _text(value) or "") for field, value in f.metadata]
            for i, meta in enumerate(self.metadata):
                if docs[i] and not all(field in meta and _holds(meta[field], text)
                                       for field, text in wanted):
                    docs[i] = False
        rows = docs[self.row_doc]
        if f.date_from is not None or f.date_to is not None:
            rows &= self.dated
            if f.date_from is not None:
                rows &= self.last >= int(f.date_from.replace("-", ""))
            if f.date_to is not None:
                rows &= self.first <= int(f.date_to.replace("-", ""))
        return rows


class FilterMasks:
    """The passage masks of one snapshot's filters: computed on first use, the last few kept.

    Thread-safe. Holds nothing until the first filtered search, so a service that is never
    asked with filters pays nothing for them.
    """

    def __init__(self, snapshot: Snapshot, kept: int = _MASKS_KEPT) -> None:
        self._snapshot = snapshot
        self._kept = kept
        self._lock = threading.Lock()
        self._catalogue: _Catalogue | None = None
        self._masks: OrderedDict[tuple[Any, ...], PassageMask] = OrderedDict()

    def mask(self, filters: Filters) -> PassageMask:
        """The passages ``filters`` lets through (cached by the filter's ``key``)."""
        key = filters.key
        with self._lock:
            found = self._masks.get(key)
            if found is not None:
                self._masks.move_to_end(key)
                return found
            if self._catalogue is None:
                self._catalogue = _Catalogue(self._snapshot)
            catalogue = self._catalogue
        rows = catalogue.rows(filters)
        parent = catalogue.sentence_parent
        made = PassageMask(RowSelection(rows),
                           None if parent is None else RowSelection(rows[parent]),
                           rows.astype(np.float32))
        with self._lock:
            self._masks[key] = made
            self._masks.move_to_end(key)
            while len(self._masks) > self._kept:
                self._masks.popitem(last=False)
        return made
