"""The tally of ``scripts/e2e_under_load.sh``: browser-tier runs in a row, and the load runs beside them.

    python bench/e2e_load_summary.py --runs 10 --passed 10 --seconds 169 175 ... [--logs test-output/e2e-under-load]

Writes ``bench/results/e2e_under_load.json``: runs, passed in a row, seconds a run, and for the 20-student load
benchmark runs that completed beside them (``load-N/load_sessions.json``): how many, how many met every target,
and the worst first-question and answer p95.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common.files import write_json  # noqa: E402
from common.provenance import cpu_name, load_average  # noqa: E402


def load_runs(logs: Path) -> dict:
    """What the load runs beside the browser tier measured (a run killed at the end wrote nothing)."""
    results = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(logs.glob("load-*/load_sessions.json"))]
    met = [all(r["targets"]["met"].values()) for r in results]
    return {"completed": len(results), "met_every_target": sum(met),
            "worst_first_question_p95_s": max((r["quiz_to_first_question_s"]["p95"] for r in results), default=None),
            "worst_answer_to_next_question_p95_s": max((r["answer_to_next_question_s"]["p95"] for r in results),
                                                       default=None),
            "sessions": sorted({r["sessions"] for r in results})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, required=True, help="browser-tier runs asked for")
    parser.add_argument("--passed", type=int, required=True, help="runs passed in a row")
    parser.add_argument("--seconds", type=int, nargs="*", default=[], help="wall seconds of each passed run")
    parser.add_argument("--logs", type=Path, default=ROOT / "test-output/e2e-under-load", help="the script's log folder")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/e2e_under_load.json", help="results JSON")
    args = parser.parse_args(argv)
    result = {"runs": args.runs, "passed_in_a_row": args.passed, "seconds_per_run": args.seconds,
              "load_beside": load_runs(args.logs), "tier": "tests/e2e",
              "load": "bench/load_sessions.py --sessions 20 --clients socket, one run after another",
              "command": f"bash scripts/e2e_under_load.sh {args.runs}", "cpu": cpu_name(), "cores": os.cpu_count(),
              "load_average_end": load_average(), "date": time.strftime("%Y-%m-%d")}
    write_json(args.out, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
