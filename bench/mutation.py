"""Mutation testing of the pure core with mutmut: grading, key placement, option checks, planning, routing, rules.

    python bench/mutation.py                  # a fresh run (mutants/ rebuilt), then the table and the JSON
    python bench/mutation.py --report-only    # the table and the JSON from the last run's mutants/
    python bench/mutation.py --report-only --note "planning re-run with mutmut run 'agent.quiz.planning*'"

The modules and the fast unit test files each mutant is checked against are in ``[tool.mutmut]`` of
pyproject.toml; mutmut runs only the tests that call the mutated function. The run is CPU-heavy, so it
runs under ``nice -n 10``. Mutants that cannot change behaviour are listed with a reason in
``bench/mutation_equivalent.txt`` (``id  reason``, one a line); a listed mutant that a test kills, or one
that no longer exists, is reported so the list stays true.

Kill rate = (killed + timed out) / (mutants - equivalent): a mutant that makes the tests hang is caught.
Writes ``bench/results/mutation.json`` (per module: mutants, killed, survived, no tests, timeout, equivalent,
kill rate; the surviving and timed-out ids; tool version, command, machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common.files import write_json  # noqa: E402
from common.provenance import cpu_name, load_average, package_versions  # noqa: E402

EQUIVALENT = ROOT / "bench" / "mutation_equivalent.txt"
# The pure core the >= 90 % goal is for; the turn rules are mutated too and reported beside it.
CORE = ("agent/grading.py", "agent/quiz/assemble.py", "agent/quiz/checks.py", "agent/quiz/planning.py",
        "agent/quiz/ordering.py", "agent/graph/routing.py")
OUT = ROOT / "bench" / "results" / "mutation.json"
COMMAND = "python bench/mutation.py"
# mutmut's exit-code meaning (mutmut.stats.status_by_exit_code, 3.8.1): 1 and 3 killed, 0 survived, 5 and 33 no
# tests ran, 36/24/-24/152/255 over the CPU-time limit.
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}


def run_mutmut(max_children: int) -> float:
    """A fresh mutmut run in the repository root (the old ``mutants/`` removed); its wall time in seconds."""
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    # The tests must import the mutated copy under mutants/, never this checkout: drop the root from PYTHONPATH.
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != ROOT]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(path)}
    cmd = ["nice", "-n", "10", sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
    start = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def read_statuses() -> dict[str, dict[str, str]]:
    """{module path: {mutant id: status}} from the ``.meta`` files mutmut leaves under ``mutants/``."""
    found = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        module = meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        found[module] = {key: STATUS.get(code, "suspicious" if code is not None else "not checked")
                         for key, code in codes.items()}
    if not found:
        raise SystemExit("no mutmut results under mutants/: run without --report-only first")
    return found


def read_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """{mutant id: why it cannot change behaviour} from ``path`` (``#`` comments and blank lines skipped)."""
    reasons = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        if line.strip() and not line.startswith("#"):
            key, _, why = line.partition(" ")
            if not why.strip():
                raise SystemExit(f"{path.name}: {key} has no reason")
            reasons[key] = why.strip()
    return reasons


def summarise(statuses: dict[str, dict[str, str]], equivalent: dict[str, str]) -> tuple[dict, list[str]]:
    """Per-module counts and kill rates, and the problems with the equivalent list (killed or unknown ids)."""
    modules, problems = {}, []
    known = {key for found in statuses.values() for key in found}
    problems += [f"{key} is listed as equivalent but is no mutant of this run" for key in equivalent
                 if key not in known]
    for module, found in statuses.items():
        counts = Counter(found.values())
        listed = [key for key in found if key in equivalent]
        problems += [f"{key} is listed as equivalent but a test kills it" for key in listed if found[key] == "killed"]
        same = {key: equivalent[key] for key in listed if found[key] != "killed"}
        caught = counts["killed"] + counts["timeout"]
        judged = len(found) - len(same)
        modules[module] = {
            "mutants": len(found), "killed": counts["killed"], "timeout": counts["timeout"],
            "survived": sum(found[k] == "survived" and k not in same for k in found),
            "no_tests": sum(found[k] == "no tests" and k not in same for k in found),
            "equivalent": len(same), "kill_rate": round(caught / judged, 4) if judged else None,
            "surviving_ids": sorted(k for k, s in found.items() if s in ("survived", "no tests") and k not in same),
            "timeout_ids": sorted(k for k, s in found.items() if s == "timeout"),
            "equivalent_ids": same,
            "other": {s: n for s, n in counts.items() if s not in ("killed", "timeout", "survived", "no tests")},
        }
    return modules, problems


def totals(modules: dict, names: tuple[str, ...] | None = None) -> dict:
    """The counts of ``names`` (every module when None) added up, and their kill rate."""
    keys = ("mutants", "killed", "timeout", "survived", "no_tests", "equivalent")
    chosen = [m for name, m in modules.items() if names is None or name in names]
    total = {k: sum(m[k] for m in chosen) for k in keys}
    judged = total["mutants"] - total["equivalent"]
    total["kill_rate"] = round((total["killed"] + total["timeout"]) / judged, 4) if judged else None
    return total


def table(modules: dict, core: dict, total: dict) -> str:
    rows = ["module                       mutants  killed  timeout  survived  no tests  equivalent  kill rate"]
    for name, m in [*modules.items(), ("core (all but the rules)", core), ("all", total)]:
        rate = "-" if m["kill_rate"] is None else f"{100 * m['kill_rate']:.1f} %"
        rows.append(f"{name:<28} {m['mutants']:>7} {m['killed']:>7} {m['timeout']:>8} {m['survived']:>9} "
                    f"{m['no_tests']:>9} {m['equivalent']:>11} {rate:>10}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-only", action="store_true", help="read the last run's mutants/ instead of running")
    parser.add_argument("--max-children", type=int, default=2, help="mutants checked at once (CPU cores to use)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the JSON goes")
    parser.add_argument("--note", help="how this result came about when not from one fresh run (kept in the JSON)")
    args = parser.parse_args(argv)
    load_before = load_average()
    wall = None if args.report_only else run_mutmut(args.max_children)
    modules, problems = summarise(read_statuses(), read_equivalent())
    core, total = totals(modules, CORE), totals(modules)
    print(table(modules, core, total))
    for problem in problems:
        print("equivalent list:", problem, file=sys.stderr)
    previous = json.loads(args.out.read_text()) if args.report_only and args.out.exists() else {}
    result = {
        "tool": f"mutmut {package_versions(['mutmut'])['mutmut']}", "command": COMMAND,
        "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "max_children": args.max_children,
                    "load_average_at_start": load_before},
        "date": time.strftime("%Y-%m-%d"), "wall_s": previous.get("wall_s") if wall is None else round(wall, 1),
        "kill_rate_definition": "(killed + timeout) / (mutants - equivalent); 'no tests' mutants count as surviving",
        "modules": modules, "core_modules": list(CORE), "core": core, "total": total,
        "equivalent_list_problems": problems,
    }
    if args.note:
        result["note"] = args.note
    if args.report_only and previous:
        result["machine"], result["date"] = previous["machine"], previous["date"]  # the run's, not this read's
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
