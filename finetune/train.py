"""LoRA / QLoRA supervised fine-tuning with TRL's ``SFTTrainer``; resumable, with metrics and a plot.

    tutor finetune --config finetune/configs/tutor_smollm2.yaml
    tutor finetune --config finetune/configs/tutor_smollm2.yaml --resume          # after a kill
    tutor finetune --config finetune/configs/llama32_3b_finetome.yaml             # GPU + hub access
    python -m finetune.train --config FILE --max_steps 10                         # same, without the CLI

Outputs in ``output_dir``: ``checkpoint-N/`` every ``save_steps`` (resumable), ``run_config.json``,
``metrics.json`` (final loss, steps, tokens, seconds, step time, skipped rows, data sha256, config),
``loss_curve.png`` and the final PEFT adapter in ``adapter/`` (written to a temporary folder and
renamed when complete, so ``adapter/`` is never half-written).

Conversations are tokenised by :mod:`finetune.data` with labels already built (loss on assistant
replies only, see :mod:`finetune.masking`); TRL keeps a ``labels`` column as it is and adds packing
or padding-free batching when asked.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from common.files import atomic_path, write_json
from common.provenance import package_versions
from finetune import checkpoints
from finetune.config import FinetuneConfig
from finetune.memory import peak_rss_mb
from finetune.report import loss_points, plot_loss_curve, summarise_step_times, write_metrics

TRAINING_PACKAGES = ("torch", "transformers", "peft", "trl", "bitsandbytes", "datasets", "accelerate")


class TrainingSetupError(ValueError):
    """The run cannot start as configured (e.g. output_dir holds another run); the message says why."""


def prepare_output_dir(config: FinetuneConfig) -> Path | None:
    """Check ``output_dir`` against ``--resume``/``--overwrite``; return the checkpoint to resume from."""
    out = Path(config.train.output_dir)
    existing = checkpoints.checkpoints(out)
    if config.train.resume:
        last = checkpoints.last_complete(out)
        checkpoints.remove_incomplete_after(out, last)
        if last is None:
            print(f"note: --resume but no complete checkpoint in {out}; starting from step 0", file=sys.stderr)
        return last
    if existing and not config.train.overwrite:
        raise TrainingSetupError(
            f"{out} already holds checkpoints ({existing[-1][1].name}); pass --resume to continue that run or "
            "--overwrite to start afresh"
        )
    for _step, path in existing:
        shutil.rmtree(path, ignore_errors=True)
    return None


def _check_same_run(out: Path, resume_from: Path | None, data_sha256: str, config: FinetuneConfig) -> None:
    """On resume, refuse data that differs from what the checkpoints were trained on."""
    record = out / "run_config.json"
    if resume_from is not None and record.is_file():
        previous = json.loads(record.read_text(encoding="utf-8"))
        if previous.get("data_sha256") != data_sha256:
            raise TrainingSetupError(
                f"--resume: the data differs from the run in {out} (sha256 {data_sha256[:12]} vs "
                f"{str(previous.get('data_sha256'))[:12]}); resume with the same --dataset or use another --output_dir"
            )
        return
    write_json(record, {"config": config.to_dict(), "data_sha256": data_sha256})


def sft_config(config: FinetuneConfig, info: dict, progress: bool = True):
    """TRL ``SFTConfig`` for this run (bf16 only on CUDA: on CPU it was slower and barely learned)."""
    from trl import SFTConfig

    train, data = config.train, config.data
    cuda = info["device"] == "cuda"
    optim = train.optim
    if optim == "auto":
        optim = "adamw_8bit" if cuda and info["quantization"] == "qlora" else "adamw_torch"
    # Sequences are already truncated to max_length by finetune.data; TRL refuses padding-free
    # without packing while max_length is set, so it is only passed where TRL needs it (packing).
    max_length = data.max_length if data.packing or not data.padding_free else None
    return SFTConfig(
        output_dir=train.output_dir, max_steps=train.max_steps, num_train_epochs=train.num_train_epochs,
        learning_rate=train.learning_rate, lr_scheduler_type=train.lr_scheduler_type,
        warmup_steps=train.warmup_steps, weight_decay=train.weight_decay, optim=optim,
        per_device_train_batch_size=train.per_device_train_batch_size,
        gradient_accumulation_steps=train.gradient_accumulation_steps,
        gradient_checkpointing=train.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if train.gradient_checkpointing else None,
        logging_steps=train.logging_steps, save_strategy="steps", save_steps=train.save_steps,
        save_total_limit=train.save_total_limit, seed=train.seed, data_seed=train.seed,
        bf16=cuda, fp16=False, report_to="none", disable_tqdm=not progress,
        max_length=max_length, packing=data.packing, packing_strategy="bfd", padding_free=data.padding_free,
        dataloader_pin_memory=cuda, dataset_num_proc=None,
    )


def _step_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """Wall seconds between optimizer steps (includes logging and checkpoint saves)."""

        def __init__(self) -> None:
            self.times: list[float] = []
            self._last: float | None = None

        def on_train_begin(self, args, state, control, **kwargs):
            self._last = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            now = time.perf_counter()
            if self._last is not None:
                self.times.append(now - self._last)
            self._last = now

    return StepTimer()


def save_adapter(model: Any, target: Path) -> Path:
    """Save the PEFT adapter under a temporary name, then rename it to ``target``."""
    with atomic_path(target, is_dir=True) as staging:
        model.save_pretrained(str(staging))
    return target


def train(config: FinetuneConfig, progress: bool = True) -> dict:
    """Run (or resume) one fine-tuning run; returns the metrics also written to ``metrics.json``."""
    out = Path(config.train.output_dir)
    resume_from = prepare_output_dir(config)

    from finetune.base_model import load_for_training, lora_config
    from finetune.data import build_dataset, load_conversations

    loaded = load_conversations(config.data)  # before the model: a bad --dataset fails in seconds
    model, tokenizer, info = load_for_training(config.model, config.train.gradient_checkpointing)
    dataset, data_report = build_dataset(config.data, tokenizer, progress=progress, loaded=loaded)
    _check_same_run(out, resume_from, data_report.data_sha256, config)

    from trl import SFTTrainer

    timer = _step_timer()
    trainer = SFTTrainer(
        model=model, args=sft_config(config, info, progress), train_dataset=dataset, processing_class=tokenizer,
        peft_config=lora_config(config.model), callbacks=[timer],
    )
    if config.model.fast:  # patch the LoRA-wrapped model in place; a no-op (with the reason) without CUDA
        from finetune.fast import apply as apply_fast

        info["fast"] = apply_fast(trainer.model, config)
        print(f"fast path: {info['fast']}", file=sys.stderr)
    resumed_step = checkpoints.global_step(resume_from) if resume_from else 0
    if resume_from:
        print(f"resuming from {resume_from} (step {resumed_step})", file=sys.stderr)
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    seconds = time.perf_counter() - started
    adapter = save_adapter(trainer.model, out / "adapter")

    history = trainer.state.log_history
    losses = loss_points(history)
    tokens_logged = [entry["num_tokens"] for entry in history if "num_tokens" in entry]
    metrics = {
        "final_loss": losses[-1][1] if losses else None,
        "first_loss": losses[0][1] if losses else None,
        "train_loss_mean": result.training_loss,
        "global_step": trainer.state.global_step,
        "max_steps": trainer.state.max_steps,
        "resumed_from_step": resumed_step,
        "tokens_seen": int(tokens_logged[-1]) if tokens_logged else None,
        "seconds": round(seconds, 2),
        **summarise_step_times(timer.times),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_gpu_mem_gib": _peak_gpu_gib(),
        "data": data_report.to_dict(),
        "rows_skipped": data_report.rows_skipped,
        "skipped": data_report.skipped,
        "data_sha256": data_report.data_sha256,
        **info,
        "adapter": str(adapter),
        "config": config.to_dict(),
        "versions": package_versions(TRAINING_PACKAGES),
    }
    write_metrics(out / "metrics.json", metrics)
    plot_loss_curve(history, out / "loss_curve.png", title=f"{info['model']} - LoRA loss", resumed_at=resumed_step)
    return metrics


def _peak_gpu_gib() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**30, 2)


def main(argv: list[str] | None = None) -> int:
    from finetune.arguments import parse_config

    metrics = train(parse_config(argv))
    print(json.dumps({k: metrics[k] for k in ("final_loss", "global_step", "seconds", "adapter")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
