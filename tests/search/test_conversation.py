"""Reading a question in its conversation (``qa.search.conversation``) over the seeds.

A self-contained question the collection does not answer is not dragged onto the earlier
topic: it needs the positive evidence of its own words in the passage it would be answered
from, which a passage on something else lacks however similar its vector looks.
"""

from __future__ import annotations

import numpy as np

TRUST = "Vad är tillitsbaserad styrning?"
PARKING = "Hur söker jag parkeringstillstånd för rörelsehindrade?"


def test_an_unanswered_self_contained_question_is_a_new_topic_not_the_earlier_one(engine):
    alone = engine.search(PARKING, k=5)
    read = engine.search(PARKING, k=5, history=[TRUST])
    assert read.reading is not None
    assert read.reading.carried == () and read.reading.reason == "new topic"
    assert read.reading.read_as == PARKING
    assert [h.passage.id for h in read.hits] == [h.passage.id for h in alone.hits]
    assert read.no_good_match == alone.no_good_match


def test_own_words_held_counts_the_question_s_words_the_topic_does_not_bring(hashed_engine):
    followups = hashed_engine.followups
    passages = hashed_engine.passages
    row = next(i for i, p in enumerate(passages) if "leancoacher" in p.text)
    assert followups.own_words_held("Hur många leancoacher finns?", "", row) == 1.0
    # The topic's words are not the question's own: nothing is left, nothing is missing.
    assert followups.own_words_held("Vilka leancoacher?", "leancoacher", row) == 1.0
    # A word no passage uses is never held; a word of another passage is not held here.
    assert followups.own_words_held("Hur söker man parkeringstillstånd?", "", row) == 0.0
    other = next(i for i, p in enumerate(passages) if "leancoacher" not in p.text
                 and "Helsingborg" in p.text)
    assert followups.own_words_held("Hur många leancoacher finns?", "", other) == 0.0
    assert np.isclose(followups.own_words_held("leancoacher parkeringstillstånd", "", row), 0.5)
