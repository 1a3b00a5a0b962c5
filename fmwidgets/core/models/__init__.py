"""Models: loading (hub ids, local folders, the embedded encoder), the session registry, the environment."""
