"""What a fine-tune is asked to do: ``FinetuneSettings``, every keyword of ``fm.finetune`` that
says how to train (the data frames, the model, the monitor and the engine come beside them).

The defaults live in one place, ``run_finetune``'s signature, which ``fm.finetune`` shows and
``%fm finetune --help`` reads.  ``run_finetune`` builds the settings from its keywords once;
everything after reads them from here: the checks (checks.py), the ``TrainingPlan`` that the
notebook run, the exported script and the Ray Train workers build from (trainer.py), the record.
A new keyword of ``fm.finetune`` is a new field here (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# The learning rate when lr is not given: full fine-tuning, and LoRA adapters (which need more).
DEFAULT_LR = 5e-5
DEFAULT_LORA_LR = 2e-4


@dataclass(frozen=True)
class FinetuneSettings:
    """The settings of one fine-tune, as given (``run_finetune`` documents each)."""

    text: str
    label: str | None
    task: str | None  # None: inferred from the label column (data.py)
    epochs: float
    lr: float | None  # None: DEFAULT_LR, or DEFAULT_LORA_LR with lora (see learning_rate)
    batch_size: int
    max_length: int
    warmup: float
    weight_decay: float
    grad_accum: int
    val_split: float | None
    seed: int
    lora: bool
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    lora_targets: str | list[str] | None
    as_: str | None  # None: NAME-ft
    output_dir: str | None
    export_script: str | None
    overwrite: bool
    strict: bool
    evaluate: bool

    @classmethod
    def of(cls, keywords: dict[str, Any]) -> FinetuneSettings:
        """The settings among ``keywords`` (``run_finetune``'s arguments); the others are left out."""
        return cls(**{f.name: keywords[f.name] for f in fields(cls)})

    @property
    def learning_rate(self) -> float:
        """``lr``, or its default for full fine-tuning or for LoRA."""
        if self.lr is not None:
            return self.lr
        return DEFAULT_LORA_LR if self.lora else DEFAULT_LR

    def record_params(self, **resolved: Any) -> dict[str, Any]:
        """The run record's parameters: the settings with what the run resolved (task, lr, the
        name) in their place, then the run's own facts; the seed is the record's own field."""
        params = {k: v for k, v in asdict(self).items() if k != "seed"}
        params.update(resolved)
        return params
