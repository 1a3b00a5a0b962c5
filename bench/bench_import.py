"""Cold import cost: `import fmwidgets` + `%load_ext fmwidgets` vs `import transformers` / `import torch`.

Each measurement runs in a fresh interpreter (cold module state; the OS file cache is warm for
both sides alike), alternating the cases, and the medians are compared.  Target: fmwidgets
costs <= 0.25x of `import transformers` (ANCHORS.md).

    .venv/bin/python bench/bench_import.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CASES = {
    "python (empty)": "pass",
    "import fmwidgets + %load_ext": (
        "import fmwidgets\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().extension_manager.load_extension('fmwidgets')"
    ),
    "IPython shell alone": (
        "from IPython.core.interactiveshell import InteractiveShell\nInteractiveShell.instance()"
    ),
    "import transformers": "import transformers",
    "import torch": "import torch",
}


def timed(code: str) -> float:
    probe = f"import time\n_t = time.perf_counter()\n{code}\nprint(time.perf_counter() - _t)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, code in CASES.items():
            samples[name].append(timed(code))
    med = {name: statistics.median(v) for name, v in samples.items()}
    for name, value in med.items():
        print(f"{name:<32} median {value * 1000:8.1f} ms over {runs} runs")
    fm_cost = med["import fmwidgets + %load_ext"]
    fm_own = fm_cost - med["IPython shell alone"]
    print(f"ratio fmwidgets+load_ext / transformers: {fm_cost / med['import transformers']:.3f}  (target <= 0.25)")
    print(f"ratio fmwidgets+load_ext / torch:        {fm_cost / med['import torch']:.3f}")
    print(f"fmwidgets' own share beyond an IPython shell: {fm_own * 1000:.1f} ms "
          f"({fm_own / med['import transformers']:.3f}x transformers)")


if __name__ == "__main__":
    main()
