"""Embed: the model, prepared offline, and the encoders that turn text into vectors.

In: texts (questions, passages, sentences). Out: L2-normalised float32 vectors of the configured
sentence-transformers model, with its prompts.
"""
