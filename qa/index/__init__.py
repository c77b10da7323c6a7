"""Index: documents and their vectors written as one published generation, opened read-only.

In: documents and an encoder. Out: an index directory (FAISS vectors, SQLite passage store, BM25),
published atomically, and read-only snapshots of it for searching.
"""
