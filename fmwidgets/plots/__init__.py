"""Pure plotting functions: numpy / pandas / result dataclasses in, plotly Figures out."""
