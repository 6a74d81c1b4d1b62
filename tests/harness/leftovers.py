"""Nothing a test run starts outlives it.

- SIGTERM (a CI limit, `timeout`, `kill`) ends the run the way Ctrl-C does: pytest's teardown runs every
  fixture's finaliser (servers, clusters, stacks, lab hosts, containers). The run's own children (a
  `make lab-up` in flight, gunicorn) get the SIGTERM too, as a terminal's Ctrl-C reaches its whole job.
- Only SIGKILL skips that. Every scratch directory the harness makes carries its run's pid, so the next
  run removes what a killed run left: PostgreSQL clusters, local stacks, gunicorn servers, the files.
  A lab left that way is removed by `make lab-down` from any checkout (`make lab-up` says so).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path
from types import FrameType

from deploy.local import stack as local_stack
from deploy.local.postgres import Cluster, PostgresError

PREFIX = "scaleboard-"
OWNER_FILE = ".owner-pid"
# Written by the harness's gunicorn servers (gunicorn's --pid) inside a scratch directory.
GUNICORN_PID_FILE = "gunicorn.pid"


def scratch_dir(kind: str) -> Path:
    """A directory for one test's or session's servers, under the temp dir, readable by the accounts
    servers run as when the tests run as root (postgres, nginx's workers)."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-"))
    path.chmod(0o755)
    (path / OWNER_FILE).write_text(f"{os.getpid()}\n")
    return path


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes, other than this one, that contain `text` (a scratch directory, say)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        if text in argv and int(cmdline.parent.name) != os.getpid():
            found.append(argv)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner(path: Path) -> int | None:
    try:
        return int((path / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None


def sweep() -> list[Path]:
    """Remove what runs killed with SIGKILL left behind; return the directories removed."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        owner_pid = owner(path)
        if owner_pid is None or _alive(owner_pid):
            continue
        for state in path.rglob("state.json"):
            with contextlib.suppress(local_stack.StackError, PostgresError, OSError, ValueError, KeyError):
                local_stack.down(state.parent)
        for pid_file in path.rglob(GUNICORN_PID_FILE):
            with contextlib.suppress(OSError, ValueError):
                pid = int(pid_file.read_text())
                if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.killpg(pid, signal.SIGKILL)
        for postmaster in path.rglob("postmaster.pid"):
            with contextlib.suppress(PostgresError, OSError):
                Cluster(postmaster.parent).stop(mode="immediate")
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _children() -> list[int]:
    pids = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            pids += [int(pid) for pid in (task / "children").read_text().split()]
    return pids


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the teardown that follows must not be cut short
    for pid in _children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    raise KeyboardInterrupt(f"signal {signum}: tearing down what the tests started")


def end_like_ctrl_c_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
