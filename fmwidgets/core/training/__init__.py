"""Training: finetune (its settings, checks, data, trainer, jobs and result), metrics, the multi-GPU
export script, the monitor interface."""
