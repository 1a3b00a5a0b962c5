"""Inside a model: attention weights and the logit lens."""
