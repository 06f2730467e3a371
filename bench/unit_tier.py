"""How long the unit tier takes (issue 17: the whole tier under 60 s on a 2-core machine), over several runs.

    PYTHONPATH=$PWD .venv/bin/python bench/unit_tier.py --runs 3      # prints a table, writes bench/results/unit_tier.json

Runs ``python -m pytest tests/unit -q -p no:cacheprovider`` as a whole process (collection and imports
included, as a developer runs it), one run after another; records each run's wall seconds, the tests passed,
the machine and its load average before and after. Run it on a quiet machine: other processes slow it.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common.files import write_json  # noqa: E402
from common.provenance import cpu_name, load_average  # noqa: E402

COMMAND = [sys.executable, "-m", "pytest", "tests/unit", "-q", "-p", "no:cacheprovider"]
TARGET_S = 60.0


def one_run() -> dict:
    start = time.monotonic()
    done = subprocess.run(COMMAND, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - start
    tail = (done.stdout.strip().splitlines() or [""])[-1]
    passed = re.search(r"(\d+) passed", tail)
    return {"wall_s": round(wall, 2), "exit_code": done.returncode, "passed": int(passed.group(1)) if passed else 0,
            "summary": tail}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs, one after another")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/unit_tier.json", help="results JSON")
    args = parser.parse_args(argv)
    before = load_average()
    runs = [one_run() for _ in range(args.runs)]
    walls = [r["wall_s"] for r in runs]
    result = {"command": "python -m pytest tests/unit -q -p no:cacheprovider", "runs": runs,
              "median_wall_s": statistics.median(walls), "max_wall_s": max(walls), "target_s": TARGET_S,
              "met": all(r["exit_code"] == 0 for r in runs) and max(walls) <= TARGET_S,
              "cpu": cpu_name(), "cores": os.cpu_count(), "load_average": {"before": before, "after": load_average()},
              "date": time.strftime("%Y-%m-%d")}
    write_json(args.out, result)
    print("| run | wall s | passed | exit |\n|---|---|---|---|")
    for i, r in enumerate(runs, 1):
        print(f"| {i} | {r['wall_s']} | {r['passed']} | {r['exit_code']} |")
    print(f"median {result['median_wall_s']} s, max {result['max_wall_s']} s (target <= {TARGET_S:.0f} s); wrote {args.out}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
