"""Write an evaluation's outputs: results.json, predictions.jsonl, results.md and a bar chart PNG.

    python -m evaluation.report runs/eval/arc-easy     # re-render results.md and the PNG from results.json

Every file is written to a temporary sibling and renamed into place (:func:`common.files.write_atomic`),
so a reader (or a run that is interrupted) never sees half a file. The chart uses matplotlib's Agg backend (no display).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path

from common.files import write_atomic

RESULTS_JSON = "results.json"
RESULTS_MD = "results.md"
PREDICTIONS = "predictions.jsonl"
CHART = "accuracy.png"
MODE_TITLES = {
    "loglik": "loglik (acc)",
    "loglik_norm": "loglik (acc_norm)",
    "letter_chat": "letter, chat template",
    "letter_plain": "letter, plain prompt",
}


def accuracy_rows(results: dict) -> list[dict]:
    """Flatten ``results["models"]`` into one row per (model, scored quantity) for tables and charts."""
    rows = []
    for model_key, model in results["models"].items():
        for mode, run in model["runs"].items():
            rows.append({"model": model_key, "mode": mode, "n": run["n"], "accuracy": run["accuracy"],
                         "ci95": run["ci95"], "parse_failures": run["parse_failures"],
                         "seconds": run.get("wall_seconds")})
            if "acc_norm" in run:
                rows.append({"model": model_key, "mode": "loglik_norm", "n": run["n"], "accuracy": run["acc_norm"],
                             "ci95": run["acc_norm_ci95"], "parse_failures": 0, "seconds": None})
    return rows


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def markdown(results: dict) -> str:
    """A human-readable summary: settings, one accuracy table, and the paired comparison if any."""
    data, settings = results["data"], results["settings"]
    lines = [
        f"# ARC-style evaluation: {data['source']}",
        "",
        f"- questions scored: {data['n_scored']} (valid rows {data['n_valid']} of {data['n_rows']}, "
        f"skipped malformed: {data['n_skipped']}{' ' + json.dumps(data['skipped']) if data['skipped'] else ''}; "
        f"shots: {settings['shots']})",
        f"- data sha256: `{data['sha256'][:16]}...`, seed {settings['seed']}, limit {settings['limit']}",
        f"- device {settings['device']} ({settings['dtype']}), batch size {settings['batch_size']}, "
        f"prompts {results['prompt_version']}",
    ]
    for key, model in results["models"].items():
        lines.append(f"- {key}: {model['label']}" + (f", adapter `{model['adapter']}`" if model["adapter"] else ""))
    lines += ["", "| model | mode | n | accuracy % | 95% CI | parse failures | seconds |", "|---|---|---|---|---|---|---|"]
    for row in accuracy_rows(results):
        low, high = row["ci95"]
        seconds = f"{row['seconds']:.1f}" if row["seconds"] is not None else ""
        lines.append(
            f"| {row['model']} | {MODE_TITLES.get(row['mode'], row['mode'])} | {row['n']} | {_pct(row['accuracy'])} "
            f"| {_pct(low)}-{_pct(high)} | {row['parse_failures']} | {seconds} |"
        )
    comparison = results.get("comparison") or {}
    if comparison:
        lines += ["", "## Adapter vs base (same questions, same prompts)", "",
                  "| mode | base % | adapter % | difference (pp) | 95% CI (pp) | McNemar p | test | agreement |",
                  "|---|---|---|---|---|---|---|---|"]
        for mode, cmp in comparison.items():
            low, high = cmp["difference_ci95"]
            agreement = cmp.get("prediction_agreement", cmp["correctness_agreement"])
            lines.append(
                f"| {MODE_TITLES.get(mode, mode)} | {_pct(cmp['first_accuracy'])} | {_pct(cmp['second_accuracy'])} "
                f"| {100 * cmp['difference']:+.1f} | {100 * low:+.1f} to {100 * high:+.1f} "
                f"| {cmp['mcnemar']['p_value']:.3g} | {cmp['mcnemar']['method']} | {_pct(agreement)} % |"
            )
    lines += ["", f"Total wall time: {results['wall_seconds']:.1f} s.", ""]
    return "\n".join(lines)


def chart_png(results: dict) -> bytes:
    """Grouped bars (one group per mode, one bar per model) with Wilson 95% error bars and chance level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = accuracy_rows(results)
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    models = list(results["models"])
    width = 0.8 / max(len(models), 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.9 * len(modes) + 1.5), 4.6), dpi=110)
    for m, model in enumerate(models):
        xs, ys, low, high = [], [], [], []
        for x, mode in enumerate(modes):
            row = next((r for r in rows if r["model"] == model and r["mode"] == mode), None)
            if row is None:
                continue
            xs.append(x - 0.4 + width * (m + 0.5))
            ys.append(100 * row["accuracy"])
            low.append(100 * (row["accuracy"] - row["ci95"][0]))
            high.append(100 * (row["ci95"][1] - row["accuracy"]))
        ax.bar(xs, ys, width, yerr=[low, high], capsize=4, label=results["models"][model]["label"]
                      + (" + adapter" if results["models"][model]["adapter"] else ""))
        for x, y in zip(xs, ys):  # value at the bar's foot, clear of the error bar
            ax.text(x, 1.5, f"{y:.1f}", ha="center", va="bottom", fontsize=8, color="white", fontweight="bold")
    chance = results["data"].get("chance_accuracy")
    if chance:
        ax.axhline(100 * chance, color="grey", linestyle="--", linewidth=1, label=f"chance ({100 * chance:.0f} %)")
    ax.set_xticks(range(len(modes)), [MODE_TITLES.get(m, m) for m in modes], fontsize=8)
    ax.set_ylabel("accuracy % (95% Wilson CI)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{Path(results['data']['source']).name}: n = {results['data']['n_scored']}", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def write_outputs(out_dir: str | Path, results: dict, predictions: Iterable[dict]) -> dict[str, Path]:
    """Write all four files under ``out_dir``; returns their paths by name."""
    out = Path(out_dir)
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in predictions)
    return {
        "predictions": write_atomic(out / PREDICTIONS, lines),
        "markdown": write_atomic(out / RESULTS_MD, markdown(results)),
        "chart": write_atomic(out / CHART, chart_png(results)),
        "results": write_atomic(out / RESULTS_JSON, json.dumps(results, indent=2, ensure_ascii=False) + "\n"),
    }


def rerender(out_dir: str | Path) -> None:
    """Rewrite results.md and the chart from an existing results.json (e.g. after a report change)."""
    out = Path(out_dir)
    results = json.loads((out / RESULTS_JSON).read_text())
    write_atomic(out / RESULTS_MD, markdown(results))
    write_atomic(out / CHART, chart_png(results))


if __name__ == "__main__":
    import sys

    for folder in sys.argv[1:]:
        rerender(folder)
