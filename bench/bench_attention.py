"""Attention: fm.attention against a raw output_attentions call, and bytes sent to the browser.

Run:  .venv/bin/python bench/bench_attention.py [--repeat 5]

1. Time, on the embedded all-MiniLM-L6-v2 at 512 tokens: tokenize + forward with
   output_attentions + serialise one layer as float16 (what a view sends), done by fm.attention
   versus plain transformers.  Target ratio <= 1.2.  Medians of --repeat runs, interleaved.
2. Layer switch in the head view at 512 tokens (kernel side: layer request -> float16 bytes on
   the widget's comm).  Target < 1 s.
3. Bytes per view update at 32/128/512 tokens: one float16 layer against the full float32
   tensor and against the full tensor as JSON lists (what bertviz sends; estimated from one
   layer's JSON times the number of layers).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()

    import torch

    import fmwidgets as fm
    from fmwidgets.widgets.attention import AttentionView

    warnings.simplefilter("ignore")
    handle = fm.load()
    tok, net = handle.tokenizer, handle.model
    text = " ".join(f"word{i % 97} and more text" for i in range(400))  # well over 512 tokens

    def raw():
        enc = tok(text, truncation=True, max_length=512, return_tensors="pt")
        with torch.no_grad():
            out = net(**enc, output_attentions=True)
        return out.attentions[0][0].numpy().astype("<f2").tobytes()

    def ours():
        return fm.attention(text).layer_float16(0)

    assert raw() == ours()  # same tokens, same weights, same bytes
    raw_t, ours_t = [], []
    for _ in range(opts.repeat):  # interleave so that machine noise hits both alike
        raw_t.append(median_time(raw, 1))
        ours_t.append(median_time(ours, 1))
    r, o = statistics.median(raw_t), statistics.median(ours_t)
    print(f"[time] 512 tokens, MiniLM: raw output_attentions {r * 1e3:.1f} ms, fm.attention {o * 1e3:.1f} ms, "
          f"ratio {o / r:.3f} (target <= 1.2)")

    result = fm.attention(text)
    view = AttentionView(result, view="head")
    layers = iter(list(range(1, result.n_layers)) * opts.repeat)
    switch = median_time(lambda: setattr(view, "layer", next(layers)), opts.repeat)
    print(f"[switch] head view layer change at {len(result)} tokens: {switch * 1e3:.1f} ms on the kernel side "
          f"(target < 1000 ms), {len(view.layer_data) / 1e6:.2f} MB float16 sent")

    print("[bytes] tokens | one layer float16 | full float32 tensor | full tensor as JSON (est.) | "
          "ratio f16/f32 | ratio f16/JSON")
    for n in (32, 128, 512):
        res = fm.attention(" ".join(["cat"] * (n - 2)))  # [CLS] + n-2 x "cat" + [SEP]
        layer = res.layer_float16(0)
        t = len(res)
        full32 = res.weights.nbytes
        json_one = len(json.dumps(res.weights[0].tolist()))
        full_json = json_one * res.n_layers
        print(f"[bytes] {t:6d} | {len(layer):>12,} | {full32:>14,} | {full_json:>16,} | "
              f"{len(layer) / full32:.4f} | {len(layer) / full_json:.4f}")
    heads12 = 12 * 12 * 512 * 512
    print(f"[bytes] reference 12x12 heads at 512 tokens: float32 {heads12 * 4 / 1e6:.0f} MB, "
          f"one float16 layer {12 * 512 * 512 * 2 / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
