"""Which kind of model a checkpoint is, and which head to load it with, read from its config.

The family (encoder, decoder, encoder-decoder, CLIP-style, speech, vision) decides what a model
can do (core/models/registry.py); the head is the one the checkpoint was saved with unless a
task asks for another, so that loading keeps its trained weights.
"""

from __future__ import annotations

from typing import Any

from ...errors import BadArgumentError

_CLIP_TYPES = {"clip", "siglip", "siglip2", "chinese_clip", "altclip", "clipseg", "metaclip_2"}
_ENCODER_TYPES = {
    "bert",
    "roberta",
    "distilbert",
    "albert",
    "electra",
    "deberta",
    "deberta-v2",
    "xlm-roberta",
    "camembert",
    "mpnet",
    "ernie",
    "modernbert",
    "nomic_bert",
    "xlm-roberta-xl",
    "convbert",
    "funnel",
    "mobilebert",
    "squeezebert",
    "layoutlm",
    "megatron-bert",
    "rembert",
    "roformer",
}
_SPEECH_TYPES = {"whisper"}
_VISION_TYPES = {
    "vit",
    "deit",
    "beit",
    "dinov2",
    "swin",
    "convnext",
    "convnextv2",
    "mobilevit",
    "efficientnet",
    "resnet",
    "regnet",
    "levit",
    "dit",
}


def detect_family(config: Any) -> str:
    """'clip', 'speech', 'vision', 'encoder-decoder', 'decoder' or 'encoder', from a transformers config."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    mtype = getattr(config, "model_type", "")
    archs = " ".join(getattr(config, "architectures", None) or [])
    if mtype in _CLIP_TYPES or (
        hasattr(config, "text_config") and hasattr(config, "vision_config") and "CLIP" in archs.upper()
    ):
        return "clip"
    if mtype in _SPEECH_TYPES or "ForSpeechSeq2Seq" in archs:
        return "speech"
    if mtype in _VISION_TYPES or "ForImageClassification" in archs:
        return "vision"
    if getattr(config, "is_encoder_decoder", False):
        return "encoder-decoder"
    if mtype in _ENCODER_TYPES or "MaskedLM" in archs:
        return "encoder"
    if "CausalLM" in archs or "LMHeadModel" in archs or mtype in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return "decoder"
    return "encoder"


def default_head(family: str, config: Any) -> str:
    """The head a checkpoint was saved with, so loading keeps its trained weights."""
    archs = " ".join(getattr(config, "architectures", None) or [])
    if family == "decoder":
        return "causal-lm"
    if family == "encoder-decoder":
        return "seq2seq"
    if family in ("clip", "speech"):
        return family
    if family == "vision":
        return "image-classification"
    if "MaskedLM" in archs or "ForPreTraining" in archs:
        return "masked-lm"
    if "SequenceClassification" in archs:
        return "regression" if getattr(config, "problem_type", None) == "regression" else "classification"
    return "embedding"


def auto_class(head: str):
    import transformers as tf

    return {
        "embedding": tf.AutoModel,
        "clip": tf.AutoModel,
        "causal-lm": tf.AutoModelForCausalLM,
        "masked-lm": tf.AutoModelForMaskedLM,
        "classification": tf.AutoModelForSequenceClassification,
        "regression": tf.AutoModelForSequenceClassification,
        "seq2seq": tf.AutoModelForSeq2SeqLM,
        "speech": tf.AutoModelForSpeechSeq2Seq,
        "image-classification": tf.AutoModelForImageClassification,
    }[head]


def task_head(task: str | None, family: str, config: Any) -> str:
    """The head to load: the task asked for, else the one the checkpoint was saved with."""
    if task is None:
        return default_head(family, config)
    if task in ("causal-lm", "seq2seq") and family not in ("decoder", "encoder-decoder"):
        raise BadArgumentError(
            f"--task {task} needs a decoder model, and this checkpoint is {family}; leave --task out."
        )
    return task
