"""Index: documents and their vectors, published as generations of an index directory.

In: documents (``qa.ingest``) and an encoder (``plan.PassageEncoder``). ``build.build_index``
plans the passages, embeds what is new, writes a generation (SQLite passage store, FAISS
vectors, BM25) and publishes it atomically under a build lock (``generations``). Out: the
published generation, opened read-only as a ``snapshot.Snapshot`` with its typed
``manifest.Manifest``.
"""
