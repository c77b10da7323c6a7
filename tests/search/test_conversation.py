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


def test_the_earlier_answer_s_document_is_preferred_unless_the_question_swaps_names(
        hashed_engine):
    """The document bonus goes to the passages of the document that answered the topic; a
    question that swaps the topic's names for its own ("Och hur gör Motala?") gets none."""
    followups = hashed_engine.followups
    passages = hashed_engine.passages
    anchor = next(i for i, p in enumerate(passages) if "Helsingborg" in p.text)
    home = passages[anchor].document_id
    qvec = hashed_engine.questions.embed("Och hur gör Motala?")
    args = ("Och hur gör Motala?", "Hur styrs med tillit?", qvec, anchor, "hybrid", 10, None)
    read = dict(followups._rank(*args))
    swapped = dict(followups._rank(*args, swapped=True))
    bonus = followups.settings.followup_document_bonus + followups.settings.followup_section_bonus
    assert bonus > 0 and read.keys() == swapped.keys()
    for row, score in read.items():
        in_home = passages[row].document_id == home
        same_section = in_home and passages[row].section == passages[anchor].section
        expected = (followups.settings.followup_document_bonus * in_home
                    + followups.settings.followup_section_bonus * same_section)
        assert np.isclose(score - swapped[row], expected), row
    assert any(passages[r].document_id == home for r in read)


def test_the_earlier_answer_joins_the_topic_unless_the_follow_up_points_elsewhere(
        hashed_engine):
    """The topic's vector takes in the passage that answered it, which brings a bare "Hur många
    var de?" back to it; not when the follow-up's own word ("ledarpolicy") is held by another
    passage of that document and not by the answer."""
    followups = hashed_engine.followups
    passages = hashed_engine.passages
    embeddings = hashed_engine.index.embeddings
    topic = "Vilka tre ord har varit ledande för Helsingborg?"
    anchor = next(i for i, p in enumerate(passages) if "Tre ord har varit ledande" in p.text)
    topic_vec = hashed_engine.questions.embed(topic)
    assert followups.settings.followup_answer_weight > 0
    bare = followups._with_answer("Hur många var de?", topic, topic_vec, anchor)
    assert not np.allclose(bare, topic_vec) and np.isclose(np.linalg.norm(bare), 1.0)
    assert float(bare @ embeddings[anchor]) > float(topic_vec @ embeddings[anchor])
    elsewhere = followups._with_answer("Vad står det i deras ledarpolicy?", topic, topic_vec,
                                       anchor)
    assert np.array_equal(elsewhere, topic_vec)
    assert np.array_equal(followups._with_answer("Hur gick det?", topic, topic_vec, None),
                          topic_vec)
