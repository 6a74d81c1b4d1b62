"""CPU seconds used by process trees, read from /proc (Linux)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deploy.local.stack import Stack

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces; fields after it are positional.
    return raw[raw.rindex(")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _tree(roots: tuple[int, ...]) -> Iterator[int]:
    """The `roots` and their live descendants, from one scan of /proc."""
    children = _children()
    stack = list(roots)
    while stack:
        pid = stack.pop()
        yield pid
        stack.extend(children.get(pid, []))


def tree_cpu_seconds(*roots: int) -> float:
    """User + system CPU of the `roots` and their live descendants, plus what their reaped children used.
    Several roots share one scan of /proc."""
    total = 0.0
    for pid in _tree(roots):
        fields = _stat(pid)
        if fields:
            # utime, stime, cutime, cstime: fields 14-17 of stat, i.e. 11-14 after the name.
            total += sum(int(value) for value in fields[11:15]) / _TICKS
    return total


def tree_rss_mib(*roots: int) -> float:
    """Resident memory of the `roots` and their live descendants, in MiB (shared pages counted per process,
    so an upper bound)."""
    total_kib = 0
    for pid in _tree(roots):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kib += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total_kib / 1024


def stack_cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU seconds so far of a local stack's parts: its app servers, nginx and PostgreSQL."""
    return {
        "app": tree_cpu_seconds(*(server.pid for server in stack.app_servers)),
        "nginx": tree_cpu_seconds(stack.nginx_pid),
        "postgres": tree_cpu_seconds(stack.cluster.postmaster_pid()),
    }
