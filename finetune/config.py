"""Typed configuration of a fine-tuning run: three dataclasses, every field documented.

Same shape as TRL's scripts (``ScriptArguments`` / ``ModelConfig`` / ``SFTConfig``): the field names
are flat and unique across the three classes, so one YAML file (``finetune/configs/*.yaml``) or one
command line sets any of them::

    tutor finetune --config finetune/configs/tutor_smollm2.yaml --max_steps 20 --learning_rate 1e-4

Parsing (YAML + overrides) lives in :mod:`finetune.arguments`; this module is pure data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


def _help(text: str, **kwargs) -> dict:
    return {"help": text, **kwargs}


@dataclass
class ModelArguments:
    """Which base model to adapt, and the LoRA adapter's shape."""

    model: str = field(
        default="embedded",
        metadata=_help(
            "Base model spec: 'embedded' (SmolLM2-135M-Instruct), a hub id, a local HF folder or a .gguf file "
            "(converted to an HF folder in the cache before training)."
        ),
    )
    quantization: Literal["auto", "qlora", "none"] = field(
        default="auto",
        metadata=_help(
            "'qlora': 4-bit NF4 base (bitsandbytes, double quantisation, bf16 compute) + LoRA; 'none': plain LoRA "
            "on an unquantised base (fp32 on CPU); 'auto': qlora when CUDA is present, else none."
        ),
    )
    lora_r: int = field(default=16, metadata=_help("LoRA rank (width of the low-rank update)."))
    lora_alpha: int = field(default=16, metadata=_help("LoRA alpha (the update is scaled by alpha / r)."))
    lora_dropout: float = field(default=0.0, metadata=_help("Dropout on the LoRA branch."))
    target_modules: str = field(
        default="all-linear",
        metadata=_help("Modules that get LoRA: 'all-linear' or a comma-separated list such as 'q_proj,v_proj'."),
    )
    use_rslora: bool = field(default=False, metadata=_help("Rank-stabilised LoRA (scale alpha / sqrt(r))."))
    fast: bool = field(
        default=True,
        metadata=_help(
            "The fast QLoRA path on CUDA (finetune/fast: fused NF4+LoRA autograd, chunked cross-entropy, Liger "
            "kernels when installed, offloaded activation checkpointing). `--fast false` runs the plain "
            "transformers/PEFT path. No effect without CUDA."
        ),
    )


@dataclass
class DataArguments:
    """Where the conversations come from and how they become token sequences."""

    dataset: str = field(
        default="",
        metadata=_help(
            "Training data: a local .jsonl/.json/.parquet file or a hub dataset id (needs network). Rows in ShareGPT "
            "('conversations' with from/value), 'messages' (role/content) or prompt/completion format."
        ),
    )
    dataset_split: str = field(default="train", metadata=_help("Split to read from a hub dataset."))
    dataset_format: Literal["auto", "sharegpt", "messages", "prompt_completion"] = field(
        default="auto", metadata=_help("Row format; 'auto' detects it per row from the keys present.")
    )
    max_rows: int | None = field(default=None, metadata=_help("Use only the first N rows (quick runs)."))
    max_length: int = field(
        default=2048, metadata=_help("Longest token sequence; longer conversations are truncated at the end.")
    )
    assistant_turns: Literal["all", "last"] = field(
        default="all",
        metadata=_help(
            "Which assistant turns carry loss: 'all' (every assistant reply) or 'last' (TRL's prompt/completion "
            "view: everything before the last reply is prompt). Prompt tokens never carry loss."
        ),
    )
    packing: bool = field(
        default=False,
        metadata=_help("Pack several conversations into each max_length row (TRL best-fit-decreasing, padding-free)."),
    )
    padding_free: bool = field(
        default=False,
        metadata=_help("Concatenate a batch into one row with position ids instead of padding (no packing)."),
    )


@dataclass
class TrainArguments:
    """Optimisation, checkpoints and outputs."""

    output_dir: str = field(
        default="runs/finetune",
        metadata=_help("Run folder: checkpoints, metrics.json, loss_curve.png and the final adapter/ go here."),
    )
    max_steps: int = field(default=-1, metadata=_help("Optimizer steps to run; -1 means num_train_epochs."))
    num_train_epochs: float = field(default=1.0, metadata=_help("Epochs over the data when max_steps is -1."))
    learning_rate: float = field(default=2e-4, metadata=_help("Peak learning rate."))
    lr_scheduler_type: str = field(default="linear", metadata=_help("transformers scheduler name."))
    warmup_steps: int = field(default=5, metadata=_help("Linear warm-up steps."))
    weight_decay: float = field(default=0.01, metadata=_help("AdamW weight decay."))
    optim: str = field(
        default="auto",
        metadata=_help("Optimizer name for transformers; 'auto': adamw_8bit with QLoRA on CUDA, else adamw_torch."),
    )
    per_device_train_batch_size: int = field(default=2, metadata=_help("Sequences per forward pass."))
    gradient_accumulation_steps: int = field(default=4, metadata=_help("Forward passes per optimizer step."))
    gradient_checkpointing: bool = field(
        default=True, metadata=_help("Recompute activations in the backward pass (less memory, fewer tokens/s; "
                                     "the fast path's cost: bench/results/train_throughput_details.json).")
    )
    logging_steps: int = field(default=1, metadata=_help("Log loss every N steps (also the loss-curve resolution)."))
    save_steps: int = field(default=50, metadata=_help("Write a resumable checkpoint every N steps."))
    save_total_limit: int = field(default=2, metadata=_help("Keep only the newest N checkpoints."))
    seed: int = field(default=42, metadata=_help("Seed for LoRA init, shuffling and dropout."))
    resume: bool = field(
        default=False, metadata=_help("Continue from the newest complete checkpoint in output_dir (after a kill).")
    )
    overwrite: bool = field(
        default=False, metadata=_help("Start afresh even though output_dir already holds checkpoints.")
    )


CONFIG_CLASSES = (ModelArguments, DataArguments, TrainArguments)


@dataclass
class FinetuneConfig:
    """The three argument groups of one run."""

    model: ModelArguments = field(default_factory=ModelArguments)
    data: DataArguments = field(default_factory=DataArguments)
    train: TrainArguments = field(default_factory=TrainArguments)

    def to_dict(self) -> dict:
        """Flat ``{field: value}``, the same keys a YAML config uses (recorded in metrics.json)."""
        return {**asdict(self.model), **asdict(self.data), **asdict(self.train)}
