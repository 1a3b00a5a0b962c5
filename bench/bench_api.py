"""API-served models: fm's batcher against a hand-written asyncio client, as ratios in one run.

Run:  .venv/bin/python bench/bench_api.py [--rows 64] [--concurrency 8] [--repeat 5]

Against `transformers serve` over the tiny chat Llama (fmwidgets.testing), started here on a
loopback port:
- fm.generate_df over N rows with max_concurrency=8 vs asyncio.gather over AsyncOpenAI with a
  Semaphore(8) (the same requests): target >= 0.95x its throughput;
- the overhead of one request over the raw SDK call (fm.generate vs client.chat.completions.create
  streamed, as fm.generate sends a single reply so that Stop and interrupts keep its text; the
  streaming's own cost over a non-streamed call is printed beside it; and per row in the batch,
  which is not streamed): target <= 2 ms;
- an identical fm.evaluate re-run: zero requests (counted at a FaultProxy in front of the server),
  target >= 20x faster than the first run.
The server answers each request in milliseconds, so what is measured is fmwidgets' own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def interleaved(ways: dict, repeat: int) -> dict:
    """Median seconds of each callable, run in turn so that load noise hits all alike."""
    times: dict = {name: [] for name in ways}
    for _ in range(repeat):
        for name, fn in ways.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=16)
    opts = parser.parse_args()

    import openai
    import pandas as pd

    import fmwidgets as fm
    from fmwidgets import testing
    from fmwidgets.config import settings
    from fmwidgets.core.prompting.generate_df import generate_table
    from fmwidgets.testing_server import FaultProxy, ServedModel

    warnings.simplefilter("ignore")
    folder = tempfile.mkdtemp(prefix="fm-bench-api-")
    settings().store_path = os.path.join(folder, "store.sqlite")
    model = testing.tiny_chat_llama(os.path.join(folder, "llama"))
    with ServedModel(model) as server, FaultProxy(server.url) as proxy:
        handle = fm.load(server.model, base_url=server.base_url, as_="srv", max_concurrency=opts.concurrency)
        words = testing.CORPUS
        df = pd.DataFrame({"q": [f"{i}: {words[i % len(words)]}" for i in range(opts.rows)]})
        messages = [[{"role": "user", "content": q}] for q in df["q"]]
        args = dict(model=server.model, max_tokens=opts.new_tokens, temperature=0)

        async def by_hand() -> list[str]:
            client = openai.AsyncOpenAI(base_url=server.base_url, api_key="none")
            gate = asyncio.Semaphore(opts.concurrency)

            async def one(m: list) -> str:
                async with gate:
                    reply = await client.chat.completions.create(messages=m, **args)
                    return reply.choices[0].message.content or ""

            try:
                return list(await asyncio.gather(*(one(m) for m in messages)))
            finally:
                await client.close()

        ours = generate_table(df, "{q}", model=handle, max_new_tokens=opts.new_tokens)
        assert ours["output"].tolist() == asyncio.run(by_hand()), "fm and the hand-written client differ"
        batch = interleaved(
            {
                "hand-written gather": lambda: asyncio.run(by_hand()),
                "fm.generate_df": lambda: generate_table(
                    df, "{q}", model=handle, max_new_tokens=opts.new_tokens
                ),
            },
            opts.repeat,
        )
        ratio = batch["hand-written gather"] / batch["fm.generate_df"]
        print(f"{opts.rows} rows, max_concurrency={opts.concurrency}, {opts.new_tokens} new tokens")
        for name, seconds in batch.items():
            print(f"  {name:22s} {seconds:7.3f} s  {opts.rows / seconds:7.1f} rows/s")
        print(f"  throughput ratio fm / hand-written: {ratio:.3f}x (target >= 0.95)")
        print(
            f"  overhead per row in the batch: {(batch['fm.generate_df'] - batch['hand-written gather']) / opts.rows * 1e3:+.2f} ms"
        )

        sync = openai.OpenAI(base_url=server.base_url, api_key="none")

        def streamed() -> str:  # what fm.generate sends: one reply streams on the wire, so Stop keeps it
            with sync.chat.completions.create(
                messages=messages[0], stream=True, stream_options={"include_usage": True}, **args
            ) as events:
                return "".join(c.choices[0].delta.content or "" for c in events if c.choices)

        one = interleaved(
            {
                "raw SDK call": lambda: sync.chat.completions.create(messages=messages[0], **args),
                "raw SDK call, streamed": streamed,
                "fm.generate": lambda: fm.generate(
                    df["q"][0], model=handle, max_new_tokens=opts.new_tokens, stream=False
                ),
            },
            opts.repeat * 10,
        )
        print(
            f"one request: raw {one['raw SDK call'] * 1e3:.1f} ms, raw streamed "
            f"{one['raw SDK call, streamed'] * 1e3:.1f} ms, fm.generate (streamed) {one['fm.generate'] * 1e3:.1f} ms; "
            f"overhead over the same streamed call {(one['fm.generate'] - one['raw SDK call, streamed']) * 1e3:+.2f} ms "
            f"(target <= 2); the server's streaming itself {(one['raw SDK call, streamed'] - one['raw SDK call']) * 1e3:+.2f} ms"
        )

        counted = fm.load(
            server.model, base_url=proxy.base_url, as_="counted", max_concurrency=opts.concurrency
        )
        data = df.assign(ref="x")
        proxy.reset()
        start = time.perf_counter()
        fm.evaluate(
            data, "{q}", model=counted, reference="ref", max_new_tokens=opts.new_tokens, progress=False
        )
        first = time.perf_counter() - start
        sent = proxy.requests
        proxy.reset()
        start = time.perf_counter()
        fm.evaluate(
            data, "{q}", model=counted, reference="ref", max_new_tokens=opts.new_tokens, progress=False
        )
        again = time.perf_counter() - start
        print(
            f"identical evaluate re-run: {proxy.requests} requests (first run {sent}); {first:.3f} s -> "
            f"{again:.3f} s, {first / again:.1f}x faster (target 0 requests, >= 20x)"
        )


if __name__ == "__main__":
    main()
