"""Training: finetune, its data checks, metrics, the multi-GPU export script, the monitor interface."""
