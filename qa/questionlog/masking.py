"""Masking personal data in a question before it is written anywhere.

``mask_personal_data`` replaces, in this order, each of these by a placeholder naming its type:

* e-mail addresses -> ``[e-post]``;
* Swedish personal identity numbers and coordination numbers (day + 60), with or without the
  century and with or without the ``-``/``+`` separator, whose Luhn digit and date check out
  (the ``personnummer`` package) -> ``[personnummer]``; the same shape with a wrong check digit
  or date (a mistyped number is still someone's) -> ``[nummer]``;
* phone numbers in Swedish and international formats (Google's libphonenumber rules through
  the ``phonenumbers`` package, region SE: ``070-123 45 67``, ``08-123 456 78``,
  ``+46 70 123 45 67``, ``0046 ...``) -> ``[telefonnummer]``;
* postal addresses: a street name with a number (``Storgatan 12B``, ``Kungsvägen 3 lgh 1102``,
  ``Box 123``) and a postcode before a place name (``123 45 Ort``, ``SE-123 45``) -> ``[adress]``;
* every run of more than six digits, also when its groups are split by one space, hyphen, dot
  or slash (``4111 1111 1111 1111``) -> ``[nummer]``.

The rules err on the side of masking: a question loses a long number or a street number it
did not need, rather than the log keeping a number it should not. Before matching, the text is
NFKC-normalised (full-width digits become ASCII ones) and invisible format characters (zero-width
spaces and joiners, soft hyphens) are dropped, so that they cannot split a number past the rules.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from personnummer import personnummer

PERSONNUMMER = "[personnummer]"
PHONE = "[telefonnummer]"
EMAIL = "[e-post]"
ADDRESS = "[adress]"
NUMBER = "[nummer]"

# Word boundaries that also hold next to a placeholder's brackets and any letter: a digit run
# must not be the tail of a longer one.
_NOT_DIGIT_BEFORE = r"(?<![\w])"
_NOT_DIGIT_AFTER = r"(?![\w])"

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# YYMMDD or YYYYMMDD, an optional - or + (or a space), the four last digits.
_IDENTITY = re.compile(_NOT_DIGIT_BEFORE + r"((?:\d{2})?\d{6})\s?([-+]?)\s?(\d{4})" + _NOT_DIGIT_AFTER)
# Street names end in one of these (Storgatan, Kungsvägen, Lilla torget, Åsgränd, ...);
# a number of 1-4 digits follows, perhaps a letter (12B) and a flat number (lgh 1102).
_STREET_ENDINGS = (
    "gatan", "gata", "vägen", "väg", "gränd", "gränden", "torget", "torg", "backen", "backe",
    "allén", "allé", "stigen", "stig", "plan", "planen", "leden", "led", "platsen", "plats",
    "liden", "lid", "slingan", "slinga", "terrassen", "kajen", "kaj", "strand", "stranden",
    "esplanaden", "promenaden", "parken", "hagen", "ringen", "gången", "gång", "vägen",
    "länken", "svängen", "tået", "udden", "berget", "höjden", "dalen", "ängen", "vreten",
)
_STREET = re.compile(
    r"\b[\wÅÄÖåäöéÉ-]*(?:" + "|".join(sorted(set(_STREET_ENDINGS), key=len, reverse=True))
    + r")\s+\d{1,4}(?:\s?[A-Za-z](?![\w]))?(?:\s*,?\s*(?:lgh|lägenhet|nb|tr)\.?\s*\d{1,4})?"
    + _NOT_DIGIT_AFTER, re.IGNORECASE)
_BOX = re.compile(r"\b(?:box|postbox|pl)\s+\d{1,6}\b", re.IGNORECASE)
# A postcode with the place name after it (123 45 Ort, 12345 Ort), or after SE- alone.
_POSTCODE = re.compile(
    r"(?:\bSE-?\s?)?" + _NOT_DIGIT_BEFORE + r"\d{3}\s?\d{2}" + _NOT_DIGIT_AFTER
    + r"\s+[A-ZÅÄÖ][\wåäöÅÄÖ-]+|\bSE-?\s?\d{3}\s?\d{2}" + _NOT_DIGIT_AFTER)
# More than six digits, its groups perhaps split by one separator each.
_LONG_NUMBER = re.compile(_NOT_DIGIT_BEFORE + r"\d(?:[ \-./]?\d){6,}" + _NOT_DIGIT_AFTER)


def _visible(text: str) -> str:
    """NFKC, without format characters (Cf: zero-width spaces and joiners, soft hyphens)."""
    normal = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in normal if unicodedata.category(ch) != "Cf")


def _identity(match: re.Match[str]) -> str:
    digits, separator, last = match.group(1), match.group(2), match.group(3)
    if personnummer.valid(f"{digits}{separator}{last}"):
        return PERSONNUMMER
    return match.group(0)  # not a valid number: the phone and long-number rules still see it


def _phones(text: str) -> str:
    """Each phone number libphonenumber finds (region SE, possible numbers) as ``[telefonnummer]``,
    when written as a phone number is: from its trunk 0, or +/00 and a country code (a bare
    ``123456`` is a case or order number; the long-number rule takes it past six digits)."""
    spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(
        text, "SE", leniency=phonenumbers.Leniency.POSSIBLE)
        if m.raw_string.lstrip("(").startswith(("0", "+"))]
    for start, end in reversed(spans):
        text = text[:start] + PHONE + text[end:]
    return text


def mask_personal_data(text: str) -> str:
    """``text`` with the personal data above replaced by type placeholders.

    Deterministic and idempotent (a masked text masks to itself): the log, the gap report and
    the tests rely on the same text coming out for the same question.
    """
    text = _visible(text)
    text = _EMAIL.sub(EMAIL, text)
    text = _IDENTITY.sub(_identity, text)
    text = _phones(text)
    text = _STREET.sub(ADDRESS, text)
    text = _BOX.sub(ADDRESS, text)
    text = _POSTCODE.sub(ADDRESS, text)
    return _LONG_NUMBER.sub(NUMBER, text)
