"""Retrieval over a DataFrame: an embedded vector index (``index.py``), answers grounded in it
(``rag.py``) and how well it finds what it should (``evaluate.py``)."""
