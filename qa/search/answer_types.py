"""Answer-type cues: what kind of answer a Swedish question asks for, and which sentences hold one.

"När …?" wants a date or a year, "Hur många …?" a number, "Vad kostar …?" an
amount of money, "Vem …?" a person or an organisation, "Var …?" a place. The
model's cosine does not see that a sentence *has* a date; these cues add it. They
are plain regular expressions over the question and the sentence, so they cost
microseconds and need no model.
"""

from __future__ import annotations

import re
from typing import Literal

AnswerType = Literal["when", "how_many", "cost", "who", "where"]

_MONTHS = ("januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|nov|dec")
_NUMBER_WORDS = ("två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|tjugo|trettio|fyrtio|"
                 "femtio|hundra|tusen|miljon|miljoner|miljard|miljarder|hälften|dubbelt")

# Order matters: "hur mycket kostar" is a cost before it is an amount.
_QUESTION_TYPES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    ("cost", re.compile(r"\b(kostar|kostnad\w*|avgift\w*|pris\w*|taxa\w*|betala\w*|"
                        r"vad tar \w+ betalt)\b")),
    ("when", re.compile(r"^(när|sedan när|till när|hur länge sedan)\b|\b(vilket|vilka) (år|datum)\b|"
                        r"\bvilken (dag|tid|månad|vecka|period|tidpunkt)\b|\bnär\b")),
    ("how_many", re.compile(r"\bhur (många|mycket|stor|stora|lång|långa|ofta|gammal)\b|"
                            r"\bantal\w*\b|\bvilken (andel|summa|procent)\b")),
    ("who", re.compile(r"^(vem|vilka personer)\b|\bvem\b|\bvilken (person|politiker|chef)\b")),
    ("where", re.compile(r"^(var|vart|varifrån)\b|\bvilken (plats|ort|adress|lokal)\b|"
                         r"\bi vilken (stad|kommun|ort|region|lokal)\b")),
)

_SENTENCE_CUES: dict[AnswerType, re.Pattern[str]] = {
    "when": re.compile(rf"\b(1[89]\d\d|20\d\d)\b|\b\d{{1,2}}(\s|\u00a0)(?:{_MONTHS})\b|"
                       r"\b(måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag)(ar|en)?\b|"
                       r"\b(våren|hösten|sommaren|vintern|i dag|idag|i år|nästa år|varje år)\b|"
                       r"\b\d{1,2}[.:]\d\d\b|\bvecka \d+\b", re.IGNORECASE),
    "how_many": re.compile(rf"\d|\b({_NUMBER_WORDS})\b|\bprocent\b", re.IGNORECASE),
    "cost": re.compile(r"\d[\d\s\u00a0]*(kr\b|kronor|:-|sek\b|mkr|miljoner|miljarder|tkr|öre)|"
                       r"\b(kostnadsfri\w*|gratis|avgiftsfri\w*|ingen avgift)\b", re.IGNORECASE),
    "who": re.compile(r"\b[A-ZÅÄÖ][a-zåäöé]+(\s|\u00a0)[A-ZÅÄÖ][a-zåäöé]+|\([A-ZÅÄÖ]{1,3}\)|"
                      r"\b\w*(ordförande|chef|direktör|minister|ledamot|samordnare|handläggare|"
                      r"ansvarig|förvaltning\w*|nämnd\w*|styrelse\w*)\b"),
    "where": re.compile(r"\b(i|på|vid|utanför|hos|mot)\s[A-ZÅÄÖ]\w+|\b\w+(gatan|vägen|torget|"
                        r"huset|centralen|centret|centrum)\b|\b\d{3}\s?\d{2}\b"),
}


def question_type(question: str) -> AnswerType | None:
    """The kind of answer ``question`` asks for, or None for "what/how/why" and keyword queries."""
    q = " ".join(question.lower().split())
    for kind, pattern in _QUESTION_TYPES:
        if pattern.search(q):
            return kind
    return None


def has_answer_type(sentence: str, kind: AnswerType) -> bool:
    """Whether ``sentence`` holds something of the kind asked for (a date, a number, ...)."""
    return _SENTENCE_CUES[kind].search(sentence) is not None
