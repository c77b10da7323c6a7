"""Adapting the embedding model to one collection (``qa adapt``): mined pairs, fine-tuning,
a paired check against the base, and publishing only what the check adopts."""
