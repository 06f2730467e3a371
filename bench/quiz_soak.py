"""Quiz soak: 100 quizzes (1,000 questions) from the embedded model, every one audited.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/quiz_soak.py                    # ~100 quizzes
    HF_HUB_OFFLINE=1 .venv/bin/python bench/quiz_soak.py --quizzes 10 --out /tmp/soak.json

Topics cycle through ``evaluation/data/quiz_topics.txt`` and the edge cases of
:func:`evaluation.quiz_quality.edge_case_topics` (empty, 2 KB, non-English, emoji, markup, prompt
injection), each with a new seed, until ``--quizzes`` quizzes were generated. Checks are the
quiz-quality audit's (:func:`evaluation.quiz_quality.audit_quiz`): 0 invalid quizzes, 0 duplicate
stems or options, no answer letter above 35 % overall, and no failure other than ``QuizUnavailable``.
Prints a table and writes ``bench/results/quiz_soak.json``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.files import write_json  # noqa: E402 (after the path insert: runs as a script)

RESULTS = ROOT / "bench" / "results" / "quiz_soak.json"
MAX_LETTER_SHARE = 0.35


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quizzes", type=int, default=100, help="quizzes to generate (refusals do not count)")
    parser.add_argument("--questions", type=int, default=10, help="questions per quiz")
    parser.add_argument("--topics", type=Path, default=ROOT / "evaluation" / "data" / "quiz_topics.txt",
                        help="ordinary topics, one per line")
    parser.add_argument("--strategy", default="auto", choices=["auto", "template", "free", "mixed"],
                        help="question-writing strategy")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON results go")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    import torch
    from tqdm import tqdm

    from agent.quiz.service import TutorService
    from evaluation.quiz_quality import generate_and_audit, summarise_audits
    from evaluation.quiz_topics import edge_case_topics, load_topics

    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    service = TutorService.create(strategy=args.strategy)
    load_s = time.perf_counter() - started
    stream = request_stream(load_topics(args.topics), edge_case_topics())
    audits = []
    bar = tqdm(total=args.quizzes, desc="quizzes", unit="quiz", file=sys.stderr)
    started = time.perf_counter()
    for seed, topic in enumerate(stream):
        audit = generate_and_audit(service, topic, args.questions, seed)
        audits.append(audit)
        bar.update(audit.status in ("ok", "invalid", "error"))
        if sum(a.status in ("ok", "invalid", "error") for a in audits) >= args.quizzes or seed > 10 * args.quizzes:
            break
    bar.close()
    summary = summarise_audits(audits)
    share = summary["max_letter_share_overall"] or 0.0
    checks = {
        "no invalid quiz": not any(a.status == "invalid" for a in audits),
        "no failure other than QuizUnavailable": not any(a.status == "error" for a in audits),
        "no duplicate stems": summary["duplicate_stems"] == 0,
        "no duplicate options": summary["duplicate_options"] == 0,
        f"no letter above {MAX_LETTER_SHARE:.0%} overall": share <= MAX_LETTER_SHARE,
    }
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "model": service.lm.label,
        "strategy": service.strategy,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "model_load_s": round(load_s, 2),
        "wall_s": round(time.perf_counter() - started, 1),
        "requests": len(audits),
        "checks": checks,
        "passed": all(checks.values()),
        "summary": summary,
        "per_request": [{"topic": a.topic[:120], "status": a.status, "seconds": round(a.seconds, 2),
                         "letters": "".join(a.letters), "verified": a.verified_meta, "message": a.message[:200]}
                        for a in audits],
    }
    write_json(args.out, results, indent=1)
    print(table(results))
    return 0 if results["passed"] else 1


def request_stream(ordinary: list[str], edges: list[str]):
    """Ordinary topics in a cycle with one edge case after every three, so hostile requests spread out."""
    edge_cases = itertools.cycle(edges)
    for i, topic in enumerate(itertools.cycle(ordinary)):
        yield topic
        if i % 3 == 2:
            yield next(edge_cases)


def table(r: dict) -> str:
    s = r["summary"]
    secs = s["seconds_per_quiz"] or {}
    rows = [
        ("requests / quizzes / questions", f"{r['requests']} / {s['quizzes']} / {s['questions']}"),
        ("valid quizzes", f"{s['valid_quizzes']['n']}/{s['valid_quizzes']['of']}"),
        ("QuizUnavailable (clear refusals)", str(len(s["unavailable"]))),
        ("other failures", str(len(s["errors"]))),
        ("duplicate stems / options", f"{s['duplicate_stems']} / {s['duplicate_options']}"),
        ("letters A/B/C/D", " / ".join(str(v) for v in s["letters"].values())),
        ("largest letter share overall / per quiz",
         f"{100 * (s['max_letter_share_overall'] or 0):.1f}% / {100 * (s['max_letter_share_per_quiz'] or 0):.0f}%"),
        ("keys verified (meta) / lexical re-check",
         f"{100 * (s['verified_meta']['rate'] or 0):.1f}% / {100 * (s['recheck_lexical']['rate'] or 0):.1f}%"),
        ("stems passing checks", f"{100 * (s['stem_pass']['rate'] or 0):.1f}%"),
        ("seconds per quiz (median / p90 / max)", f"{secs.get('median')} / {secs.get('p90')} / {secs.get('max')}"),
        ("wall time (s)", str(r["wall_s"])),
    ] + [(name, "pass" if ok else "FAIL") for name, ok in r["checks"].items()]
    width = max(len(a) for a, _ in rows)
    head = f"quiz soak - {r['model']} ({r['strategy']}), {r['threads']} threads, load {r['load_average_end']}"
    return "\n".join([head] + [f"{a.ljust(width)}  {b}" for a, b in rows])


if __name__ == "__main__":
    raise SystemExit(main())
