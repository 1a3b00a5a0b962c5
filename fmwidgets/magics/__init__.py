"""The `%fm` / `%%fm` magics: a thin grammar over the public API (see parser.py)."""

# Modules that declare subcommands with @command; each feature area adds its own.
COMMAND_MODULES = [
    "models",
    "repro",
    "prompts",
    "finetune",
    "inside",
    "embeddings",
    "evaluate",
    "chat",
    "retrieval",
    "label",
    "speech",
]
