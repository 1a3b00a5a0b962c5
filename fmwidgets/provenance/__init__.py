"""What a session did and how to do it again: the history of its calls, the replay script, its
re-run and the comparison of what came back.

- history.py: one ``Entry`` per user-level call (``@recorded``, ``recording``), ``fm.history()``;
  ``literal_code`` / ``call_code``, the only way a recorded value is written into a script
- outcome.py: what a result is (texts, numbers, arrays), for telling whether a re-run matched
- script.py: ``Repro``, the session as a script or notebook, models and seeds pinned
- verify.py: ``fm.repro()`` and ``verify=True``, the re-run in a fresh session
- api_calls.py: whether that re-run may send requests to API-served models (``call_api=True``)
  and what each step sent or took from the generation cache

It sits below core, whose public functions record themselves here; what it needs of the layers
above comes in as values: each entry keeps the callable that ran it (``Entry.rerun``, for a magic
the ``%fm`` runner) and the model registry hands itself over (``history.track``).  What produced
one result is its ``RunRecord`` (records.py), which every layer carries.
"""
