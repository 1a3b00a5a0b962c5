"""How a fine-tune trains: ``FinetuneSettings``, the keywords of ``fm.finetune`` beside the data
(which rows and columns: ``run_finetune``'s own parameters), the model, the monitor and where it
runs (``engines.Engine``).

Each setting and its default are written here once: ``run_finetune`` lists the fields as its
keywords through ``signatures.expands`` (``fm.finetune(df, text="review", epochs=2)``, what
``help()`` and ``%fm finetune --help`` show) and hands one ``FinetuneSettings`` on.  Everything
after reads it: the checks (checks.py), the ``TrainingPlan`` that the notebook run, the exported
script and the Ray Train workers build from (trainer.py), and the run record.  A new keyword of
``fm.finetune`` is a new field here, and a flag of ``%fm finetune`` (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

# The learning rate when lr is not given: full fine-tuning, and LoRA adapters (which need more).
DEFAULT_LR = 5e-5
DEFAULT_LORA_LR = 2e-4


@dataclass(frozen=True)
class FinetuneSettings:
    """The settings of one fine-tune (``run_finetune`` documents each)."""

    epochs: float = 3
    lr: float | None = None  # None: DEFAULT_LR, or DEFAULT_LORA_LR with lora (see learning_rate)
    batch_size: int = 8
    max_length: int = 128
    warmup: float = 0.0
    weight_decay: float = 0.0
    grad_accum: int = 1
    val_split: float | None = None  # None: data.DEFAULT_VAL_SPLIT (none with evaluate=False)
    seed: int = 42
    method: str = "supervised"  # or "dpo" / "kto": preference tuning through TRL (preference.py)
    beta: float = 0.1  # dpo / kto: how far the tuned model may move from the reference (the base)
    lora: bool | None = None  # None: LoRA for dpo / kto (one copy of the weights), else full (resolved)
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_targets: str | list[str] | None = None  # None: peft's default for the architecture
    as_: str | None = None  # None: NAME-ft
    output_dir: str | None = None
    export_script: str | None = None
    overwrite: bool = False
    strict: bool = False
    evaluate: bool = True

    def resolved(self) -> FinetuneSettings:
        """These settings with what None stands for decided: ``lora`` (adapters for dpo / kto)."""
        if self.lora is not None:
            return self
        return replace(self, lora=self.method != "supervised")

    @property
    def learning_rate(self) -> float:
        """``lr``, or its default for full fine-tuning or for LoRA."""
        if self.lr is not None:
            return self.lr
        return DEFAULT_LORA_LR if self.lora else DEFAULT_LR

    def record_params(self, **resolved: Any) -> dict[str, Any]:
        """The settings as the run record notes them: what the run resolved (the learning rate,
        the tuned model's name) in their place; the seed is the record's own field."""
        params = {k: v for k, v in asdict(self).items() if k != "seed"}
        params.update(resolved)
        return params
