"""Embedding maps: fm.plot_embeddings against plotly express at 10k / 100k (/ 1M) points.

Run:  .venv/bin/python bench/bench_scatter.py [--repeat 3] [--million]

For each size, both draw the same 2-D float32 points coloured by a 4-value label, as WebGL:
plotly express from a DataFrame (``px.scatter(..., render_mode="webgl")``, the usual way) and
fm.plot_embeddings from the arrays.  Printed: median build time and the ratio fm / px (below 1
is faster), and bytes per point of the figure as the notebook stores it (the plotly mimebundle
JSON; the anchor is ~11 bytes per 2-D point for float32 base64) and as ``fig.to_json()`` writes
it (HTML-safe, which escapes every "/" of the base64 as \\u002f).  --million adds 1M points,
where fm.plot_embeddings still draws every point (its max_points default is 1M).

A second table draws the same points with hover text (one 3-14 word text per point, ~50
characters): bytes per point, build time and peak memory of one build (tracemalloc), with the
number of points that kept per-point text.  Up to HOVER_POINTS shown points every point carries
its text (~57 bytes a point); past it the map carries none and stays at the ~11 bytes of the
coordinates.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc


def median_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def notebook_bytes(fig) -> int:
    """Size of the figure JSON in the notebook's plotly mimebundle (what the browser receives)."""
    return len(json.dumps(fig.to_plotly_json(), cls=_encoder(), separators=(",", ":")))


def _encoder():
    from _plotly_utils.utils import PlotlyJSONEncoder

    return PlotlyJSONEncoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--million", action="store_true", help="also measure 1,000,000 points")
    opts = parser.parse_args()

    import numpy as np
    import pandas as pd
    import plotly.express as px

    import fmwidgets as fm

    sizes = [10_000, 100_000] + ([1_000_000] if opts.million else [])
    print(f"{'points':>9} | {'px build s':>10} {'fm build s':>10} {'fm/px':>6} | "
          f"{'px B/pt':>7} {'fm B/pt':>7} | {'px to_json B/pt':>15} {'fm to_json B/pt':>15}")
    for n in sizes:
        rng = np.random.default_rng(0)
        points = rng.normal(size=(n, 2)).astype(np.float32)
        label = rng.choice(["a", "b", "c", "d"], size=n)
        df = pd.DataFrame({"x": points[:, 0], "y": points[:, 1], "label": label})
        fm.plot_embeddings(points[:100], color=label[:100])  # warm-up imports and validators
        px.scatter(df.head(100), x="x", y="y", color="label", render_mode="webgl")
        t_px, fig_px = median_time(
            lambda df=df: px.scatter(df, x="x", y="y", color="label", render_mode="webgl"), opts.repeat)
        t_fm, fig_fm = median_time(lambda points=points, label=label: fm.plot_embeddings(points, color=label), opts.repeat)
        assert {type(t).__name__ for t in fig_fm.data} == {"Scattergl"}
        print(f"{n:>9,} | {t_px:>10.3f} {t_fm:>10.3f} {t_fm / t_px:>6.2f} | "
              f"{notebook_bytes(fig_px) / n:>7.2f} {notebook_bytes(fig_fm) / n:>7.2f} | "
              f"{len(fig_px.to_json()) / n:>15.2f} {len(fig_fm.to_json()) / n:>15.2f}")
    hover_table(sizes, opts.repeat)


def hover_table(sizes: list[int], repeat: int) -> None:
    """fm.plot_embeddings with hover text: bytes per point, build time, peak memory of a build."""
    import numpy as np

    import fmwidgets as fm
    from fmwidgets.plots.embedding import HOVER_POINTS

    words = np.array("the a model data review great bad movie film plot actor scene long short text".split())
    print(f"\nwith hover text (per-point text up to HOVER_POINTS = {HOVER_POINTS:,} shown points)")
    print(f"{'points':>9} | {'build s':>8} {'B/pt':>6} {'MB':>6} {'peak MB':>8} {'points with text':>16}")
    for n in sizes:
        rng = np.random.default_rng(0)
        points = rng.normal(size=(n, 2)).astype(np.float32)
        hover = [" ".join(words[rng.integers(0, len(words), size=k)]) for k in rng.integers(3, 15, size=n)]
        t, fig = median_time(lambda points=points, hover=hover: fm.plot_embeddings(points, hover=hover), repeat)
        tracemalloc.start()
        size = notebook_bytes(fm.plot_embeddings(points, hover=hover))  # build and serialise, traced
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        with_text = sum(len(tr.text) for tr in fig.data if tr.text is not None)
        print(f"{n:>9,} | {t:>8.3f} {size / n:>6.2f} {size / 1e6:>6.1f} {peak:>8.0f} {with_text:>16,}")


if __name__ == "__main__":
    main()
