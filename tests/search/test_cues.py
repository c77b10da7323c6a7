"""The continuation detector (``qa.search.cues``) and the topic chain: model-free.

What it must tell apart is Swedish: the same words are pronouns and articles ("den nya
taxan" / "Vem leder den?"), "det" is often a dummy subject ("finns det", "Vad kostar det
att …"), and a pronoun in a long question usually refers inside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.search.conversation import topic_of
from qa.search.cues import continuation_cue

TESTSETS = Path(__file__).resolve().parents[2] / "qa" / "eval" / "testsets"

FOLLOW_UPS = [
    ("Vilket parti tillhör han?", "pronoun", "han"),
    ("Vad tycker hon att styrningen ska bygga på?", "pronoun", "hon"),
    ("Hur ska kommuner och myndigheter samarbeta enligt honom?", "pronoun", "honom"),
    ("Vilken roll har deras ordförande?", "pronoun", "deras"),
    ("När hölls de?", "pronoun", "de"),
    ("Vem leder den?", "pronoun", "den"),
    ("Hur mäts det?", "pronoun", "det"),
    ("När var det?", "pronoun", "det"),
    ("Vad kostar det?", "pronoun", "det"),
    ("Gäller det barn också?", "pronoun", "det"),
    ("Varför fungerar det dåligt för samverkan?", "pronoun", "det"),
    ("När börjar de studera?", "pronoun", "de"),
    ("Hur ofta följer de upp ekonomin?", "pronoun", "de"),
    ("Hur förändras den rollen?", "pronoun", "den"),
    ("Vad kostade detta projekt?", "demonstrative", "detta"),
    ("Vilka av dessa kommuner deltog?", "demonstrative", "dessa"),
    ("Vad kan man lämna där?", "demonstrative", "där"),
    ("Vad kostar det att stå där en hel dag?", "demonstrative", "där"),
    ("Vad hände med återrapporteringen då?", "demonstrative", "då"),
    ("Hur kommer man dit?", "demonstrative", "dit"),
    ("Får man göra så mitt i en mandatperiod?", "demonstrative", "så"),
    ("Och hur gör Motala?", "leading", "och"),
    ("och på sommaren?", "leading", "och"),
    ("Men vad kostar det för ett fritidshus?", "leading", "men"),
    ("Varför då?", "echo", "varför då"),
    ("varför det?", "echo", "varför det"),
    ("Hur så?", "echo", "hur så"),
    ("Om pappan bor i en annan kommun?", "ellipsis", "om"),
    ("För ett fritidshus?", "ellipsis", "för"),
    ("Vid vilket universitet?", "ellipsis", "vid"),
    ("Mellan vilka orter?", "ellipsis", "mellan"),
    ("Vad vill nämnden se sedan?", "demonstrative", "sedan"),
    ("Vad hände sen?", "demonstrative", "sen"),
    ("Hur många per år?", "short", "år"),
    ("Hur långt i förväg?", "short", "förväg"),
    ("Vilket universitet?", "short", "universitet"),
    ("Varför är man missnöjd?", "short", "missnöjd"),
]

SELF_CONTAINED = [
    "Vem är ordförande för regionstyrelsen i Region Kronoberg?",
    "Hur många länsstyrelser finns det?",                      # dummy "det" after "finns"
    "I vilken stad ligger Motala kommun?",                     # a preposition, then a verb
    "Vilken kyrka byggdes för länge sedan?",                   # "sedan" after a span of time
    "Vem var kommunchef för tio år sedan?",
    "Hur många länsstyrelser finns det i Sverige?",
    "Vad kostar det att pendlarparkera en hel dag?",            # "det … att"
    "Hur lång tid tar det att få bygglov?",
    "Vem är det som kontrollerar parkerade bilar?",             # cleft "det som"
    "Vad innebär det att flytta om kompetens?",
    "Vad står det i Helsingborgs nya policy för medarbetare och ledare?",
    "Hur är det med skolskjuts på sommarlovet?",
    "När ägde Regiondagarna rum den 23 januari?",              # "den" before a date
    "Vad är den regionala utvecklingsstrategin?",              # article before an adjective
    "Vilka är de främsta förtroendevalda i Kronoberg?",
    "Hur många år har bloggaren jobbat i det offentliga?",
    "Vilken termin börjar de nya förskollärarstudenterna i Vimmerby?",
    "Vilken före detta stadsdirektör föreläste om ledarskap?",  # "före detta"
    "Under vilka år ökade produktiviteten i Kronoberg?",        # preposition + question word
    "I vilken stad diskuterades räddningstjänsten?",
    "Hur mäter man hur långt det är hemifrån till skolan?",     # pronoun inside a clause
    "Kan man gå in på biblioteket när det är obemannat?",
    "Får man skolbuss från mammas adress om hon bor i grannkommunen?",
    "Hur mycket höjs VA-taxan och vad beror det på?",           # second question of the same
    "Vilka villkor gäller för att ställa bilen på gatan där jag bor?",
    "Hur skriver man ett bråk där täljaren är en summa?",
    "Mitt barn bor varannan vecka hos mig och varannan hos sin pappa – får hen skolbuss från "
    "båda hemmen?",                                             # long: refers inside
    "Vad sa Mats Edman om hans tidning?",                       # the name is the antecedent
    "Vad är ett attefallshus?",                                 # one word, but a specific one
    "Helsingborgs vision",
    "kommunalskatt 2026",
    "Hur har det gått för Kronobergs ekonomi de senaste åren?",
]


@pytest.mark.parametrize(("question", "kind", "word"), FOLLOW_UPS)
def test_a_follow_up_has_its_cue(question: str, kind: str, word: str) -> None:
    cue = continuation_cue(question)
    assert cue is not None, question
    assert (cue.kind, cue.word) == (kind, word)
    assert str(cue) == f"{kind} '{word}'"


@pytest.mark.parametrize("question", SELF_CONTAINED)
def test_a_self_contained_question_has_none(question: str) -> None:
    assert continuation_cue(question) is None


def test_nothing_to_read_has_no_cue() -> None:
    assert continuation_cue("") is None
    assert continuation_cue("?!") is None


def _lines(name: str) -> list[dict]:
    return [json.loads(line) for line in (TESTSETS / name).read_text(encoding="utf-8").splitlines()]


def test_the_conversation_sets_agree_with_the_detector() -> None:
    """Every first question and topic change reads as self-contained, every follow-up with a
    labelled cue has one; those labelled ``weak`` are left to the engine's weakness test."""
    for name in ("followups_seeds_sv.jsonl", "followups_kommun_sv.jsonl"):
        for r in _lines(name):
            assert continuation_cue(r["first"]) is None, (r["id"], r["first"])
            cue = continuation_cue(r["question"])
            if r["kind"] != "followup":
                assert cue is None, (r["id"], r["question"], cue)
            elif r["cue"] != "weak":
                assert cue is not None, (r["id"], r["question"])


def test_most_ordinary_test_questions_read_as_self_contained() -> None:
    """The single-question test sets were written as self-contained questions: the detector
    may find a cue in very few of them."""
    questions = [r["question"] for name in ("seeds_sv.jsonl", "kommun_sv.jsonl")
                 for r in _lines(name)]
    cued = [q for q in questions if continuation_cue(q) is not None]
    assert len(cued) <= len(questions) // 50, cued


def test_the_topic_carries_back_through_a_chain_of_follow_ups() -> None:
    first = "Vem är ordförande för regionstyrelsen i Region Kronoberg?"
    assert topic_of([]) == ()
    assert topic_of([first]) == (first,)
    assert topic_of([first, "Vilket parti tillhör han?"]) == (first, "Vilket parti tillhör han?")
    # A self-contained question in between starts a new topic: the older one is not carried.
    other = "Hur många länsstyrelser finns det?"
    assert topic_of([first, other]) == (other,)
    # At most three questions are carried, however long the chain.
    chain = [first, "Och hans parti?", "Och när valdes han?", "Varför då?", "Och sedan?"]
    assert topic_of(chain) == tuple(chain[-3:])
