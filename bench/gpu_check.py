"""CUDA check: device placement, dtypes and speed of fmwidgets on a GPU.

Run it on a machine with a CUDA GPU (it exits at once without one):

    python bench/gpu_check.py

Models are built from configs (fmwidgets.testing) with random weights: GPT-2-small and
BERT-base shapes for speed, tiny ones for mechanics, so nothing is downloaded.  Each check
prints PASS/FAIL; speed is printed as ratios against the plain transformers call (or
sentence-transformers / a hand-written Trainer) measured in the same run, medians of several.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

import fmwidgets as fm
from fmwidgets import testing

FAILED: list[str] = []
# `--cpu` runs the same script on the CPU (a dry run of the script itself, no speed claims).
DEV = "cpu" if "--cpu" in sys.argv else "cuda"


def sync() -> None:
    if DEV == "cuda":
        torch.cuda.synchronize()


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}", flush=True)
    if not ok:
        FAILED.append(name)


def median_time(fn, runs: int = 5) -> float:
    runs = runs if DEV == "cuda" else 1
    fn()  # warm-up
    times = []
    for _ in range(runs):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def loading(root: Path) -> None:
    g = fm.load(str(testing.tiny_gpt2(root / "g")), as_="g")
    on_dev = all(p.device.type == DEV for p in g.model.parameters())
    check(f"auto device is {DEV}", g.device == DEV and on_dev, f"handle={g.device}")
    check("auto dtype keeps a float32 checkpoint float32", g.dtype == "float32")
    half = testing.tiny_gpt2(root / "h")
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(half, dtype=torch.float16).save_pretrained(half)
    h = fm.load(str(half), as_="h")
    want = "float16" if DEV == "cuda" else "float32"
    check(f"auto dtype of a float16 checkpoint on {DEV} is {want}", h.dtype == want, h.dtype)
    b = fm.load(str(root / "g"), as_="gb", dtype="bfloat16")
    check("--dtype bfloat16", next(b.model.parameters()).dtype == torch.bfloat16)
    cpu = fm.load(str(root / "g"), as_="gcpu", device="cpu")
    check("--device cpu beside cuda", next(cpu.model.parameters()).device.type == "cpu")


def generation(root: Path) -> None:
    g = fm.use("g")
    tok = g.tokenizer
    prompt = "the cat sat on the"
    ids = tok(prompt, return_tensors="pt").to(DEV)
    plain = g.model.generate(**ids, max_new_tokens=32, do_sample=False, pad_token_id=tok.pad_token_id)
    ours = fm.generate(prompt, model="g", max_new_tokens=32, greedy=True)
    check("greedy tokens equal model.generate on cuda", ours.token_ids == plain[0, ids.input_ids.shape[1]:].tolist())
    a = fm.generate(prompt, model="g", max_new_tokens=16, temperature=0.9, seed=7).text
    b = fm.generate(prompt, model="g", max_new_tokens=16, temperature=0.9, seed=7).text
    check("seeded sampling repeats on cuda", a == b)

    for dtype in ("float32", "bfloat16") if DEV == "cuda" else ("float32",):
        folder = root / "gpt2-small"
        if not folder.exists():
            testing.tiny_gpt2(folder, layers=12, heads=12, hidden=768, context=1024)
        name = f"small-{dtype}"
        h = fm.load(str(folder), as_=name, dtype=dtype)
        ids = h.tokenizer(prompt, return_tensors="pt").to(DEV)
        kw = dict(max_new_tokens=64, min_new_tokens=64, do_sample=False, pad_token_id=h.tokenizer.pad_token_id)
        base = median_time(lambda h=h, ids=ids, kw=kw: h.model.generate(**ids, **kw))
        mine = median_time(lambda name=name: fm.generate(prompt, model=name, max_new_tokens=64, min_new_tokens=64, greedy=True))
        stream = median_time(lambda name=name: fm.generate(prompt, model=name, max_new_tokens=64, min_new_tokens=64,
                                                 greedy=True, on_text=lambda texts: None))
        print(f"      generate {dtype}: plain {64 / base:.0f} tok/s, fm {64 / mine:.0f} tok/s, "
              f"ratio {mine / base:.3f} (<= 1.05), streaming ratio {stream / base:.3f} (<= 1.15)")
        check(f"generate {dtype} overhead", mine / base <= 1.10 and stream / base <= 1.25,
              f"{mine / base:.3f} / {stream / base:.3f}")


def embeddings(root: Path) -> None:
    folder = testing.tiny_bert(root / "bert-base", layers=12, heads=12, hidden=768, context=512)
    texts = [f"{w} sentence number {i} about the weather and the city" for i, w in
             enumerate(testing.CORPUS * (100 if DEV == "cuda" else 5))]
    fm.load(str(folder), as_="bb")
    fm.load(str(folder), as_="bb-cpu", device="cpu")
    eg, ec = fm.embed(texts[:64], model="bb"), fm.embed(texts[:64], model="bb-cpu")
    cos = float((eg * ec).sum(1).min())
    check("embed on cuda equals cpu (float32)", eg.dtype == np.float32 and cos >= 0.9999, f"min cos {cos:.6f}")
    fm.load(str(folder), as_="bb-bf16", dtype="bfloat16")
    eh = fm.embed(texts[:64], model="bb-bf16")
    cos16 = float((eh * ec).sum(1).min())
    check("embed in bfloat16 stays close", eh.dtype == np.float32 and cos16 >= 0.99, f"min cos {cos16:.4f}")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("      sentence-transformers not installed: embed throughput baseline skipped")
        return
    st = SentenceTransformer(str(folder), device=DEV)
    st_vecs = st.encode(texts[:64], normalize_embeddings=True)
    cos_st = float((st_vecs * eg).sum(1).min())
    check("embed equals sentence-transformers on cuda", cos_st >= 0.9999, f"min cos {cos_st:.6f}")
    base = median_time(lambda: st.encode(texts, batch_size=64, normalize_embeddings=True), runs=3)
    mine = median_time(lambda: fm.embed(texts, model="bb", batch_size=64), runs=3)
    print(f"      embed {len(texts)} texts: sentence-transformers {len(texts) / base:.0f}/s, "
          f"fm {len(texts) / mine:.0f}/s, throughput ratio {base / mine:.3f} (>= 0.95)")


def attention_and_lens(root: Path) -> None:
    h = fm.use("bb")
    text = " ".join(testing.CORPUS * 10)
    res = fm.attention(text, model="bb")
    enc = h.tokenizer(text, return_tensors="pt", truncation=True, max_length=512).to(DEV)
    with torch.inference_mode():
        raw = h.model(**enc, output_attentions=True).attentions
    diff = max(float((torch.as_tensor(res.layers[i]) - raw[i][0].float().cpu()).abs().max()) for i in range(len(raw)))
    check("attention on cuda equals output_attentions", diff < 1e-5 and res.weights.shape[-1] == 512,
          f"T={res.weights.shape[-1]}, max diff {diff:.2e}")

    def raw_call():
        with torch.inference_mode():
            out = h.model(**enc, output_attentions=True).attentions
            [a.float().cpu().numpy() for a in out]

    base = median_time(raw_call, runs=3)
    mine = median_time(lambda: fm.attention(text, model="bb"), runs=3)
    print(f"      attention at 512 tokens: raw {base * 1000:.0f} ms, fm {mine * 1000:.0f} ms, ratio {mine / base:.2f}")
    lens = fm.logit_lens("the cat sat on the", model="g")
    check("logit lens on cuda", lens is not None)


def clip(root: Path) -> None:
    fm.load(str(testing.tiny_clip(root / "clip")), as_="clip")
    res = fm.clip_similarity(testing.color_images(4), ["red", "green", "blue"], model="clip")
    vecs = fm.embed(testing.color_images(3), model="clip")
    check("CLIP similarity and image embeddings on cuda", vecs.shape[0] == 3 and res is not None)


def finetuning(root: Path) -> None:
    """Through core.training.finetune (headless), so the check needs no ipywidgets on the GPU machine."""
    import pandas as pd

    from fmwidgets.core.models.predict import predict
    from fmwidgets.core.training.finetune import run_finetune as finetune

    rows = [(t, "pos" if i % 2 else "neg") for i, t in enumerate(testing.CORPUS * 4)]
    df = pd.DataFrame(rows, columns=["text", "label"])
    folder = root / "tiny-bert"
    testing.tiny_bert(folder)
    for dtype in ("float32", "bfloat16", "float16"):
        name = f"tb-{dtype}"
        fm.load(str(folder), as_=name, dtype=dtype)
        res = finetune(df, text="text", label="label", model=name, epochs=1, batch_size=16)
        tuned = fm.use(res.name)
        placed = next(tuned.model.parameters()).device.type == DEV
        preds = predict(["the cat sat"], model=res.name)
        check(f"finetune from a {dtype} base on cuda", placed and res.status == "finished"
              and next(iter(preds)) in ("pos", "neg"), f"{res.samples_per_second:.0f} samples/s")
    lora = finetune(df, text="text", label="label", model="tb-float32", epochs=1, lora=True, as_="tb-lora")
    check("LoRA finetune on cuda", lora.status == "finished")

    big = "bb"
    if big not in fm.models()["name"].tolist():
        fm.load(str(testing.tiny_bert(root / "bert-base", layers=12, heads=12, hidden=768, context=512)), as_=big)
    if DEV != "cuda":
        return
    for use_lora in (False, True):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        t = time.perf_counter()
        name = f"bb-{'lora' if use_lora else 'full'}"
        r = finetune(df, text="text", label="label", model=big, epochs=1, batch_size=16, lora=use_lora, as_=name)
        extra = (torch.cuda.max_memory_allocated() - before) / 2**20
        print(f"      BERT-base {'LoRA' if use_lora else 'full'}: peak beyond the loaded base {extra:.0f} MiB, "
              f"{r.samples_per_second:.0f} samples/s, {time.perf_counter() - t:.1f} s")
        fm.unload(name)


def main() -> int:
    if DEV == "cuda" and not torch.cuda.is_available():
        print("no CUDA GPU here: nothing to check (use --cpu for a dry run of the script)")
        return 0
    fm.settings().device = DEV
    where = torch.cuda.get_device_name(0) if DEV == "cuda" else "cpu dry run"
    print(f"torch {torch.__version__}, {where}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        steps = (loading, generation, embeddings, attention_and_lens, clip, finetuning)
        only = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")]
        for step in steps:
            if only and step.__name__ not in only[0].split(","):
                continue
            try:
                step(root)
            except Exception as exc:  # noqa: BLE001  report and go on: one broken step should not hide the rest
                import traceback

                traceback.print_exc()
                check(step.__name__, False, f"{type(exc).__name__}: {exc}")
    print(f"{len(FAILED)} failed: {FAILED}" if FAILED else "all checks passed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
