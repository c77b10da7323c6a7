"""Ingest: sources → documents → passages with exact offsets.

In: a folder of files or a JSONL file. Out: ``Document`` objects (text kept exactly as read, with
title, date and sections) and ``Passage`` objects whose ``[start, end)`` index that text.
"""
