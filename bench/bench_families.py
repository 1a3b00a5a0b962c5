"""Chat and speech: fm.chat vs model.generate on the templated ids; fm.transcribe vs the ASR pipeline.

Run:  .venv/bin/python bench/bench_families.py [--chat PATH_OR_ID] [--speech PATH_OR_ID] [--repeat 5]

Without models, offline stand-ins are built: the tiny chat GPT-2 (fmwidgets.testing) and a tiny
Whisper; with network, e.g. ``--chat Qwen/Qwen2.5-0.5B-Instruct --speech openai/whisper-tiny``.
Interleaved medians of --repeat runs:

  chat        plain: apply_chat_template + model.generate(greedy, 64 new) + decode    target fm/plain <= 1.05
  transcribe  plain: transformers.pipeline on the same 30 s clip at 16 kHz             target fm/plain <= 1.05

Both sides must give the same tokens / text (checked).
"""

from __future__ import annotations

import argparse
import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NEW = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chat", default=None)
    parser.add_argument("--speech", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()

    import torch
    from _decoder_bench import interleaved_medians
    from transformers import pipeline

    import fmwidgets as fm
    from fmwidgets import testing

    warnings.simplefilter("ignore")
    chat = fm.load(opts.chat or str(testing.tiny_chat_gpt2(context=256)), as_="chat", device=opts.device)
    cuda = chat.device.startswith("cuda")
    tok, net = chat.tokenizer, chat.model
    messages = [{"role": "user", "content": "tell me about the weather today"}]

    def plain_chat():
        ids = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        ids = ids.to(net.device)
        out = net.generate(**ids, max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False,
                           pad_token_id=tok.pad_token_id)
        return out[0, ids["input_ids"].shape[1]:].tolist()

    def fm_chat():
        return fm.chat(messages[0]["content"], model="chat", max_new_tokens=NEW, min_new_tokens=NEW, greedy=True,
                       stream=False).token_ids

    assert plain_chat()[: len(fm_chat())] == fm_chat(), "fm.chat and model.generate disagree"
    chat_t = interleaved_medians({"plain": plain_chat, "fm": fm_chat}, opts.repeat, cuda)

    speech = fm.load(opts.speech or str(testing.tiny_whisper()), as_="speech", device=opts.device)
    clip = testing.tone(30.0)
    pipe = pipeline("automatic-speech-recognition", model=speech.model, tokenizer=speech.tokenizer,
                    feature_extractor=speech.processor.feature_extractor, device=speech.model.device)

    def plain_asr():
        return pipe({"raw": clip, "sampling_rate": 16000}, return_timestamps=True)["text"]

    def fm_asr():
        return fm.transcribe(clip, model="speech", sampling_rate=16000).text

    assert plain_asr() == fm_asr(), "fm.transcribe and the pipeline disagree"
    asr_t = interleaved_medians({"plain": plain_asr, "fm": fm_asr}, opts.repeat, cuda)

    print(f"device {chat.device} ({torch.cuda.get_device_name() if cuda else 'cpu'})")
    print(f"chat        plain {chat_t['plain'] * 1000:8.1f} ms   fm {chat_t['fm'] * 1000:8.1f} ms   "
          f"ratio {chat_t['fm'] / chat_t['plain']:.3f}  (target <= 1.05)")
    print(f"transcribe  plain {asr_t['plain'] * 1000:8.1f} ms   fm {asr_t['fm'] * 1000:8.1f} ms   "
          f"ratio {asr_t['fm'] / asr_t['plain']:.3f}  (target <= 1.05)")


if __name__ == "__main__":
    main()
