"""Headless core: torch, transformers, datasets, peft. Never imports IPython, ipywidgets or plotly."""
