"""Text generation with a decoder: ``generate_text`` for one prompt, ``run_batch`` for several.

Everything goes through transformers' own ``model.generate`` with the user's settings, so greedy
output is the same, token for token, as calling it by hand.  fmwidgets adds three things around
it: a streamer that collects tokens as they come (to call ``on_text`` for live display, and to
keep the partial text when the user interrupts the kernel), a stopping criterion that watches a
``threading.Event`` (the playground's Stop button), and the bookkeeping of a ``Generation``:
prompt as sent, tokens, per-token log-probabilities, timings and a RunRecord.

This module is headless: ``generate_text`` is ``fm.generate`` without its display (the public
function, with the text streaming into the cell, is ``api.py``); how a Generation looks
is ``render/generate.py``.
"""

from __future__ import annotations

import copy
import threading
import time
import warnings
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ...errors import BadArgumentError, DataError
from ...notices import FMWarning
from ...records import RunRecord
from ...render import Recorded
from ...render.generate import generation_bundle, money
from ...signatures import expands
from ..models.registry import ModelHandle, get_model
from ..seeding import seeded
from ..tokens import readable_tokens
from . import template
from .rows import BatchRow
from .sampling import Sampling
from .scoring import chosen_logprobs, sequence_logprobs

# Words in a model id that mark an instruction-tuned (chat) checkpoint.
_INSTRUCT_MARKERS = ("instruct", "chat", "-it", "_it", "sft", "dpo", "rlhf", "assistant", "zephyr")


@dataclass(eq=False)
class Generation(BatchRow, Recorded, look=generation_bundle):
    """One generation: ``text`` (first sample), all ``texts``, tokens, log-probs and timings; a
    ``BatchRow`` with the prompt as sent, readable tokens and the record."""

    text: str
    prompt: str
    tokens: list[str]
    record: RunRecord

    @property
    def tokens_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("nan")

    def __str__(self) -> str:
        return self.text

    def summary(self) -> str:
        """One compact line: model, tokens, time, speed, parameters that were set, why it stopped."""
        p = self.record.params
        mode = (
            "greedy"
            if not p.get("do_sample")
            else ", ".join(f"{k}={p[k]}" for k in ("temperature", "top_p", "top_k") if p.get(k) is not None)
            or "sampled"
        )
        extra = ", ".join(
            f"{k}={v}"
            for k, v in p.items()
            if v not in (None, False) and k not in ("do_sample", "temperature", "top_p", "top_k", "n")
        )
        seed = f" · seed {self.record.seed}" if self.record.seed is not None else ""
        n = f" · {p['n']} samples" if p.get("n", 1) > 1 else ""
        return (
            f"{self.record.model_name} · {self.steps} tokens in {self.seconds:.2f} s "
            f"({self.tokens_per_s:.1f} tok/s) · {mode}{n} · {extra}{seed}{_accounting(self.usage)} "
            f"· stopped: {self.stopped}"
        )


def _accounting(usage: dict[str, Any] | None) -> str:
    """' · 13 in / 12 out tokens · $0.000010' for an API reply (cost: 'no price set')."""
    if not usage:
        return ""
    return f" · {usage.get('tokens_in')} in / {usage.get('tokens_out')} out tokens · {money(usage)}"


# ---------------------------------------------------------------------------------------------
# Helpers around transformers' generate

# tokenizer without a pad token -> a copy of it that pads with its end-of-text token
_PADDERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def padder(tok: Any) -> Any:
    """The tokenizer that pads a batch: ``tok`` itself when it has a pad token, else a copy of
    it (made once) that pads with its end-of-text token, as GPT-2 has none.  The user's tokenizer
    is never changed: setting ``pad_token`` on it would change what their own code gets."""
    if tok.pad_token is not None:
        return tok
    padding = _PADDERS.get(tok)
    if padding is None:
        padding = copy.deepcopy(tok)
        padding.pad_token = tok.eos_token if tok.eos_token is not None else tok.convert_ids_to_tokens(0)
        _PADDERS[tok] = padding
    return padding


class _Collector:
    """A transformers streamer that keeps every generated token per row and reports new text."""

    def __init__(self, tokenizer: Any, eos_ids: set[int], on_text: Callable | None) -> None:
        self.tokenizer, self.eos_ids, self.on_text = tokenizer, eos_ids, on_text
        self.rows: list[list[int]] | None = None
        self.first_token_at: float | None = None

    def put(self, value: Any) -> None:
        if self.rows is None:  # the first call carries the prompts
            self.rows = [[] for _ in range(value.shape[0])]
            return
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        for row, new in zip(self.rows, value.reshape(len(self.rows), -1).tolist()):
            row.extend(new)
        if self.on_text is not None:
            self.on_text([self.decode(cut_at_eos(r, self.eos_ids)) for r in self.rows])

    def end(self) -> None:
        pass

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)


def _stop_criteria(stop_event: threading.Event | None):
    """A StoppingCriteria that ends every row once ``stop_event`` is set (the Stop button)."""
    if stop_event is None:
        return None
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _OnEvent(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full(
                (input_ids.shape[0],), stop_event.is_set(), dtype=torch.bool, device=input_ids.device
            )

    return StoppingCriteriaList([_OnEvent()])


def cut_at_eos(ids: Sequence[int], eos_ids: set[int]) -> list[int]:
    """The ids before the first end-of-sequence token."""
    out = []
    for i in ids:
        if i in eos_ids:
            break
        out.append(i)
    return out


def eos_ids(handle: ModelHandle) -> set[int]:
    eos = handle.model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, (list, tuple)) else [eos] if eos is not None else [])
    if handle.tokenizer.eos_token_id is not None:
        ids.add(handle.tokenizer.eos_token_id)
    return ids


def instruction_tuned(handle: ModelHandle) -> bool:
    """Whether the model id says it is a chat / instruction-tuned checkpoint."""
    last = str(handle.model_id).rstrip("/").split("/")[-1].lower()
    return any(m in last for m in _INSTRUCT_MARKERS)


def render_prompt(
    handle: ModelHandle, prompt: str, chat: bool | None, system: str | None
) -> tuple[Any, bool]:
    """(text to tokenize, whether the chat template was used); for an API-served model, the chat
    messages to send (it always chats)."""
    if handle.backend is not None:
        from ..models.remote.generation import messages_for

        return messages_for(prompt, chat, system), True
    has_template = bool(getattr(handle.tokenizer, "chat_template", None))
    if chat is None:
        chat = has_template and (system is not None or instruction_tuned(handle))
    if system is not None and not chat:
        raise BadArgumentError(
            "A system message needs the chat template; add --chat (chat=True) or drop --system."
        )
    if chat and not has_template:
        raise BadArgumentError(
            f"Model '{handle.name}' has no chat template, so --chat/--system cannot be used; leave "
            "them out to prompt it with plain text."
        )
    if not chat:
        return prompt, False
    messages = ([{"role": "system", "content": system}] if system is not None else []) + [
        {"role": "user", "content": prompt}
    ]
    return handle.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False), True


def fit_context(handle: ModelHandle, ids: list[int], room: int, strict: bool) -> list[int]:
    """``ids`` cut from the left so that ``room`` more tokens fit in the context (strict: error)."""
    context = handle.context_length
    if context is None:
        return ids
    if room >= context:
        raise BadArgumentError(
            f"max_new_tokens={room} does not fit in the context of '{handle.name}' ({context} tokens); "
            "ask for fewer new tokens."
        )
    limit = context - room
    if len(ids) <= limit:
        return ids
    if strict:
        raise DataError(
            f"The input has {len(ids)} tokens and only {limit} fit in the context of "
            f"'{handle.name}' ({context}); shorten it, or leave strict off to keep its last {limit} tokens."
        )
    warnings.warn(
        f"The input has {len(ids)} tokens; kept the last {limit} so it fits the context of "
        f"'{handle.name}' ({context}).",
        FMWarning,
        stacklevel=4,
    )
    return ids[-limit:]


def run_batch(
    handle: ModelHandle,
    prompts: Sequence[str | list[int]],
    sampling: Sampling,
    *,
    strict: bool = False,
    on_text: Callable | None = None,
    stop_event: threading.Event | None = None,
) -> list[BatchRow]:
    """Generate for ``prompts`` (rendered text, or token ids as a chat template gave them) in one
    batch, left-padded by the tokenizer (``padding_side="left"``); one ``BatchRow`` per prompt.
    ``sampling`` is resolved (``Sampling.resolve``).

    A KeyboardInterrupt ends the batch and returns what was generated so far (marked
    "interrupted").  An API-served model (``handle.backend``) gets the prompts (chat messages)
    as requests instead: core/models/remote/generation.py.
    """
    if handle.backend is not None:
        from ..models.remote.generation import reply_batch

        return reply_batch(handle, prompts, sampling, on_text=on_text, stop_event=stop_event)
    import torch

    tok, model = handle.tokenizer, handle.model
    max_new_tokens, n, stop, extra = sampling.max_new_tokens, sampling.n, sampling.stop, sampling.extra
    encoded = [
        fit_context(
            handle,
            list(p) if isinstance(p, list) else tok(p, add_special_tokens=True)["input_ids"],
            max_new_tokens,
            strict,
        )
        for p in prompts
    ]
    padding = padder(tok)
    batch = padding.pad(
        {"input_ids": encoded},
        padding=True,
        padding_side="left",
        return_attention_mask=True,
        return_tensors="pt",
    ).to(model.device)
    width = batch["input_ids"].shape[1]
    ends = eos_ids(handle)
    collector = _Collector(tok, ends, on_text)
    beams = extra.get("num_beams") or 1
    kwargs = dict(
        extra,
        **sampling.decoding,
        max_new_tokens=max_new_tokens,
        num_return_sequences=n,
        pad_token_id=padding.pad_token_id,
        return_dict_in_generate=True,
        output_logits=True,
    )
    if beams == 1:  # transformers streams only one candidate per row
        kwargs["streamer"] = collector
    if stop:
        kwargs.update(stop_strings=list(stop), tokenizer=tok)
    criteria = _stop_criteria(stop_event)
    if criteria is not None:
        kwargs["stopping_criteria"] = criteria
    start = time.perf_counter()
    interrupted = False
    try:
        with seeded(sampling.seed), torch.inference_mode():
            out = model.generate(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], **kwargs
            )
        rows = out.sequences[:, width:].tolist()
        # beam search logs the scores of every beam, not of the returned texts: recompute those
        logits = torch.stack(out.logits, dim=1) if out.logits and beams == 1 else None
    except KeyboardInterrupt:
        interrupted, rows, logits = True, collector.rows or [[] for _ in range(len(prompts) * n)], None
    seconds = time.perf_counter() - start
    first = collector.first_token_at - start if collector.first_token_at else None
    steps = max((len(r) for r in rows), default=0)

    results = []
    for i, prompt_ids in enumerate(encoded):
        samples = [cut_at_eos(rows[i * n + j], ends) for j in range(n)]
        texts = [collector.decode(s) for s in samples]
        stopped = _why_stopped(
            rows[i * n], samples[0], texts[0], max_new_tokens, stop, interrupted, stop_event
        )
        texts = [_trim_stop(t, stop) for t in texts]
        ids = samples[0]
        if logits is not None:
            logprobs = chosen_logprobs(torch.log_softmax(logits[i * n, : len(ids)].float(), dim=-1), ids)
        else:
            logprobs = sequence_logprobs(handle, prompt_ids, ids)
        results.append(
            BatchRow(
                texts=texts,
                token_ids=ids,
                prompt_ids=prompt_ids,
                logprobs=logprobs,
                seconds=seconds,
                first_token_seconds=first,
                steps=steps,
                stopped=stopped,
            )
        )
    return results


def _why_stopped(row, ids, text, max_new_tokens, stop, interrupted, stop_event) -> str:
    if interrupted:
        return "interrupted"
    if stop and any(s in text for s in stop):
        return "stop"
    if len(ids) < len(row):
        return "eos"
    if stop_event is not None and stop_event.is_set():
        return "stopped"
    return "length"


def _trim_stop(text: str, stop: Sequence[str] | None) -> str:
    """The text before the first stop string (the stop string itself is not part of the answer)."""
    cuts = [text.find(s) for s in stop or () if s in text]
    return text[: min(cuts)] if cuts else text


def check_prompt(prompt: Any, what: str = "prompt") -> str:
    if not isinstance(prompt, str):
        raise DataError(f"The {what} must be text, not {type(prompt).__name__}; pass a string.")
    if not prompt.strip():
        raise DataError(f"The {what} is empty; write some text to continue.")
    return prompt


@expands(Sampling, "sampling")
def generate_text(
    prompt: str,
    model: str | ModelHandle | None = None,
    *,
    sampling: Sampling,
    chat: bool | None = None,
    system: str | None = None,
    strict: bool = False,
    variables: dict | None = None,
    on_text: Callable[[list[str]], None] | None = None,
    stop_event: threading.Event | None = None,
) -> Generation:
    """Continue ``prompt`` with a decoder and return a ``Generation``.

    The decoding keywords (max_new_tokens, temperature, top_p, top_k, greedy, seed, n, stop) are
    ``Sampling``'s; other keywords (``repetition_penalty``, ``min_new_tokens``...) go to
    transformers' ``generate``.  ``variables`` (a notebook namespace) fills ``{name}``
    placeholders safely (core.prompting.template).  ``on_text(texts)`` is called after every token.
    """
    handle = get_model(model, "generate")
    sampling.check(streaming=on_text is not None)
    if variables is not None:
        prompt = template.fill(check_prompt(prompt), variables)
    check_prompt(prompt)
    sent, used_chat = render_prompt(handle, prompt, chat, system)
    sampling = sampling.resolve(handle)
    (res,) = run_batch(handle, [sent], sampling, strict=strict, on_text=on_text, stop_event=stop_event)
    params = dict(sampling.params(), chat=used_chat, system=system, **sampling.extra)
    return to_generation(handle, res, sent, params, sampling.seed)


def sent_text(handle: ModelHandle, sent: Any) -> str:
    """The prompt as sent, as text: itself, its token ids decoded, or chat messages one per line."""
    if isinstance(sent, str):
        return sent
    if sent and isinstance(sent[0], dict):
        if len(sent) == 1 and sent[0]["role"] == "user":
            return sent[0]["content"]
        return "\n".join(f"{m['role']}: {m['content']}" for m in sent)
    return handle.tokenizer.decode(list(sent))


def to_generation(
    handle: ModelHandle, res: BatchRow, sent: Any, params: dict, seed: int | None
) -> Generation:
    """A ``Generation`` from one ``run_batch`` result (``sent``: the prompt as sent)."""
    record = RunRecord.for_model("generate", handle, params, seed=seed, usage=[res.usage])
    if res.stopped == "interrupted":
        warnings.warn(
            f"Generation interrupted after {len(res.token_ids) or res.steps} tokens; kept the partial text.",
            FMWarning,
            stacklevel=3,
        )
    tokens = (res.usage or {}).get("tokens") or []
    if handle.tokenizer is not None:
        tokens = readable_tokens(handle.tokenizer, res.token_ids)
    return Generation(
        **vars(res),
        text=res.texts[0],
        prompt=sent_text(handle, sent),
        tokens=tokens,
        record=record,
    )
