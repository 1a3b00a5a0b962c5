"""Embeddings: texts and images to vectors, projections, CLIP similarity, zero-shot labels."""
