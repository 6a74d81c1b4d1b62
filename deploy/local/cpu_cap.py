"""CPU caps for process trees: a "server" in the scaling lab is a cgroup with a CPU quota.

cgroup v1 (`cpu.cfs_quota_us`) or v2 (`cpu.max`), whichever this machine has writable. A process joins
its cap before it execs (see `join`), so every worker it forks later is capped too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# The quota is enforced per period: 100 ms is the kernel's, systemd's and Kubernetes' default. A shorter
# one (CPU_PERIOD_MS=10) spreads the quota more evenly, but a request then loses the CPU several times
# and pays to refill the caches each time: under a quarter-CPU quota the front page cost 20-30 % more
# CPU per request (docs/scaling.md, "Method").
PERIOD_US = int(float(os.environ.get("CPU_PERIOD_MS") or 100) * 1000)
GROUP_PREFIX = "scaleboard"


class CpuCapError(RuntimeError):
    """CPU caps cannot be set here; the message says why and what to do."""


def _layout() -> tuple[str, Path]:
    """('v1', the cpu hierarchy) or ('v2', the unified root), or CpuCapError with the reason."""
    if os.geteuid() != 0:
        raise CpuCapError("CPU caps need root (cgroups); run as root or leave the cap unset")
    v1 = CGROUP_ROOT / "cpu"
    if (v1 / "cpu.cfs_quota_us").exists():
        return "v1", v1
    controllers = CGROUP_ROOT / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split():
        return "v2", CGROUP_ROOT
    raise CpuCapError("no writable cgroup CPU controller (v1 cpu.cfs_quota_us or v2 cpu.max) on this machine")


@dataclass
class CpuCap:
    """A cgroup named scaleboard/<name> that holds its processes to `cpus` CPUs (e.g. 0.25)."""

    name: str
    cpus: float

    @property
    def path(self) -> Path:
        return _layout()[1] / GROUP_PREFIX / self.name

    def create(self) -> None:
        if self.cpus <= 0:
            raise CpuCapError(f"a CPU cap must be positive, got {self.cpus}")
        version, root = _layout()
        parent = root / GROUP_PREFIX
        parent.mkdir(exist_ok=True)
        if version == "v2":
            # Children of a v2 group only get the cpu controller if the parent hands it down.
            (root / "cgroup.subtree_control").write_text("+cpu")
            (parent / "cgroup.subtree_control").write_text("+cpu")
        self.path.mkdir(exist_ok=True)
        quota = int(self.cpus * PERIOD_US)
        if version == "v1":
            (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
        else:
            (self.path / "cpu.max").write_text(f"{quota} {PERIOD_US}")

    def join(self) -> None:
        """Move the calling process into the cap (use as Popen's preexec_fn, before exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> list[int]:
        procs = self.path / "cgroup.procs"
        return [int(line) for line in procs.read_text().split()] if procs.exists() else []

    def quota_cpus(self) -> float:
        version, _ = _layout()
        if version == "v1":
            return int((self.path / "cpu.cfs_quota_us").read_text()) / int(
                (self.path / "cpu.cfs_period_us").read_text()
            )
        quota, period = (self.path / "cpu.max").read_text().split()
        return int(quota) / int(period)

    def remove(self, timeout: float = 10) -> None:
        """Kill what is left in the group and remove it; CpuCapError if the kernel keeps it.

        The kernel refuses (EBUSY) while a process remains, and a killed process can take a moment to
        leave under load, so this retries until the group is really gone.
        """
        deadline = time.monotonic() + timeout
        while self.path.exists():
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                self.path.rmdir()
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    raise CpuCapError(
                        f"cannot remove {self.path} ({exc.strerror}; pids {self.pids()}): kill them and rmdir it"
                    ) from exc
                time.sleep(0.1)


def check_available() -> None:
    """Raise CpuCapError with the reason when caps cannot be used here."""
    _layout()
