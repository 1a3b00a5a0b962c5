"""The log-probability judge against the parse judge with the same model, in one run.

Run:  .venv/bin/python bench/bench_judge.py [--model PATH_OR_ID] [--device cpu|cuda] [--rows 200]

- time to judge N rows with ``fm.judge(method="logprobs")`` (one batched forward pass per row)
  vs ``fm.judge(method="parse")`` (a greedy reply of up to 8 tokens, parsed): target <= 1.1x;
- NaN scores on the fixed test strings of tests/ (the outputs the evaluator and judge tests grade,
  and the tiny models' corpus): target 0 for the log-prob judge, against the parse judge's count.
Each timed run gets a fresh store, so the parse judge's generation cache never answers for it.
Without --model a 4-layer, 256-wide GPT-2-shaped decoder is built offline (fmwidgets.testing).
"""

from __future__ import annotations

import argparse
import ast
import os
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
TESTS = Path(__file__).resolve().parents[1] / "tests" / "core" / "evaluation"


def fixed_strings() -> list[str]:
    """The string outputs the evaluator and judge tests grade (read from their source), and CORPUS."""
    from fmwidgets.testing import CORPUS

    found = []
    for name, variable in (("test_evaluate_evaluators.py", "OUT"), ("test_judge.py", "OUTPUTS")):
        tree = ast.parse((TESTS / name).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == variable for t in node.targets):
                found += [v for v in ast.literal_eval(node.value) if isinstance(v, str)]
    return found + list(CORPUS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()

    import pandas as pd
    from _decoder_bench import interleaved_medians

    import fmwidgets as fm
    from fmwidgets import testing
    from fmwidgets.config import settings

    warnings.simplefilter("ignore")
    folder = tempfile.mkdtemp(prefix="fm-bench-judge-")
    path = opts.model or str(
        testing.tiny_gpt2(os.path.join(folder, "model"), layers=4, heads=4, hidden=256, context=1024)
    )
    handle = fm.load(path, as_="bench-judge", device=opts.device)
    words = testing.CORPUS
    rows = pd.DataFrame(
        {
            "question": [f"what about {words[i % len(words)].split()[i % 5]}?" for i in range(opts.rows)],
            "answer": [" ".join(words[(i * 7) % len(words)].split()[: 3 + i % 9]) for i in range(opts.rows)],
        }
    )
    runs = {"n": 0}

    def judged(method: str, data=rows):
        runs["n"] += 1
        settings().store_path = os.path.join(folder, f"store-{runs['n']}.sqlite")  # no cache hits
        judge = fm.judge(model="bench-judge", method=method)
        return fm.evaluate(data, "Question: {question}", output="answer", evaluators=[judge], progress=False)

    judged("logprobs"), judged("parse")  # warm-up
    med = interleaved_medians(
        {"parse": lambda: judged("parse"), "logprobs": lambda: judged("logprobs")},
        opts.repeat,
        cuda=handle.device.startswith("cuda"),
    )
    strings = pd.DataFrame({"question": ["grade this"] * len(fixed_strings()), "answer": fixed_strings()})
    nan = {m: int(judged(m, strings).table["judge"].isna().sum()) for m in ("logprobs", "parse")}

    ratio = med["logprobs"] / med["parse"]
    print(f"model {handle.model_id} on {handle.device}, {opts.rows} rows, median of {opts.repeat}")
    print(f"parse judge      {med['parse']:.3f} s")
    print(
        f"log-prob judge   {med['logprobs']:.3f} s   ratio {ratio:.2f}x (target <= 1.1x)  "
        f"{'OK' if ratio <= 1.1 else 'MISSED'}"
    )
    print(
        f"NaN on {len(strings)} fixed test strings: log-prob {nan['logprobs']} (target 0) vs parse "
        f"{nan['parse']}  {'OK' if nan['logprobs'] == 0 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
