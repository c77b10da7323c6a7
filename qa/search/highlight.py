"""Highlights: the part of a passage that answers the question, as one span.

Each sentence is scored by its vector's cosine with the question (the index
keeps one vector per sentence, read in context where it was built so:
``qa.index.sentences``), plus a share of the question's rare terms it
contains (so "21" or "länsstyrelser" can tip the balance), plus a small bonus
when it holds the kind of answer the question asks for (a date for "när", an
amount for "vad kostar": ``qa.search.answer_types``). Without sentence vectors
the term overlap alone decides.

What is marked is what answers, not just the best sentence:

* a lead-in line ("… på handens fem fingrar:") is marked with the list it
  introduces, and a list item with its lead-in and the rest of the list, since
  a reader needs both; an item of a list without a lead-in (the numbered steps
  of a help page) is marked with the whole list, since a how-to's answer is
  all its steps; so is a list whose markers were lost (as in most PDFs):
  a lead-in that does not end its sentence ("Du behöver bygglov för att"), then
  an item a line, each going on in lower case and each but the last ending in
  a comma;
* a neighbouring sentence that scores nearly as well is marked too, for
  answers that span two sentences; the sentence after the best one with a
  wider margin (``QA_ANSWER_NEXT_MARGIN``), since what a question asks about
  a named thing often follows the sentence that names it, which holds the
  question's words and so scores best;
* a bare heading, or a question the text itself asks ("Vem har rätt till
  färdtjänst?"), is never the answer when the passage has more;
* a sentence that restates the question is not the answer when the sentence
  after it answers: the problem of a problem/solution pair ("Känns igen på: …"
  then "Lösning: …", "Problem: …" then "Åtgärd: …"), a how-to's opening line
  ("Så här skriver du en formel på två rader.") and any sentence whose words
  are mostly the question's own. It scores best because it says what the
  question says; the sentence after it, when it is not a heading, a question
  or the start of another problem and scores within a margin of it (any margin
  when it is labelled as the solution), is marked instead;
* for a question that asks how to do something ("Hur får jag …?", "Vad gör
  jag om …?"), a sentence that only names the task ("Om du har långa rader …
  kan du fixera dem.") gives way to the instruction after it ("Markera raden
  nedanför …": a sentence that starts with its verb, as steps do) when that
  scores within a margin of it.

The marked sentences are contiguous and come back as one span, so the first
highlight of a result is the whole answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np

from qa.index.lexical import LexicalIndex
from qa.search.answer_types import AnswerType, has_answer_type

_TERM_WEIGHT = 0.05
_CUE_WEIGHT = 0.04
_NEIGHBOUR_MARGIN = 0.02
_MAX_LIST_ITEMS = 12
# A sentence restates the question when this share of its terms' idf mass is the question's.
_RESTATE_SHARE = 0.6
# How much lower than the restatement the sentence after it may score and still be the answer.
_RESTATE_MARGIN = 0.05  # chosen on the tune halves (notes/answers.md)
# The problem side of a problem/solution pair, and a how-to's opening line: they restate.
_PROBLEM_LABEL = re.compile(
    r"^(?:problem(?:et)?|symptom(?:en)?|känns igen på|kännetecken|felet|felbeskrivning|fråga|"
    r"f|orsak|du märker)\s*[:.–-](?:\s|$)", re.IGNORECASE)
_HOWTO_OPENING = re.compile(r"^(?:så här|gör så här|så gör du|här beskrivs|i det här avsnittet)\b",
                            re.IGNORECASE)
# The solution side: the answer whatever its score.
_SOLUTION_LABEL = re.compile(
    r"^(?:lösning(?:en)?|åtgärd(?:er)?|gör så här|svar(?:et)?|s|så löser du det|tips)\s*[:.–-](?:\s|$)",
    re.IGNORECASE)
_LIST_MARKER = re.compile(r"^(?:[-–•*·▪]|\d{1,2}[.)])\s")
# A how-to step: an instruction that starts with its verb ("Välj Verktyg – Alternativ.", "Tryck
# u …"), or a step of a numbered list.
_STEP = re.compile(
    r"^(?:\d{1,2}[.)]\s*)?(?:välj|klicka|markera|öppna|gå|skriv|ange|tryck|dra|placera|"
    r"högerklicka|dubbelklicka|infoga|ändra|stäng|använd|lägg|kontrollera|aktivera|avaktivera|"
    r"avmarkera|spara|starta|kör|sätt|peka|flytta|mata|bekräfta|redigera|upprepa|ställ|byt|"
    r"följ|skapa|radera|kopiera|klistra|utnyttja|definiera|installera|kryssa)\b", re.IGNORECASE)
# How much lower than the best sentence the step after it may score and still be the answer.
_STEP_MARGIN = 0.05  # chosen on the tune halves (docs/design/2026-12-06-real-collection-answers.md)
_WHOLE_LIST = True  # a list item marks its whole list, lead-in or not (chosen on the tune halves)

_QUESTION_WORD = re.compile(r"^\W*(?:(?:i|på|av|för|med|till|från|om|under|hos|vid|efter)\s+)?"
                            r"(?:hur|vad|varför|vem|vems|vilk\w*|när|var|vart|varifrån|"
                            r"how|what|why|who|which|when|where)\b", re.IGNORECASE)


def asks_yes_or_no(question: str) -> bool:
    """Whether ``question`` is a yes/no question: Swedish puts the verb first ("Är …?", "Kan
    man …?", "Blir …?") where a question word would stand."""
    return question.rstrip().endswith("?") and not _QUESTION_WORD.match(question)


def asks_how_to(question: str) -> bool:
    """Whether ``question`` asks how to do something ("Hur får jag …?", "Vad gör jag om …?"),
    whose answer is the instruction, not the sentence that names the task."""
    return bool(_HOW_TO.match(question))


_HOW_TO = re.compile(r"^\W*(?:hur\b(?!\s+(?:många|mycket|stor|stora|lång|långa|länge|ofta|"
                     r"gammal|kommer det sig))|vad (?:gör|ska) (?:jag|man)\b)", re.IGNORECASE)


class QuestionTerms(frozenset[str]):
    """A question's terms, whether it asks yes or no, and whether it asks how to do something
    (``Highlighter.terms``)."""

    polar: bool
    how_to: bool

    def __new__(cls, terms: Iterable[str] = (), polar: bool = False,
                how_to: bool = False) -> QuestionTerms:
        made = super().__new__(cls, terms)
        made.polar = polar
        made.how_to = how_to
        return made


IsListItem = Callable[[int, int], bool]  # (start, end) of a sentence -> inside a list item block?


class Highlighter:
    """Marks the answering sentences inside a passage's span."""

    def __init__(self, lexical: LexicalIndex, next_margin: float = 0.0) -> None:
        """``next_margin``: how much lower than the best sentence the sentence after it may
        score and still be marked with it (``QA_ANSWER_NEXT_MARGIN``; 0 = off). Either
        neighbour within ``_NEIGHBOUR_MARGIN`` is marked in any case."""
        self.next_margin = next_margin
        self.analyzer = lexical.analyzer
        self._term_cache: dict[str, frozenset[str]] = {}
        self.idf = lexical.idf()

    def _terms(self, sentence: str) -> frozenset[str]:
        terms = self._term_cache.get(sentence)
        if terms is None:
            terms = frozenset(self.analyzer.tokens(sentence))
            if len(self._term_cache) > 100_000:
                self._term_cache.clear()
            self._term_cache[sentence] = terms
        return terms

    def terms(self, question: str) -> QuestionTerms:
        """The question's terms, as ``highlight`` takes them (computed once per question)."""
        return QuestionTerms(self.analyzer.tokens(question), polar=asks_yes_or_no(question),
                             how_to=asks_how_to(question))

    def _overlap(self, q_terms: frozenset[str], sentence: str) -> float:
        return sum(self.idf.get(t, 0.0) for t in q_terms & self._terms(sentence))

    def highlight(self, q_terms: frozenset[str], text: str, spans: list[tuple[int, int]],
                  cosines: np.ndarray | None = None, answer_type: AnswerType | None = None,
                  in_list_item: IsListItem | None = None) -> list[tuple[int, int]]:
        """One span over the answering sentences of ``spans`` (a passage's sentences in order).

        ``q_terms`` from ``terms``; ``cosines`` of each sentence with the question;
        ``answer_type`` from ``qa.search.answer_types.question_type``; ``in_list_item`` says
        whether a sentence lies in a list item of the document's structure (besides the list
        markers written in the text, which are recognised here).
        """
        sentences = [text[a:b] for a, b in spans]
        scores = self._scores(q_terms, sentences, cosines, answer_type)
        items = [bool(_LIST_MARKER.match(s.lstrip())) or (in_list_item is not None
                                                          and in_list_item(a, b))
                 for s, (a, b) in zip(sentences, spans, strict=True)]
        lead_ins = [s.rstrip().endswith(":") for s in sentences]
        for lead, last in _unmarked_lists(sentences):
            lead_ins[lead] = True
            items[lead + 1:last + 1] = [True] * (last - lead)
        # A bare heading restates the topic; the answer is in the sentences under it. (A short
        # list item without a full stop is content, not a heading; nor is a list's lead-in.)
        bare = np.array([(_is_bare_heading(s) and not item and not lead) or _is_question(s)
                         for s, item, lead in zip(sentences, items, lead_ins, strict=True)])
        scores = np.where(bare & (len(spans) > 1), scores - 1.0, scores)
        best = int(np.argmax(scores))
        label = None
        if not (lead_ins[best] and best + 1 < len(spans) and items[best + 1]):
            restatement = best
            best, label = self._past_restatement(best, q_terms, sentences, scores, bare)
            if best == restatement and label is None:
                best = _next_step(best, q_terms, sentences, scores, bare)
            if best != restatement:  # the restatement is not marked as a second sentence either
                bare = bare.copy()
                bare[restatement] = True
        first, last = _answer_extent(best, scores, items, lead_ins, bare)
        if first == last == best:
            last = self._continued(best, scores, items, bare)
        if label is not None:  # "Lösning:" on a line of its own is marked with what it labels
            first = min(first, label)
        return [(spans[first][0], spans[last][1])]

    def _continued(self, best: int, scores: np.ndarray, items: list[bool], bare: np.ndarray
                   ) -> int:
        """The last sentence of an answer that goes on after ``best`` (no neighbour, list or
        lead-in marked with it): the sentence after it when that is no heading, question or
        list item and scores within ``next_margin`` of it; else ``best``.

        What a question asks about a named thing often comes in the sentence after the one
        that names it ("Funktionen heapused returnerar …" then "Detta är endast implementerat
        i windows."); that one holds the question's words, so it scores best, and the answer
        scores a little lower.
        """
        after = best + 1
        if after >= len(items) or bare[after] or items[after]:
            return best
        return after if scores[after] >= scores[best] - self.next_margin else best

    def restates(self, q_terms: frozenset[str], sentence: str) -> bool:
        """Whether ``sentence`` says what the question asks rather than answering it: a
        problem label, a how-to's opening line, or mostly the question's own terms (not for a
        yes/no question, whose answer repeats it: "Blir makrona signerade?" "Om du signerar
        ett dokument, signeras makrona i det automatiskt.")."""
        text = sentence.lstrip()
        if _PROBLEM_LABEL.match(text) or _HOWTO_OPENING.match(text):
            return True
        if getattr(q_terms, "polar", False):
            return False
        terms = self._terms(sentence)
        mass = sum(self.idf.get(t, 0.0) for t in terms)
        return mass > 0 and self._overlap(q_terms, sentence) >= _RESTATE_SHARE * mass

    def _past_restatement(self, best: int, q_terms: frozenset[str], sentences: list[str],
                          scores: np.ndarray, bare: np.ndarray) -> tuple[int, int | None]:
        """The answer after ``best`` when ``best`` restates the question (see the module doc),
        with the index of a solution label standing alone on its line before it (else None);
        ``(best, None)`` when ``best`` is the answer."""
        after = best + 1
        if after >= len(sentences) or bare[after]:
            return best, None
        labelled = best > 0 and _is_label(sentences[best - 1], _PROBLEM_LABEL)
        if not (labelled or self.restates(q_terms, sentences[best])):
            return best, None
        text = sentences[after].lstrip()
        if _PROBLEM_LABEL.match(text):
            return best, None
        if _is_label(text, _SOLUTION_LABEL) and after + 1 < len(sentences) and not bare[after + 1]:
            return after + 1, after
        if _SOLUTION_LABEL.match(text) or scores[after] >= scores[best] - _RESTATE_MARGIN:
            return after, None
        return best, None

    def _scores(self, q_terms: frozenset[str], sentences: list[str], cosines: np.ndarray | None,
                answer_type: AnswerType | None) -> np.ndarray:
        overlap = np.array([self._overlap(q_terms, s) for s in sentences])
        scores = overlap / max(overlap.max(initial=0.0), 1e-9) * _TERM_WEIGHT
        if cosines is not None:
            scores = scores + cosines
        elif not overlap.any():
            scores = np.array([len(s.split()) for s in sentences], dtype=float)
        if answer_type is not None:
            scores = scores + _CUE_WEIGHT * np.array(
                [has_answer_type(s, answer_type) for s in sentences], dtype=float)
        return scores


def _next_step(best: int, q_terms: frozenset[str], sentences: list[str], scores: np.ndarray,
               bare: np.ndarray) -> int:
    """For a how-to question, the instruction right after ``best`` when ``best`` only names
    the task ("Om du har långa rader … kan du fixera dem.") and the step scores within
    ``_STEP_MARGIN`` of it; else ``best``."""
    after = best + 1
    if (not getattr(q_terms, "how_to", False) or after >= len(sentences) or bare[after]
            or _STEP.match(sentences[best].lstrip())):
        return best
    if _STEP.match(sentences[after].lstrip()) and scores[after] >= scores[best] - _STEP_MARGIN:
        return after
    return best


def _answer_extent(best: int, scores: np.ndarray, items: list[bool], lead_ins: list[bool],
                   bare: np.ndarray) -> tuple[int, int]:
    """First and last sentence of the answer around the best sentence (see the module doc)."""
    n = len(items)
    if lead_ins[best] and best + 1 < n and items[best + 1]:
        return best, _list_end(best + 1, items)
    if items[best]:
        start = best
        while start > 0 and items[start - 1]:
            start -= 1
        if start > 0 and lead_ins[start - 1]:
            return start - 1, _list_end(best, items, start)
        if _WHOLE_LIST:  # the steps or points of a list answer together
            return start, _list_end(best, items, start)
        return best, best
    for j in (best + 1, best - 1):
        if 0 <= j < n and not bare[j] and not items[j] and scores[j] >= scores[best] - _NEIGHBOUR_MARGIN:
            return min(best, j), max(best, j)
    return best, best


def _list_end(i: int, items: list[bool], start: int | None = None) -> int:
    """The last item of the list run holding item ``i``, at most ``_MAX_LIST_ITEMS`` from its start."""
    start = i if start is None else start
    while i + 1 < len(items) and items[i + 1] and i + 1 - start < _MAX_LIST_ITEMS:
        i += 1
    return i


def _unmarked_lists(sentences: list[str]) -> list[tuple[int, int]]:
    """Lists written as one sentence running over lines, their markers lost (as in most PDFs).

    Swedish writes such a list as a lead-in that does not end its sentence ("Du behöver
    bygglov för att", "De största projekten är"), then one line per item, each but the last
    ending in a comma or semicolon and each going on in lower case, the last closing the
    sentence. Returns (lead-in, last item) index pairs of every such run of two items or
    more; a run may end with the sentences, as a passage can end inside a list.
    """
    found: list[tuple[int, int]] = []
    i = 0
    while i + 2 < len(sentences):
        lead = sentences[i].rstrip()
        j = i + 1
        if lead and not lead.endswith((".", "!", "?", "…", ",", ";")):
            while (j < len(sentences) and _continues(sentences[j])
                   and sentences[j].rstrip().endswith((",", ";"))):
                j += 1
            if j < len(sentences) and _continues(sentences[j]):
                j += 1  # the last item, which closes the sentence
            if j > i + 2:  # two items or more (the passage may end inside the list)
                found.append((i, j - 1))
                i = j
                continue
        i += 1
    return found


def _continues(sentence: str) -> bool:
    """Whether a line goes on with a sentence begun before it (it starts in lower case)."""
    text = sentence.lstrip()
    return bool(text) and text[0].islower()


def _is_label(sentence: str, label: re.Pattern[str]) -> bool:
    """Whether ``sentence`` is only a label ("Lösning:", "Känns igen på:") of that kind."""
    text = sentence.strip()
    return bool(label.match(text)) and text.endswith(":") and len(text.split()) <= 4


def _is_question(sentence: str) -> bool:
    """A question in the text ("Vem har rätt till färdtjänst?") asks; the answer follows it."""
    return sentence.rstrip().endswith("?")


def _is_bare_heading(sentence: str) -> bool:
    return len(sentence.split()) <= 12 and not sentence.rstrip().endswith((".", "!", "…", ":", "?"))
