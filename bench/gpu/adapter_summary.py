"""One JSON (and a printed table) for the adapter v2 GPU run: training, stage times, ARC non-regression.

    python bench/gpu/adapter_summary.py --train DIR --reports DIR --adapter DIR --timings FILE --out FILE

Non-regression (issue 12, item 2): on each test set and scoring mode, the paired 95% CI of the adapter's
accuracy minus the base's has its lower bound at or above -2 points.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FLOOR = -0.02  # lower bound of the paired difference's 95% CI, as a fraction


def stage_seconds(timings: Path) -> dict[str, int]:
    """Seconds from each ``stamp`` (name, time, the call's start) to the next one of the same call; a stage
    run again in a later call (a resumed run) adds up."""
    if not timings.is_file():
        return {}
    marks = [line.split("\t") for line in timings.read_text().splitlines() if line.count("\t") == 2]
    out: dict[str, int] = {}
    for (name, t, call), (_, t_next, call_next) in zip(marks, marks[1:]):
        if call == call_next:
            out[name] = out.get(name, 0) + int(t_next) - int(t)
    return out


def comparison_rows(reports: Path) -> list[dict]:
    rows = []
    for results in sorted(reports.glob("*/results.json")):
        data = json.loads(results.read_text())
        for mode, cmp in data.get("comparison", {}).items():
            low, high = cmp["difference_ci95"]
            rows.append({"data": results.parent.name, "mode": mode, "n": cmp["n"],
                         "base": round(cmp["first_accuracy"], 4), "adapter": round(cmp["second_accuracy"], 4),
                         "difference": round(cmp["difference"], 4), "ci95": [round(low, 4), round(high, 4)],
                         "mcnemar_p": cmp["mcnemar"]["p_value"], "passes": low >= FLOOR,
                         "device": data["settings"].get("device"), "dtype": data["settings"].get("dtype")})
    return rows


def summarise(train: Path, reports: Path, adapter: Path, timings: Path) -> dict:
    metrics = json.loads((train / "metrics.json").read_text()) if (train / "metrics.json").is_file() else {}
    files = sorted(adapter.glob("*")) if adapter.is_dir() else []
    rows = comparison_rows(reports)
    keep = ("final_loss", "first_loss", "global_step", "seconds", "step_time_median_s", "tokens_seen",
            "peak_gpu_mem_gib", "device", "dtype", "data_sha256", "versions")
    return {
        "training": {k: metrics.get(k) for k in keep} | {"rows": metrics.get("data", {}).get("rows_used")},
        "adapter_bytes": sum(f.stat().st_size for f in files),
        "adapter_under_20_mb": 0 < sum(f.stat().st_size for f in files) <= 20_000_000,
        "comparisons": rows,
        "non_regression": {"floor": FLOOR, "all_modes": bool(rows) and all(r["passes"] for r in rows),
                           "loglik": bool(rows) and all(r["passes"] for r in rows if r["mode"] == "loglik")},
        "stage_seconds": stage_seconds(timings),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("train", "reports", "adapter", "timings", "out"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    args = parser.parse_args(argv)
    summary = summarise(args.train, args.reports, args.adapter, args.timings)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{'data':<12} {'mode':<13} {'n':>5} {'base %':>7} {'adapter %':>9} {'diff pp':>8} {'95% CI pp':>16}  >= -2?")
    for r in summary["comparisons"]:
        low, high = (100 * x for x in r["ci95"])
        print(f"{r['data']:<12} {r['mode']:<13} {r['n']:>5} {100 * r['base']:>7.1f} {100 * r['adapter']:>9.1f} "
              f"{100 * r['difference']:>+8.1f} {low:>+7.1f} to {high:>+5.1f}  {'yes' if r['passes'] else 'NO'}")
    print(json.dumps({k: summary[k] for k in ("adapter_bytes", "adapter_under_20_mb", "non_regression", "stage_seconds")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
