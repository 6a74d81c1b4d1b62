"""One gunicorn server's metrics, over its workers living and gone, with prometheus_client's public API only.

prometheus_client's multiprocess mode gives every worker process its own files and sums them at each scrape.
gunicorn replaces workers (every GUNICORN_MAX_REQUESTS requests, on each reload, after a crash), and the files of
a worker that is gone stay: removing them would make counters go backwards, keeping them grows the directory and
each scrape's work without bound. So each worker writes into a directory of its own, and when gunicorn reports
one gone (child_exit), its totals are added to the server's `retired.json` and its directory removed. A scrape
sums the living workers' directories and the retired totals. Counters, histogram buckets, counts and sums all add
up, so that sum is exact; the app has no gauges.

Layout, under the server's directory (PROMETHEUS_MULTIPROC_DIR as gunicorn.conf.py starts it):

    workers/<pid>/   one worker's files; the worker's own PROMETHEUS_MULTIPROC_DIR
    retired.json     the summed samples of every worker that has exited
    lock             shared while a scrape reads, exclusive while a worker is retired
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

WORKERS = "workers"
RETIRED = "retired.json"
# {family: {"type": ..., "documentation": ..., "samples": {json [sample name, labels]: value}}}
Families = dict[str, dict[str, Any]]


def reset(server_dir: Path) -> None:
    """Start a server's count from zero: what an earlier server left in the directory goes."""
    shutil.rmtree(server_dir / WORKERS, ignore_errors=True)
    (server_dir / RETIRED).unlink(missing_ok=True)


def worker_dir(server_dir: Path, pid: int) -> Path:
    """The directory worker `pid` writes its metrics to, created."""
    path = server_dir / WORKERS / str(pid)
    path.mkdir(parents=True, exist_ok=True)
    return path


def server_dir_of(directory: Path) -> Path | None:
    """The server's directory if `directory` is one of its workers' (the layout above), else None."""
    return directory.parent.parent if directory.parent.name == WORKERS else None


@contextlib.contextmanager
def _locked(server_dir: Path, mode: int) -> Iterator[None]:
    with (server_dir / "lock").open("a") as lock:
        fcntl.flock(lock, mode)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _add(total: Families, metrics: Iterable[Metric]) -> None:
    """Add each sample's value into `total`, keyed by family, sample name and labels."""
    for metric in metrics:
        family = total.setdefault(metric.name, {"type": metric.type, "documentation": metric.documentation,
                                                "samples": {}})  # fmt: skip
        for sample in metric.samples:
            key = json.dumps([sample.name, sample.labels], sort_keys=True)
            family["samples"][key] = family["samples"].get(key, 0.0) + sample.value


def _read_retired(server_dir: Path) -> Families:
    path = server_dir / RETIRED
    return dict(json.loads(path.read_text())) if path.exists() else {}


def retire_worker(server_dir: Path, pid: int) -> None:
    """Fold a gone worker's totals into retired.json, then remove its files (gunicorn's child_exit)."""
    directory = server_dir / WORKERS / str(pid)
    if not directory.is_dir():
        return
    with _locked(server_dir, fcntl.LOCK_EX):
        total = _read_retired(server_dir)
        _add(total, MultiProcessCollector(None, path=str(directory)).collect())
        staged = server_dir / f"{RETIRED}.new"
        staged.write_text(json.dumps(total))
        os.replace(staged, server_dir / RETIRED)
        shutil.rmtree(directory)


class ServerCollector:
    """The server's metrics for /metrics: the living workers' files plus the retired totals, one family each."""

    def __init__(self, server_dir: Path) -> None:
        self.server_dir = server_dir

    def collect(self) -> Iterator[Metric]:
        with _locked(self.server_dir, fcntl.LOCK_SH):
            total = _read_retired(self.server_dir)
            for directory in sorted((self.server_dir / WORKERS).glob("*")):
                _add(total, MultiProcessCollector(None, path=str(directory)).collect())
        for name, family in total.items():
            metric = Metric(name, family["documentation"], family["type"])
            for key, value in family["samples"].items():
                sample_name, labels = json.loads(key)
                metric.add_sample(sample_name, labels, value)
            yield metric
