"""Evaluation: run prompts or models over a dataset, score, store, compare, review.

- ``data.py``: DataFrame / datasets.Dataset / file / hub id -> a DataFrame and a fingerprint
- ``evaluators.py``: named metrics (sacrebleu, rouge-score, jiwer, scikit-learn), callables
- ``judge.py``: a decoder as judge, with parse failures kept visible
- ``generation.py``: cached generation through generate_df's batched loop
- ``run.py``: ``run_evaluation`` (``fm.evaluate`` minus its progress bar), ``Evaluation``, the summary,
  storing and loading runs
- ``compare.py``: ``compare_evaluations``, row by row before/after
"""
