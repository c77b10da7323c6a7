"""Evaluation: how well the serving engine retrieves, measured through that very engine.

What flows in and out, module by module:

* ``testset``: a span-labelled JSONL test set (``testsets/seeds_sv.jsonl`` is
  bundled) and the indexed document texts in; ``EvalQuery`` items out, each
  answer a character span of a document (or none, for unanswerable questions).
* ``datasets``: a standard IR data set (SweFAQ, or BEIR's corpus/queries/qrels)
  in; its documents, its queries (whole-document targets) and an engine over its
  own index out (built with ``qa.index`` and cached, or the one given).
* ``runner``: an engine, queries, modes and a rank depth in; an ``Evaluation``
  out: what each mode returned for each question, the engine's timings, and the
  metrics of each mode overall and per split.
* ``metrics``: rankings and relevance in; Hit@k, Recall@k, MRR@k and nDCG@k out
  (by ``ir_measures``), and ``check_gate``, the quality gate the tests apply.
* ``stats``: the percentile used for latency figures here and in ``bench/``.
* ``report``: an ``Evaluation`` and the engine's ``health()``/``manifest`` in;
  ``report.json``, ``report.md`` and two PNG plots out.
"""
