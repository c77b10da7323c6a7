"""Eval: test sets, IR data sets, metrics and reports, run through the serving engine.

In: span-labelled questions or a standard benchmark. Out: metrics and reports.
"""
