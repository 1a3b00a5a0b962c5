"""Interactive views (ipywidgets / anywidget): wiring over core/ and plots/, no logic of their own."""
