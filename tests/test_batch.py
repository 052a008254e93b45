"""Batch runs (rewrite.batch, `rewrite batch`): results equal one-by-one runs; an interrupted run
restarted with the same output finishes without redoing or losing items; a per-item budget; the
same on a two-worker Dask LocalCluster where `distributed` is installed."""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rewrite
from rewrite.batch import batch, finished_ids, run_item
from rewrite.cli import main

DATA = Path(__file__).parent / "data"
GRADIENTS = json.loads((DATA / "gradients.json").read_text())["entries"]
IDENTITIES = json.loads((DATA / "identities.json").read_text())["identities"]


def _items(n_gradients: int | None = None, n_identities: int | None = None) -> list[dict]:
    """The catalogue as batch items (its gradients and identities; the first n of each)."""
    items = [{"id": e["id"], "f": e["f"], "wrt": e["wrt"], "vars": e["vars"]} for e in GRADIENTS[:n_gradients]]
    # (an identity and a gradient may share an id: the identities' get a prefix)
    items += [{"id": "identity:" + e["id"], "kind": "verify", "lhs": e["lhs"], "rhs": e["rhs"], "vars": e.get("vars", {})}
              for e in IDENTITIES[:n_identities]]
    return items


def _essence(record: dict):
    """What must not depend on how the item was run: the answer and the proof's steps."""
    r = record.get("result") or {}
    proof = r.get("proof") or {}
    return (record["status"], r.get("gradient"), r.get("status"), json.dumps(proof.get("steps")),
            json.dumps(proof.get("claim")))


@pytest.fixture(scope="module")
def one_by_one():
    return {it["id"]: _essence(run_item(it)) for it in _items()}


SUBSET = {"n_gradients": 30, "n_identities": 10}   # for the runs that are stopped and restarted


def test_a_parallel_batch_of_the_catalogue_equals_one_by_one_runs(tmp_path, one_by_one):
    out = tmp_path / "out.jsonl"
    records = batch(_items(), jobs=2, output=out)
    assert sorted(r["id"] for r in records) == sorted(one_by_one)
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["id"]: _essence(r) for r in written} == one_by_one
    assert all(rewrite.check(r["result"]["proof"]).ok for r in written if r["status"] in ("ok", "proved"))
    assert batch(_items(), jobs=2, output=out) == []   # everything is there already


def test_an_interrupted_batch_resumes_without_redoing_or_losing_items(tmp_path, one_by_one):
    items = tmp_path / "items.jsonl"
    subset = _items(**SUBSET)
    expected = {it["id"]: one_by_one[it["id"]] for it in subset}
    items.write_text("".join(json.dumps(it) + "\n" for it in subset))
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "rewrite", "batch", str(items), "--jobs", "2", "--output", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 8):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)   # the whole process group: the pool's workers too
    proc.wait()
    before = out.read_text().splitlines()
    assert 8 <= len(before) < len(expected), "the run was not stopped halfway"
    with out.open("a") as fh:   # as if it died while writing a line
        fh.write('{"id": "cut sh')
    assert subprocess.run(cmd, capture_output=True, timeout=300).returncode == 0
    after = [json.loads(line) for line in out.read_text().splitlines()]
    ids = [r["id"] for r in after]
    assert len(ids) == len(set(ids)) == len(expected)             # none twice, none lost
    assert [json.loads(line)["id"] for line in before] == ids[:len(before)]   # none redone
    assert {r["id"]: _essence(r) for r in after} == expected


def test_items_report_their_own_problems(tmp_path):
    records = {r["id"]: r for r in batch([
        {"id": "bad", "f": "tr(X", "wrt": "X"},
        {"id": "kind", "kind": "integrate", "f": "x"},
        {"id": "missing", "kind": "verify_gradient", "f": "x'*x", "wrt": "x"},
        {"id": "slow", "f": "tr(" + "*".join(f"A{i}*X" for i in range(1, 16)) + ")", "wrt": "X"},
    ], budget=0.05)}
    assert records["bad"]["status"] == "error" and "expected ')'" in records["bad"]["error"]
    assert records["kind"]["status"] == "error" and "unknown kind" in records["kind"]["error"]
    assert "needs 'claim'" in records["missing"]["error"]
    assert records["slow"]["status"] == "unknown" and "budget of 0.05 s" in records["slow"]["error"]


def test_a_cut_last_line_is_dropped(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a", "status": "ok"}\n{"id": "b", "sta')
    assert finished_ids(out) == {"a"}
    assert out.read_text() == '{"id": "a", "status": "ok"}\n'


def test_the_command_line(tmp_path, capsys):
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "a", "f": "tr(A*X*B)", "wrt": "X"}\n# a comment\n{"claim": "tr(A*B) = tr(B*A)"}\n')
    assert main(["batch", str(items)]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert {r["id"] for r in lines} == {"a", "line-3"}
    assert "2 items run" in captured.err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n")
    assert main(["batch", str(bad)]) == 2
    assert "line 1: not JSON" in capsys.readouterr().err


def test_on_a_two_worker_dask_cluster(tmp_path, one_by_one):
    if importlib.util.find_spec("distributed") is None:
        pytest.skip("Dask's distributed is not installed (the optional extra: pip install distributed)")
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        subset = _items(**SUBSET)
        records = batch(subset, output=tmp_path / "out.jsonl", scheduler=client)
    assert {r["id"]: _essence(r) for r in records} == {it["id"]: one_by_one[it["id"]] for it in subset}
