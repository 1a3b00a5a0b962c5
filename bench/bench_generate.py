"""Generation: fm.generate against plain model.generate on the same model, greedy, 64 new tokens.

Run:  .venv/bin/python bench/bench_generate.py [--model PATH_OR_ID] [--device cpu|cuda] [--repeat 7]

Without --model a GPT-2-small-shaped decoder with random weights is built offline (see
_decoder_bench.py); with network, ``--model gpt2`` uses the real one.  Three ways, interleaved, medians of --repeat runs (each: tokenize, generate,
decode):

  plain      tokenizer + model.generate(do_sample=False) + decode        (the baseline)
  fm         fm.generate(greedy=True, stream=False)                        target ratio <= 1.05
  fm-stream  fm.generate(stream=True) inside an IPython shell, display      target ratio <= 1.15
             updated every FM.stream_interval seconds (0.1 s)

All three must produce the same tokens (checked).  ``min_new_tokens=64`` keeps a random-weight
model from stopping early at an end-of-text token, on every side alike.  Prints tokens/s too.
"""

from __future__ import annotations

import argparse
import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NEW = 64
PROMPT = "the quick brown fox jumps over the lazy dog and the cat sat on the mat while"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="hub id or folder (default: a GPT-2-small-shaped local model)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeat", type=int, default=7)
    opts = parser.parse_args()

    import torch
    from _decoder_bench import interleaved_medians, load_decoder
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    import fmwidgets as fm

    warnings.simplefilter("ignore")
    handle = load_decoder(opts.model, opts.device)
    tok, net = handle.tokenizer, handle.model
    InteractiveShell.instance()  # the streaming path displays into a real IPython shell

    def plain():
        enc = tok(PROMPT, return_tensors="pt").to(net.device)
        with torch.inference_mode():
            out = net.generate(**enc, max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False,
                               pad_token_id=tok.pad_token_id)
        ids = out[0, enc["input_ids"].shape[1]:].tolist()
        tok.decode(ids, skip_special_tokens=True)
        return ids

    def ours():
        return fm.generate(PROMPT, max_new_tokens=NEW, min_new_tokens=NEW, greedy=True, stream=False).token_ids

    def streamed():
        with capture_output() as captured:
            gen = fm.generate(PROMPT, max_new_tokens=NEW, min_new_tokens=NEW, greedy=True, stream=True)
        streamed.updates = len(captured.outputs)
        return gen.token_ids

    ways = {"plain": plain, "fm": ours, "fm-stream": streamed}
    reference = plain()
    for name, fn in ways.items():  # warm-up, and the same tokens everywhere
        assert fn() == reference and len(reference) == NEW, f"{name} gave other tokens"
    med = interleaved_medians(ways, opts.repeat, cuda=net.device.type == "cuda")
    print(f"model {handle.model_id} on {handle.device} ({handle.card()['params'] / 1e6:.0f}M params), "
          f"greedy, {NEW} new tokens, median of {opts.repeat}")
    for name in ways:
        ratio = med[name] / med["plain"]
        target = {"fm": " (target <= 1.05)", "fm-stream": " (target <= 1.15)"}.get(name, "")
        print(f"  {name:<10} {med[name] * 1000:8.1f} ms  {NEW / med[name]:7.1f} tokens/s  ratio {ratio:.3f}{target}")
    print(f"  display updates per streamed run: {streamed.updates} "
          f"(stream_interval {fm.settings().stream_interval} s)")


if __name__ == "__main__":
    main()
