"""Tiny real checkpoints (GPT-2, BERT with a masked-LM head, CLIP) built from configs, offline.

Each builder trains a tokenizer on a small built-in corpus in well under a second, makes a model
with random (seeded) weights, and saves both with ``save_pretrained`` into a folder that
``fm.load(path)`` loads exactly as it loads a user's folder.  Tests, CI notebooks and demos use
them where the real hub models cannot be downloaded; weights are random, so they show mechanics,
not quality (the embedded MiniLM is there for quality).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CORPUS = [
    "the cat sat on the mat and looked at the dog",
    "a dog ran across the park to catch the ball",
    "the weather today is sunny with a light breeze",
    "it will rain tomorrow so take an umbrella with you",
    "the movie was wonderful and the actors were great",
    "i did not like the film, the story was boring",
    "the soup tastes good but the bread is stale",
    "our team won the match after a hard second half",
    "stocks fell sharply as investors worried about rates",
    "the new phone has a bright screen and a long battery life",
    "she reads a book every night before she sleeps",
    "he plays the guitar and sings old songs",
    "the train to the city leaves at nine in the morning",
    "scientists found water on a distant planet",
    "please send me the report by friday afternoon",
    "the children built a castle out of sand on the beach",
    "a model learns patterns from data and makes predictions",
    "language models predict the next word in a sentence",
    "the quick brown fox jumps over the lazy dog",
    "hello world, this is a small test of the tokenizer",
    "red green blue yellow black white orange purple",
    "one two three four five six seven eight nine ten",
    "monday tuesday wednesday thursday friday saturday sunday",
    "good bad happy sad great terrible awful lovely fine",
]


def _words(extra: Sequence[str] = ()) -> list[str]:
    return (CORPUS + list(extra)) * 4


def _image_processor(name: str) -> Any:
    """transformers' ``name`` image processor class, or its PIL twin ``<name>Pil`` where torchvision
    is missing: asking for ``name`` then falls back to the twin itself, with a warning ("requires
    torchvision (not installed); falling back to ...") in every notebook that builds a tiny model."""
    import transformers
    from transformers.utils import is_torchvision_available

    pil = None if is_torchvision_available() else getattr(transformers, f"{name}Pil", None)
    return pil if pil is not None else getattr(transformers, name)


def _default_dir(kind: str, path: str | Path | None) -> Path:
    folder = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix=f"fm-tiny-{kind}-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _bpe_files(
    folder: Path,
    vocab_size: int,
    specials: list[str],
    word_suffix: str | None = None,
    all_bytes: bool = True,
    extra: Sequence[str] = (),
) -> tuple[str, str]:
    """Train a byte-level BPE on the corpus; return (vocab.json, merges.txt) paths.

    GPT-2 marks a word start inside the token ("Ġcat"); CLIP lowercases and marks word ends
    ("cat</w>"): ``word_suffix`` picks the second style.  ``all_bytes=False`` keeps only the
    corpus's own characters, so that every token decodes to whole readable text; ``extra`` texts
    are learnt beside the corpus.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    suffix: dict[str, Any] = {"end_of_word_suffix": word_suffix} if word_suffix else {}
    bpe = Tokenizer(models.BPE(**suffix))
    if word_suffix:
        bpe.normalizer = normalizers.Lowercase()
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        special_tokens=specials,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet() if all_bytes else [],
        **suffix,
    )
    bpe.train_from_iterator(_words(extra), trainer)
    work = folder / "_bpe"
    work.mkdir(exist_ok=True)
    vocab, merges = bpe.model.save(str(work))
    return vocab, merges


def tiny_gpt2(
    path: str | Path | None = None,
    *,
    layers: int = 2,
    heads: int = 2,
    hidden: int = 32,
    context: int = 128,
    seed: int = 0,
) -> Path:
    """A GPT-2 style decoder (byte-level BPE tokenizer) saved to ``path``; returns the folder."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast  # type: ignore[attr-defined]  # transformers 5: a runtime alias only

    folder = _default_dir("gpt2", path)
    vocab, merges = _bpe_files(folder, 400, ["<|endoftext|>"])
    tok = GPT2TokenizerFast(vocab=vocab, merges=merges)
    tok.model_max_length = context
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=context,
        n_embd=hidden,
        n_layer=layers,
        n_head=heads,
        bos_token_id=tok.eos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    torch.manual_seed(seed)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    _cleanup(folder)
    return folder


def tiny_chat_gpt2(path: str | Path | None = None, **kwargs) -> Path:
    """``tiny_gpt2`` with a simple chat template, to exercise chat formatting."""
    folder = tiny_gpt2(path, **kwargs)
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["chat_template"] = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant:{% endif %}"
    )
    cfg_path.write_text(json.dumps(cfg, indent=2))
    return folder


# ChatML, the layout of Qwen- and many other chat models: what `transformers serve` applies too.
CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tiny_chat_llama(
    path: str | Path | None = None,
    *,
    layers: int = 2,
    heads: int = 4,
    hidden: int = 32,
    context: int = 256,
    seed: int = 0,
    corpus: Sequence[str] = (),
) -> Path:
    """A Llama-style chat model (ChatML template, greedy generation config) saved to ``path``.

    It is what a served open model looks like, small enough that ``transformers serve FOLDER``
    answers in milliseconds: the API-model tests serve it and compare with it loaded in-process.
    Its tokenizer knows only the built-in corpus's characters (every token decodes to readable
    text), so a model that must read or write others (digits, capitals, markers) is given texts
    that hold them in ``corpus``.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = _default_dir("llama", path)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    vocab, merges = _bpe_files(folder, 400, specials, all_bytes=False, extra=corpus)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    bpe = Tokenizer(models.BPE.from_file(vocab, merges))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.add_special_tokens(specials)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_max_length=context,
        chat_template=CHATML_TEMPLATE,
    )
    eos, pad = tok.eos_token_id, tok.pad_token_id
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads // 2,
        max_position_embeddings=context,
        eos_token_id=eos,
        pad_token_id=pad,
        bos_token_id=None,
        tie_word_embeddings=True,
        initializer_range=0.3,  # wide random weights: varied text per prompt, not one token repeated
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(do_sample=False, eos_token_id=eos, pad_token_id=pad)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    _cleanup(folder)
    return folder


def teach_replies(
    folder: str | Path,
    examples: Sequence[tuple[str, dict[str, float]]],
    *,
    steps: int = 120,
    lr: float = 3e-2,
    seed: int = 0,
) -> Path:
    """Fine-tune the chat model in ``folder`` (in place) so that its reply to each user message
    of ``examples`` begins with the given texts' first tokens at the given probabilities, e.g.
    ``("... Score:", {"4": 0.6, "5": 0.4})``; returns the folder.

    A random tiny model puts next to no probability on any particular token, so what reads a
    reply's first-token probabilities (a log-probability judge, labels) has nothing to read from
    it; a few seconds of full fine-tuning (cross-entropy to those probabilities at the first reply
    token, on the prompts after the chat template) make a model that answers like a judge.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    texts = [
        tok.apply_chat_template([{"role": "user", "content": m}], tokenize=False, add_generation_prompt=True)
        for m, _ in examples
    ]
    rows = [tok(str(text), add_special_tokens=False)["input_ids"] for text in texts]
    width = max(map(len, rows))
    # Right padding: each row's own tokens sit at the positions they have unpadded, as at inference.
    ids = torch.tensor([r + [tok.pad_token_id] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    last = torch.tensor([len(r) - 1 for r in rows])
    target = torch.zeros(len(rows), model.config.vocab_size)
    for i, (_, wanted) in enumerate(examples):
        for text, p in wanted.items():
            target[i, tok(text, add_special_tokens=False)["input_ids"][0]] += p
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        logits = model(input_ids=ids, attention_mask=mask).logits[torch.arange(len(rows)), last]
        loss = -(target * logits.log_softmax(-1)).sum(-1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    model.save_pretrained(folder)
    return Path(folder)


def _wordpiece_vocab(size: int) -> list[str]:
    """A WordPiece vocabulary of the corpus, the same on every build: the special tokens, every
    character alone and as a ``##`` continuation, then whole words, most frequent first.

    (tokenizers' WordPiece trainer breaks frequency ties differently from run to run, so a tiny
    BERT trained with it tokenized, and so behaved, differently on every build.)
    """
    from collections import Counter

    from tokenizers.pre_tokenizers import BertPreTokenizer

    split = BertPreTokenizer()
    words = Counter(w for line in CORPUS for w, _ in split.pre_tokenize_str(line.lower()))
    chars = sorted({c for w in words for c in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    ranked = sorted((w for w in words if w not in vocab), key=lambda w: (-words[w], w))
    return vocab + ranked[: max(size - len(vocab), 0)]


def tiny_bert(
    path: str | Path | None = None,
    *,
    layers: int = 2,
    heads: int = 2,
    hidden: int = 32,
    context: int = 128,
    seed: int = 0,
) -> Path:
    """A BERT encoder with a masked-LM head (WordPiece tokenizer) saved to ``path``."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast  # type: ignore[attr-defined]  # transformers 5: a runtime alias only

    folder = _default_dir("bert", path)
    work = folder / "_wp"
    work.mkdir(exist_ok=True)
    vocab_file = work / "vocab.txt"
    vocab_file.write_text("\n".join(_wordpiece_vocab(300)) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab=str(vocab_file), do_lower_case=True)
    tok.model_max_length = context
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 2,
        max_position_embeddings=context,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(seed)
    BertForMaskedLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    _cleanup(folder)
    return folder


def tiny_nli(path: str | Path | None = None, *, seed: int = 0, initializer_range: float = 0.02) -> Path:
    """``tiny_bert`` as an NLI sequence classifier (entailment / neutral / contradiction), the kind
    of model transformers' zero-shot-classification pipeline needs.  A wider ``initializer_range``
    (e.g. 0.5) makes its random verdicts differ from pair to pair instead of all sitting near 0.5."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tiny_bert(path, seed=seed)
    tok = AutoTokenizer.from_pretrained(folder)
    labels = ["entailment", "neutral", "contradiction"]
    config = BertConfig.from_pretrained(folder)
    config.architectures = ["BertForSequenceClassification"]
    config.id2label = dict(enumerate(labels))
    config.label2id = {name: i for i, name in enumerate(labels)}
    config.initializer_range = initializer_range
    torch.manual_seed(seed)
    BertForSequenceClassification(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def tiny_clip(
    path: str | Path | None = None, *, hidden: int = 32, image_size: int = 32, patch: int = 8, seed: int = 0
) -> Path:
    """A CLIP-style image-text model with its processor saved to ``path``."""
    import torch
    from transformers import (  # type: ignore[attr-defined]  # transformers 5: CLIPTokenizerFast is an alias
        CLIPConfig,
        CLIPModel,
        CLIPProcessor,
        CLIPTokenizerFast,
    )

    folder = _default_dir("clip", path)
    vocab, merges = _bpe_files(folder, 400, ["<|startoftext|>", "<|endoftext|>"], "</w>")
    tok = CLIPTokenizerFast(vocab=vocab, merges=merges)
    tok.model_max_length = 32
    image_processor = _image_processor("CLIPImageProcessor")(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    text = dict(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=32,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    vision = dict(
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch,
    )
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=hidden)
    torch.manual_seed(seed)
    CLIPModel(config).save_pretrained(folder)
    CLIPProcessor(image_processor=image_processor, tokenizer=tok).save_pretrained(folder)
    _cleanup(folder)
    return folder


def _cleanup(folder: Path) -> None:
    import shutil

    for scratch in ("_bpe", "_wp"):
        shutil.rmtree(folder / scratch, ignore_errors=True)


def color_images(n: int = 4, size: int = 48):
    """``n`` solid-colour PIL images (red, green, blue, ...) for CLIP tests and demos."""
    from PIL import Image

    palette = [(220, 30, 30), (30, 180, 60), (40, 60, 220), (240, 220, 40), (20, 20, 20), (250, 250, 250)]
    return [Image.new("RGB", (size, size), palette[i % len(palette)]) for i in range(n)]


# Labels that Plotly would draw as a link, bold text or TeX, or misread, if fmwidgets did not
# escape them (tests of every figure, in Python and in Chromium): link, bold, TeX, "<", quotes.
HOSTILE_LABELS = (
    '<a href="https://evil.example">Click</a>',
    "<b>BOLD</b>",
    r"$\href{https://evil.example}{tex}$",
    "a<b",
    "say \"hi\" & 'bye'",
)


# Whisper's special tokens, in its order: the timestamp tokens must follow <|notimestamps|>
# directly, because the decoder finds them as "<|notimestamps|> id + 1 + seconds / 0.02".
_WHISPER_LANGUAGES = ("en", "de", "fr", "es")


def tiny_whisper(
    path: str | Path | None = None, *, hidden: int = 32, layers: int = 2, max_length: int = 24, seed: int = 0
) -> Path:
    """A Whisper speech-to-text model (default feature extractor, Whisper's special tokens) saved to ``path``.

    ``max_length`` caps each 30 s window's tokens: random weights rarely end a text on their own,
    and 448 steps per window would make every test slow."""
    import torch
    from transformers import (  # type: ignore[attr-defined]  # transformers 5: WhisperTokenizerFast is an alias
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    folder = _default_dir("whisper", path)
    vocab, merges = _bpe_files(folder, 400, ["<|endoftext|>"])
    tok = WhisperTokenizerFast(
        vocab=vocab,
        merges=merges,
        unk_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    languages = [f"<|{code}|>" for code in _WHISPER_LANGUAGES]
    specials = [
        "<|startoftranscript|>",
        *languages,
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
    ] + [f"<|{i * 0.02:.2f}|>" for i in range(1501)]
    tok.add_tokens(specials, special_tokens=True)
    ids = {t: tok.convert_tokens_to_ids(t) for t in specials[: len(languages) + 7]}
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    # Random weights would pick language and task tokens as "words"; real Whisper never emits them.
    suppress = [i for t, i in ids.items() if t != "<|notimestamps|>"]
    config = WhisperConfig(
        vocab_size=len(tok),
        num_mel_bins=80,
        d_model=hidden,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=hidden * 2,
        decoder_ffn_dim=hidden * 2,
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=ids["<|startoftranscript|>"],
        begin_suppress_tokens=[eot],
        suppress_tokens=suppress,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config)
    with torch.no_grad():  # output head tied to the embeddings: make words likelier than the 1,500
        model.model.decoder.embed_tokens.weight[: ids["<|startoftranscript|>"]].mul_(8.0)  # timestamps
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"],
        eos_token_id=eot,
        pad_token_id=eot,
        bos_token_id=eot,
        max_length=max_length,
        begin_suppress_tokens=[eot],
        suppress_tokens=suppress,
        no_timestamps_token_id=ids["<|notimestamps|>"],
        is_multilingual=True,
        lang_to_id={t: ids[t] for t in languages},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        prev_sot_token_id=ids["<|startofprev|>"],
        forced_decoder_ids=None,
        max_initial_timestamp_index=50,
        return_timestamps=False,
    )
    model.save_pretrained(folder)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(), tokenizer=tok).save_pretrained(folder)
    _cleanup(folder)
    return folder


def tone(seconds: float = 2.0, sampling_rate: int = 16000, frequency: float = 440.0):
    """A float32 sine tone with a little noise (a stand-in clip for speech models' mechanics)."""
    import numpy as np

    t = np.arange(int(seconds * sampling_rate)) / sampling_rate
    noise = np.random.default_rng(0).normal(0, 0.01, t.shape)
    return (0.3 * np.sin(2 * np.pi * frequency * t) + noise).astype(np.float32)


def tiny_vit(
    path: str | Path | None = None,
    *,
    hidden: int = 32,
    image_size: int = 32,
    patch: int = 8,
    labels: tuple[str, ...] = ("red", "green", "blue", "yellow"),
    seed: int = 0,
) -> Path:
    """A ViT image classifier (with ``id2label``) and its image processor saved to ``path``."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification

    folder = _default_dir("vit", path)
    config = ViTConfig(
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        image_size=image_size,
        patch_size=patch,
        id2label=dict(enumerate(labels)),
        label2id={n: i for i, n in enumerate(labels)},
    )
    torch.manual_seed(seed)
    ViTForImageClassification(config).save_pretrained(folder)
    _image_processor("ViTImageProcessor")(size={"height": image_size, "width": image_size}).save_pretrained(
        folder
    )
    return folder
