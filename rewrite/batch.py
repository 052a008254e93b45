"""Batch runs: many derivations and verifications from a JSON-lines file, in parallel.

    rewrite batch items.jsonl --jobs 4 --output results.jsonl

Each input line is one item, a JSON object:

    {"id": "a", "f": "tr(A*X*B)", "wrt": "X", "vars": {"X": "n x m"}}          derive (the default)
    {"id": "b", "kind": "hessian", "f": "x'*A*x", "wrt": "x"}                  hessian, derivative, vjp
    {"id": "c", "kind": "verify", "claim": "tr(A*B) = tr(B*A)"}                verify ("lhs", "rhs" too)
    {"id": "d", "kind": "verify_gradient", "f": "x'*x", "wrt": "x", "claim": "2*x"}

Each output line is the item's result: {"id", "kind", "status", "result"} where status is "ok"
(a derivation), "proved" / "refuted" / "unknown" (a verification), "error" (bad input; "error"
holds the message) or "unknown" (a budget was reached); "result" is the result's `as_dict()`,
proofs included.  A line is written (and flushed to disk) as soon as its item finishes, so an
interrupted run loses nothing finished; run it again with the same output and it skips the items
already there (a half-written last line is dropped and its item run again).  Items run in a
process pool (`jobs`), or on a Dask cluster (`scheduler`: the address of a `distributed`
scheduler, an optional extra).  `budget` bounds the seconds of one item; past it the item is
"unknown".
"""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import InputError

KINDS = ("derive", "derivative", "hessian", "vjp", "verify", "verify_gradient")
DEFAULT_BUDGET = 60.0


class _Timeout(Exception):
    pass


def read_items(path: str | Path) -> list[dict]:
    """The items of a JSON-lines file ("-": standard input; blank lines and lines starting with #
    skipped); an item without an "id" gets "line-N"."""
    items, seen = [], set()
    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}, line {n}: not JSON ({err.msg})") from None
        if not isinstance(item, dict):
            raise InputError(f"{path}, line {n}: an item is a JSON object")
        item = {"id": f"line-{n}", **item}
        item["id"] = str(item["id"])
        if item["id"] in seen:
            raise InputError(f"{path}, line {n}: the id {item['id']!r} occurs twice")
        seen.add(item["id"])
        items.append(item)
    return items


def kind_of(item: dict) -> str:
    kind = item.get("kind") or ("verify" if "claim" in item or "lhs" in item else "derive")
    if kind not in KINDS:
        raise InputError(f"item {item.get('id')}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    return kind


def run_item(item: dict, budget: float = DEFAULT_BUDGET) -> dict:
    """One item's output record (never raises for the item's own problems)."""
    import rewrite
    from .errors import RewriteError, UnknownResult

    t0 = time.perf_counter()
    record: dict[str, Any] = {"id": item.get("id")}
    previous = _alarm(budget)
    try:
        kind = record["kind"] = kind_of(item)
        vars = item.get("vars") or {}
        if kind == "verify":
            claim = item.get("claim") or f"{_need(item, 'lhs')} = {_need(item, 'rhs')}"
            result = rewrite.verify(claim, vars=vars)
            record["status"] = result.status
        elif kind == "verify_gradient":
            result = rewrite.verify_gradient(_need(item, "f"), _need(item, "wrt"), _need(item, "claim"), vars)
            record["status"] = result.status
        else:
            run = {"derive": rewrite.derive, "derivative": rewrite.derivative, "hessian": rewrite.hessian}.get(kind)
            if kind == "vjp":
                result = rewrite.vjp(_need(item, "f"), _need(item, "wrt"), item.get("cotangent", "G"), vars)
            else:
                result = run(_need(item, "f"), _need(item, "wrt"), vars)
            record["status"] = "ok"
        record["result"] = result.as_dict()
    except _Timeout:
        record.update(status="unknown", error=f"the item's budget of {budget:g} s was reached")
    except UnknownResult as err:
        record.update(status="unknown", error=str(err))
    except InputError as err:
        record.update(status="error", error=str(err))
    except (RewriteError, RecursionError, MemoryError) as err:
        record.update(status="error", error=f"{type(err).__name__}: {err}")
    finally:
        _alarm(0, previous)
    record["seconds"] = round(time.perf_counter() - t0, 4)
    return record


def _need(item: dict, key: str):
    if key not in item:
        raise InputError(f"item {item.get('id')}: needs {key!r}")
    return item[key]


def _alarm(seconds: float, previous=None):
    """Arm (or with 0, disarm and restore) a timer that raises _Timeout in this process; only
    where signals work (the main thread of a Unix process)."""
    if not hasattr(signal, "setitimer"):
        return None
    try:
        if seconds > 0:
            def expire(signum, frame):
                raise _Timeout()
            old = signal.signal(signal.SIGALRM, expire)
            signal.setitimer(signal.ITIMER_REAL, seconds)
            return old
        signal.setitimer(signal.ITIMER_REAL, 0)
        if previous is not None:
            signal.signal(signal.SIGALRM, previous)
    except ValueError:   # not the main thread (a Dask worker thread): no timer
        return None
    return None


# --- the output file ---------------------------------------------------------------------------
def finished_ids(path: Path) -> set[str]:
    """The ids already in the output; a last line cut short by an interruption is removed."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep < len(data):   # the last line has no newline: it was being written
        with open(path, "r+b") as fh:
            fh.truncate(keep)
    ids = set()
    for line in data[:keep].decode("utf-8", errors="replace").splitlines():
        try:
            ids.add(str(json.loads(line)["id"]))
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return ids


class _Writer:
    def __init__(self, path: Path | None):
        self.fh = open(path, "a", encoding="utf-8") if path is not None else None

    def write(self, record: dict) -> None:
        if self.fh is None:
            return
        self.fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())   # a finished item survives a crash of this process

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


class Progress:
    """A one-line progress bar on a terminal (nothing otherwise)."""

    def __init__(self, total: int, stream=sys.stderr, enabled: bool | None = None):
        self.total, self.done, self.failed, self.stream = total, 0, 0, stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.t0 = time.perf_counter()

    def step(self, record: dict) -> None:
        self.done += 1
        self.failed += record.get("status") in ("error", "unknown")
        if self.enabled:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                              f"({self.failed} error or unknown) {time.perf_counter() - self.t0:.0f} s")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


# --- running -----------------------------------------------------------------------------------------
def batch(items: Iterable[dict] | str | Path, *, jobs: int = 1, output: str | Path | None = None,
          budget: float = DEFAULT_BUDGET, scheduler: str | None = None,
          progress: bool | None = False) -> list[dict]:
    """Run the items (a list of dicts or a JSON-lines path); returns the records of the items run
    now (those already in `output` are skipped).  See the module's docstring."""
    todo = read_items(items) if isinstance(items, (str, Path)) else [
        {"id": str(it.get("id", f"item-{i}")), **{k: v for k, v in it.items() if k != "id"}}
        for i, it in enumerate(items, start=1)]
    path = Path(output) if output is not None else None
    done = finished_ids(path) if path is not None else set()
    todo = [it for it in todo if it["id"] not in done]
    writer, bar = _Writer(path), Progress(len(todo), enabled=progress)
    records: list[dict] = []
    try:
        runner = _on_dask if scheduler else _in_processes
        for record in runner(todo, jobs, budget, scheduler):
            writer.write(record)
            records.append(record)
            bar.step(record)
    finally:
        writer.close()
        bar.close()
    return records


def _in_processes(items: list[dict], jobs: int, budget: float, scheduler) -> Iterator[dict]:
    if jobs <= 1:
        for item in items:
            yield run_item(item, budget)
        return
    # spawned, not forked: a fork of a process whose engine threads are running can hang
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = {}
        queue = iter(items)
        for item in queue:   # keep 2 per worker in flight, so that a long queue costs no memory
            pending[pool.submit(run_item, item, budget)] = item
            if len(pending) >= 2 * jobs:
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                item = pending.pop(fut)
                yield _record_of(fut, item)
                nxt = next(queue, None)
                if nxt is not None:
                    pending[pool.submit(run_item, nxt, budget)] = nxt


def _record_of(fut, item: dict) -> dict:
    try:
        return fut.result()
    except Exception as err:   # the worker died (out of memory, a crash in native code)
        return {"id": item["id"], "status": "error", "error": f"the worker failed: {type(err).__name__}: {err}"}


def _on_dask(items: list[dict], jobs: int, budget: float, scheduler: str) -> Iterator[dict]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--scheduler needs Dask's distributed package: pip install distributed "
                         "(the extra rewrite-matrix-calculus[dask])") from None
    client = scheduler if not isinstance(scheduler, str) else Client(scheduler)
    try:
        futures = {client.submit(run_item, item, budget, pure=False): item for item in items}
        for fut in as_completed(futures):
            yield _record_of(fut, futures[fut])
    finally:
        if isinstance(scheduler, str):
            client.close()


__all__ = ["batch", "run_item", "read_items", "KINDS"]
