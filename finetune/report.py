"""What a training run leaves for people to read: ``metrics.json`` and ``loss_curve.png``.

Both are built from the trainer's ``log_history`` (restored from the checkpoint on ``--resume``, so
the curve of a resumed run is complete) and written with write-then-rename.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from common.files import atomic_path, write_json


def loss_points(log_history: list[dict]) -> list[tuple[int, float]]:
    """``(step, loss)`` for every training log entry, one per step (the last one wins)."""
    points = {int(entry["step"]): float(entry["loss"]) for entry in log_history if "loss" in entry and "step" in entry}
    return sorted(points.items())


def plot_loss_curve(
    log_history: list[dict], target: str | Path, title: str = "training loss", resumed_at: int = 0
) -> Path | None:
    """Save the loss curve as a PNG (a dashed line marks a resume); ``None`` when nothing was logged."""
    points = loss_points(log_history)
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, losses = zip(*points)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    ax.plot(steps, losses, marker="o" if len(points) < 40 else None, linewidth=1.5)
    if resumed_at:
        ax.axvline(resumed_at, color="grey", linestyle="--", linewidth=1, label=f"resumed at step {resumed_at}")
        ax.legend(loc="upper right")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (assistant tokens)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(target)


def summarise_step_times(times: list[float]) -> dict:
    """Median/mean seconds per optimizer step, the first (warm-up) step left out when there are more."""
    used = times[1:] if len(times) > 1 else times
    if not used:
        return {"step_time_median_s": None, "step_time_mean_s": None, "timed_steps": 0}
    return {
        "step_time_median_s": round(statistics.median(used), 4),
        "step_time_mean_s": round(statistics.fmean(used), 4),
        "timed_steps": len(used),
    }


def write_metrics(target: str | Path, metrics: dict) -> Path:
    return write_json(target, metrics)
