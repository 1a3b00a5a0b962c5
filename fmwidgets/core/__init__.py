"""Headless core: torch, transformers, datasets, peft. Never imports IPython, ipywidgets or plotly.

One folder per capability, so a feature is found by its name:

    models/         loading, the registry of loaded models, environment and repro script
    prompting/      generate, templates, generate_df, compare, chat, token_probs, fill_mask, prompt versions
    training/       finetune, its data checks, metrics, export script, training monitor
    embedding/      embed, project (PCA/UMAP/t-SNE), clip, zero-shot label
    retrieval/      vector index over LanceDB, rag, retrieval evaluation
    evaluation/     evaluate, evaluators, judge, compare_evaluations, evaluation data
    inside/         attention, logit lens
    speech.py       transcribe (Whisper-style models)
    vision.py       classify_images
    *.py            shared checks and inputs: arguments, data, images, tokens, seeding, targets
"""
