"""Swedish semantic question answering: documents in, cited passages out."""

__version__ = "0.1.0"
