"""Interleaved benchmark repeats (bench/interleave.py, bench/serve_loop.py): order, statistics, protocol.

    PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_bench_interleave.py -q
"""

from __future__ import annotations

import io
import json
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from bench.interleave import Variant, Worker, measure_all, merged_start, ratio, schedule, summarise
from bench.serve_loop import serve

ROOT = Path(__file__).resolve().parents[2]
P, F, U = Variant("project", "project"), Variant("fp8", "project", {"options": {"fp8_base": "all"}}), \
    Variant("unsloth", "unsloth")


def test_schedule_measures_everything_equally_often_and_rotates_who_goes_first():
    plan = schedule([P, F, U], [2, 4], repeats=3)
    assert len(plan) == 3 * 2 * 3
    assert set(Counter((v.name, b) for _, b, v in plan).values()) == {3}
    firsts = [plan[i][2].name for i in range(0, len(plan), 3)]  # first variant at each (repeat, batch)
    assert firsts == ["project", "project", "fp8", "fp8", "unsloth", "unsloth"]
    assert [r for r, _, _ in plan] == sorted(r for r, _, _ in plan)  # repeats outermost


def test_summary_is_the_median_with_its_spread_and_the_highest_peak():
    results = [{"variant": "a", "batch": 2, "tokens_per_s": t, "peak_gib": g}
               for t, g in ((100.0, 3.0), (120.0, 3.1), (90.0, 3.0))]
    results.append({"variant": "a", "batch": 2, "error": "out of memory"})
    results.append({"variant": "b", "batch": 2, "tokens_per_s": 50.0, "peak_gib": 2.0})
    rows = {r["variant"]: r for r in summarise(results)}
    a = rows["a"]
    assert (a["tokens_per_s"], a["min"], a["max"], a["peak_gib"], a["errors"]) == (100.0, 90.0, 120.0, 3.1, 1)
    assert abs(a["spread"] - 0.3) < 1e-12 and a["repeats"] == [100.0, 120.0, 90.0]
    assert ratio(list(rows.values()), "a", "b", 2) == 2.0
    assert ratio(list(rows.values()), "a", "missing", 2) is None


def test_a_variant_whose_every_repeat_failed_has_no_speed():
    rows = summarise([{"variant": "a", "batch": 4, "error": "x"}])
    assert rows == [{"variant": "a", "batch": 4, "repeats": [], "errors": 1}]
    assert ratio(rows, "a", "a", 4) is None


class _FakeWorker:
    def __init__(self, speed):
        self.speed, self.requests = speed, []

    def ask(self, request, timeout):
        self.requests.append(request)
        return {"id": 1, "tokens_per_s": self.speed * request["batch"], "peak_gib": 1.0}


def test_measure_all_routes_each_request_to_its_stack_and_stops_at_the_deadline():
    workers = {"project": _FakeWorker(10), "unsloth": _FakeWorker(7)}
    plan = schedule([P, F, U], [2], repeats=1) + [(0, 4, Variant("lever", "project", {"steps": 6}))]
    results = measure_all(workers, plan, steps=12, deadline=time.monotonic() + 60)
    assert [r["tokens_per_s"] for r in results] == [20, 20, 14, 40]
    assert workers["project"].requests[1] == {"batch": 2, "steps": 12, "options": {"fp8_base": "all"}}
    assert workers["project"].requests[2]["steps"] == 6  # a variant's own steps win
    assert all("id" not in r for r in results)
    late = measure_all(workers, plan[:1], steps=12, deadline=time.monotonic() - 1)
    assert late[0]["error"].startswith("skipped") and len(workers["project"].requests) == 3
    missing = measure_all({}, plan[:1], steps=12, deadline=time.monotonic() + 60)
    assert missing[0]["error"] == "no project worker"


def test_serve_answers_in_order_and_survives_a_failing_request():
    def measure(request):
        if request["batch"] == 3:
            raise MemoryError("too big")
        return {"tokens_per_s": request["batch"] * 100}

    stdin = io.StringIO('{"id": 1, "batch": 2}\n\nnot json\n{"id": 2, "batch": 3}\n{"id": 3, "batch": 4}\n')
    stdout = io.StringIO()
    assert serve(measure, {"stack": "x"}, stdin, stdout) == 3
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert lines[0] == {"ready": True, "stack": "x"}
    assert lines[1] == {"id": 1, "tokens_per_s": 200}
    assert "bad request" in lines[2]["error"]
    assert lines[3] == {"id": 2, "error": "MemoryError: too big"}
    assert lines[4] == {"id": 3, "tokens_per_s": 400}


_WORKER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {bench!r})
    from serve_loop import serve
    print("a banner line that is not JSON", flush=True)

    def measure(request):
        if request["batch"] == 0:
            time.sleep(5)
        if request["batch"] < 0:
            sys.exit(3)
        return {{"tokens_per_s": request["batch"] * 10.0, "peak_gib": 1.5}}

    serve(measure, {{"stack": "fake"}})
""")


def test_worker_process_protocol_timeouts_and_death(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(_WORKER.format(bench=str(ROOT / "bench")))
    worker = Worker("fake", [sys.executable, str(script)], {}, tmp_path / "log.txt", tmp_path)
    assert worker.wait_ready(30) == {"ready": True, "stack": "fake"}
    assert worker.ask({"batch": 2}, 30) == {"id": 1, "tokens_per_s": 20.0, "peak_gib": 1.5}
    assert "no answer within 0 s" in worker.ask({"batch": 0}, 0.2)["error"]
    assert worker.ask({"batch": 4}, 30)["tokens_per_s"] == 40.0  # the late answer to request 2 is skipped
    started = time.monotonic()
    assert "no answer" in worker.ask({"batch": -1}, 30)["error"]  # died: answered at once, not after 30 s
    assert time.monotonic() - started < 10 and worker.proc.wait(10) == 3
    assert "is gone" in worker.ask({"batch": 2}, 30)["error"]  # its stdin is closed now
    worker.close()
    assert "a banner line" in (tmp_path / "log.txt").read_text()


def test_merge_keeps_what_an_earlier_call_measured_and_drops_what_is_measured_again(tmp_path):
    fresh = {"levers": [], "errors": []}
    assert merged_start(tmp_path, ["correctness"], fresh) == ([], fresh)  # nothing there yet
    rows = [{"stack": s, "batch": 2} for s in ("project", "project-fp8", "unsloth", "plain")]
    (tmp_path / "train_throughput.json").write_text(json.dumps(rows))
    (tmp_path / "train_throughput_details.json").write_text(json.dumps({"levers": [1], "errors": ["old"]}))
    kept, details = merged_start(tmp_path, ["correctness"], fresh)
    assert kept == rows and details == {"levers": [1], "errors": []}
    kept, _ = merged_start(tmp_path, ["interleaved"], fresh)
    assert [r["stack"] for r in kept] == ["plain"]
