"""The `%fm` / `%%fm` magics: a thin grammar over the public API (see parser.py).

Each module of this package declares its subcommands with ``@command``; ``magics.load_commands``
imports them all, so a new feature area is a new module here and nothing else.
"""
