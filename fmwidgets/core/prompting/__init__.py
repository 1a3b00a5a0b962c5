"""Prompting: generate, templates, generate_df, compare, chat, token scoring and probabilities, fill-mask, prompt versions."""
