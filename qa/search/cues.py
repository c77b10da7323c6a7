"""Whether a Swedish question leans on what was said before it: the model-free part of
reading follow-up questions (``qa.search.conversation``).

A question continues a conversation when its own words point back: a personal pronoun
("Vilket parti tillhör *han*?"), a demonstrative ("*detta* projekt", "Vad kan man lämna
*där*?", "Vad hände *då*?"), a leading conjunction ("*Och* hur gör Motala?"), an echo such as
"Varför då?", a phrase without its verb ("Och på sommaren?", "Om pappan bor i en annan
kommun?") or so few words of its own that it cannot stand alone ("Hur många per år?").

Swedish uses the same words for pronouns and for articles, and "det" is often a dummy subject,
so a word alone does not decide: "den 15 april", "den nya taxan", "de främsta", "finns det",
"Vem är det som…", "Vad kostar det att…" and "den som…" are not cues, while "Vem leder den?",
"Hur mäts det?", "den rollen" and "När hölls de?" are. The rules here are deliberately plain
(a word list and the neighbouring word) so that what they decide can be read and tested; a
question they miss can still be carried by the engine's second test, a weak match alone
that the earlier topic makes strong (``qa.search.conversation``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Cue", "continuation_cue", "contrasted", "words"]

_WORD = re.compile(r"[^\W_]+(?:[-:][^\W_]+)*", re.UNICODE)

#: Personal pronouns that need an antecedent (subject, object and possessive forms).
_PERSONAL = frozenset({"han", "hon", "hen", "honom", "henne", "hans", "hennes", "hens",
                       "dem", "deras", "dess"})
#: Pronouns that double as articles or as a dummy subject ("det"): decided by context.
_AMBIGUOUS = frozenset({"den", "det", "de"})
#: Demonstratives and pro-forms that always point back.
_DEMONSTRATIVE = frozenset({"denna", "detta", "dessa", "densamma", "detsamma", "desamma",
                            "sådan", "sådant", "sådana", "där", "dit", "därifrån", "därtill",
                            "därför", "då", "här", "hit"})
#: Words a follow-up starts with when it continues the previous turn.
_LEADING = frozenset({"och", "men", "eller", "samt", "än", "även", "också"})
#: Prepositions: a question that starts with one has lost its head ("För ett fritidshus?").
_PREPOSITIONS = frozenset({"om", "för", "på", "i", "till", "med", "utan", "efter", "under",
                           "inom", "från", "mot", "vid", "hos", "mellan", "bland", "kring",
                           "genom", "enligt", "bakom", "över"})
#: A question this short that starts with a preposition and a question word has no verb:
#: "Vid vilket universitet?", "Mellan vilka orter?" (not "I vilken stad ligger Motala?").
_FRAGMENT_WORDS = 3
#: Adverbs of time that, ending a question, point at the event before: "Vad hände sedan?".
_AFTERWARDS = frozenset({"sedan", "sen", "efteråt", "därefter", "senare"})
#: ... unless a span of time comes before: "för länge sedan", "för tre år sedan".
_SPANS = frozenset({"länge", "år", "månader", "månad", "veckor", "vecka", "dagar", "dag",
                    "timmar", "tid", "decennier", "sekler"})
#: Question words and short echoes: "Varför då?", "Hur så?", "Vem då?".
_QUESTION = frozenset({"vad", "vem", "vems", "vilka", "vilken", "vilket", "varför", "hur",
                       "när", "var", "vart", "varifrån"})
_ECHO = frozenset({"då", "det", "så", "inte", "sen", "sedan"})
#: Verbs after which "det" is a dummy subject ("finns det", "det finns", "går det att").
_EXISTENTIAL = frozenset({"finns", "fanns", "går", "gick", "krävs", "behövs"})
#: Verbs after which "det" is a dummy subject unless it ends the question: "Vad står det i
#: policyn?", "Hur många var det på mötet?", but "När var det?", "Vad kostar det?".
_COPULAR = frozenset({"är", "var", "blir", "blev", "står", "stod", "handlar", "handlade",
                      "händer", "hände", "tar", "tog", "kostar", "ser", "beror"})
#: Words that open a clause inside the question: a pronoun after one refers inside it ("att
#: det går bra", "när det är obemannat", "om hon bor i grannkommunen").
_SUBJUNCTIONS = frozenset({"att", "när", "om", "hur", "eftersom", "för", "som", "där",
                           "medan", "innan", "tills", "vad", "vilket", "fast", "än"})
#: Subjects that open a relative clause after "där": "gatan där jag bor".
_SUBJECTS = frozenset({"jag", "du", "man", "vi", "ni", "han", "hon", "hen", "de", "den", "det"})
#: Words after "det"/"den"/"de" that make them a dummy subject or a generic "the one who".
_NOT_BACK = frozenset({"som", "att", "finns", "fanns", "nu"})
#: A question with this many words of its own carries its context: its pronouns refer inside
#: it ("Mitt barn bor varannan vecka hos mig … – får hen skolbuss från båda hemmen?").
_SELF_CONTAINED_WORDS = 5
#: Words without content of their own: what is left counts as the question's own words.
_FUNCTION = frozenset({
    "är", "var", "vara", "varit", "blir", "blev", "bli", "har", "hade", "ha", "kan", "kunde",
    "ska", "skall", "skulle", "får", "fick", "måste", "bör", "vill", "gör", "gjorde", "göra",
    "man", "jag", "du", "vi", "ni", "mig", "dig", "oss", "er", "min", "mitt", "mina", "din",
    "ditt", "dina", "vår", "vårt", "våra", "sin", "sitt", "sina", "en", "ett", "the", "som",
    "att", "inte", "också", "även", "så", "mycket", "många", "mer", "fler", "mest", "länge",
    "långt", "ofta", "stor", "stort", "stora", "lång", "gammal", "dags", "sedan", "sen", "nu",
    "egentligen", "alltså", "just", "bara", "ju", "väl", "nog", "ens", "fortfarande", "redan",
    "per", "upp", "ut", "in", "av", "fram", "bort", "kvar", "igen", "någon", "något", "några",
} | _QUESTION | _PERSONAL | _AMBIGUOUS | _DEMONSTRATIVE | _LEADING | _PREPOSITIONS | _ECHO)
#: A question with fewer words of its own than this cannot stand alone ...
_MIN_OWN_WORDS = 2
#: ... unless its one word is a name or this long: "Vad är ett attefallshus?" asks something.
_SPECIFIC_CHARS = 10


@dataclass(frozen=True)
class Cue:
    """Why a question reads as a continuation: the kind of cue and the word that gave it."""

    kind: str  # "pronoun", "demonstrative", "leading", "echo", "ellipsis" or "short"
    word: str

    def __str__(self) -> str:
        return f"{self.kind} '{self.word}'"


def words(question: str) -> list[str]:
    """The question's words in lower case (letters and digits; "VA-taxan" stays one word)."""
    return [w.lower() for w in _WORD.findall(question)]


def _adjective_like(word: str) -> bool:
    """A weak adjective or ordinal after an article: "den *nya*", "de *främsta*", "det
    *gamla*"; a number ("den 15 april") counts too. Not exact, and meant not to be: it only
    has to tell the article from the pronoun."""
    return word[0].isdigit() or (len(word) >= 3 and word.endswith(("a", "e")))


def _ambiguous_points_back(ws: list[str], i: int) -> bool:
    """Whether "den"/"det"/"de" at ``ws[i]`` is a pronoun pointing back, not an article or a
    dummy subject."""
    word = ws[i]
    after = ws[i + 1] if i + 1 < len(ws) else None
    before = ws[i - 1] if i > 0 else None
    if word == "det" and (before in _EXISTENTIAL or "att" in ws[i + 1:]
                          or (before in _COPULAR and after is not None)):
        return False  # "finns det", "Vad kostar det att …", "Vad står det i …"
    if after is None:
        return True  # "Vem leder den?", "Hur mäts det?", "När hölls de?"
    if after in _NOT_BACK or (word == "det" and after == "med"):
        return False  # "det som", "den som", "Hur är det med …"
    if after in _FUNCTION or after in _ECHO:
        return True  # "de där", "det också", "hade de med", "följer de upp"
    if after[0].isdigit():
        return False  # "den 23 januari"
    if i <= 2 and (i == 1 or ws[0] in _QUESTION) and not _adjective_like(after):
        return True  # the subject after the verb: "Gäller det barn?", "Varför fungerar det dåligt?"
    if _adjective_like(after):
        # An article before an adjective ("den nya taxan", "i det offentliga"); "de" as the
        # subject before its verb at the end ("När börjar de studera?").
        return word == "de" and i + 2 >= len(ws)
    if word == "de":
        return True  # "de" before a word that is no adjective is the subject: "Vad gör de nu"
    # "den rollen", "det projektet": a demonstrative article before a bare definite noun.
    return after.endswith("en") if word == "den" else after.endswith("et")


def continuation_cue(question: str) -> Cue | None:
    """The first sign that ``question`` continues an earlier one, or None when it reads as
    self-contained. Model-free: it looks at the words only."""
    original = _WORD.findall(question)
    ws = [w.lower() for w in original]
    if not ws:
        return None
    if ws[0] in _LEADING:
        return Cue("leading", ws[0])
    if len(ws) == 2 and ws[0] in _QUESTION and ws[1] in _ECHO:
        return Cue("echo", " ".join(ws))
    if ws[0] in _PREPOSITIONS and len(ws) > 1 and (ws[1] not in _QUESTION
                                                   or len(ws) <= _FRAGMENT_WORDS):
        return Cue("ellipsis", ws[0])  # "Om pappan bor …?", "Vid vilket universitet?"
    if len(ws) > 2 and ws[-1] in _AFTERWARDS and not (ws[-2] in _SPANS or ws[-2].isdigit()
                                                       or ws[-2] in _PREPOSITIONS):
        return Cue("demonstrative", ws[-1])  # "Vad vill nämnden se sedan?"
    own = [o for o in original if o.lower() not in _FUNCTION]
    if len(own) < _SELF_CONTAINED_WORDS:
        found = _pointer(original, ws)
        if found is not None:
            return found
    specific = [o for o in own[:1] if len(o) >= _SPECIFIC_CHARS
                or (o[:1].isupper() and o != original[0])]
    if len(own) < _MIN_OWN_WORDS and not specific:
        return Cue("short", " ".join(own).lower() or ws[0])
    if len(ws) <= 2 and ws[0] in _QUESTION and not (own and own[0][:1].isupper()):
        # A question word and one word asks about something named before, however long the
        # word: "Vilket universitet?", "Vilken kommunfullmäktige?" (not "Vem Attefall?").
        return Cue("short", " ".join(own).lower() or ws[0])
    return None


def _pointer(original: list[str], ws: list[str]) -> Cue | None:
    """The first pronoun or demonstrative that points out of the question, if any."""
    for i, w in enumerate(ws):
        before = ws[i - 1] if i > 0 else None
        last = i == len(ws) - 1
        # A pronoun inside a clause of the question ("hur långt det är", "för att de är") or
        # in its second question ("… och vad beror det på?") refers within it.
        inside = (not last and any(x in _SUBJUNCTIONS for x in ws[1:i])) or any(
            x == "och" and ws[j + 2] in _QUESTION for j, x in enumerate(ws[1:i]))
        if w in _PERSONAL:
            # A name earlier in the same question is the antecedent: "Vad sa Mats Edman om hans …"
            if inside or any(o[:1].isupper() for o in original[1:i]):
                continue
            return Cue("pronoun", w)
        if w in _DEMONSTRATIVE:
            if w == "då" and i + 1 < len(ws) and ws[i + 1] not in _FUNCTION:
                continue  # "då" as a conjunction: "då barnet fyller sex"
            relative = w == "där" and not last and (ws[i + 1] in _SUBJECTS
                                                    or ws[i + 1] not in _FUNCTION)
            if (w == "detta" and before == "före") or relative:
                continue  # "före detta", "gatan där jag bor", "ett bråk där täljaren är …"
            return Cue("demonstrative", w)
        if w in _AMBIGUOUS and i > 0 and not inside and _ambiguous_points_back(ws, i):
            return Cue("pronoun", w)
        if w in ("göra", "gör", "gjorde") and i + 1 < len(ws) and ws[i + 1] == "så":
            return Cue("demonstrative", "så")
    return None


def _names(original: list[str]) -> set[str]:
    """The names of a question, lower-cased without a genitive "s": capitalised words after
    the first, and acronyms anywhere ("SKL:s" -> "skl", "Helsingborgs" -> "helsingborg")."""
    found = set()
    for i, o in enumerate(original):
        if (i > 0 and o[:1].isupper()) or (len(o) > 1 and o.split(":")[0].isupper()):
            found.add(_bare(o))
    return found


def _bare(name: str) -> str:
    low = name.lower().split(":")[0]
    return low[:-1] if len(low) > 3 and low.endswith("s") else low


def contrasted(question: str, topic: tuple[str, ...], cue: Cue | None) -> tuple[str, ...]:
    """The topic as a follow-up that swaps its subject reads it: after a leading "och",
    "men" or "eller", a question that brings names of its own ("Och hur gör Kronoberg?"
    after "Hur styrs Helsingborg med tillit?") asks the same of another, so the topic's
    other names are left out of it ("Hur styrs med tillit?"). Otherwise the topic as it is.
    """
    if cue is None or cue.kind != "leading":
        return topic
    own = _names(_WORD.findall(question))
    if not own:
        return topic
    out = []
    for text in topic:
        original = _WORD.findall(text)
        drop = {_bare(n) for n in _names(original)} - own
        if not drop:
            out.append(text)
            continue
        kept = [w for i, w in enumerate(original)
                if _bare(w) not in drop or not _names(original[:i + 1]) & {_bare(w)}]
        out.append(" ".join(kept) + ("?" if text.rstrip().endswith("?") else ""))
    return tuple(out)
