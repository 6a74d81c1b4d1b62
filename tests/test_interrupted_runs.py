"""A test run that is interrupted leaves nothing behind: SIGTERM tears down like Ctrl-C, and what a SIGKILLed
run left is removed by the next run (tests/harness/leftovers.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from deploy.lab import lab as lab_module
from deploy.local import stack as local_stack
from deploy.local.postgres import Cluster
from tests.harness import leftovers
from tests.harness.requires import needs
from tests.harness.servers import REPO

# The suite's own fixtures, held open until the runner is signalled.
HELD_OPEN = """
import os, time
from pathlib import Path
TOPOLOGY = "all-in-one"

def test_hold_the_stack_and_a_lab(stack, booted_lab):
    Path(os.environ["READY_FILE"]).write_text(f"{os.getpid()} {stack.directory}")
    time.sleep(900)
"""


def left_behind(runner_pid: int, stack_dir: str) -> list[str]:
    left = [f"process: {argv}" for argv in leftovers.processes_mentioning(stack_dir)]
    left += [f"lab host: {root}" for root in lab_module.running_hosts().values()]
    left += [f"bridge {lab_module.BRIDGE}"] if Path(f"/sys/class/net/{lab_module.BRIDGE}").exists() else []
    left += [f"veth {veth.name}" for veth in Path("/sys/class/net").glob("vb-sb-*")]
    left += [f"scratch dir {path}" for path in Path(tempfile.gettempdir()).glob("scaleboard-*")
             if (path / leftovers.OWNER_FILE).exists() and leftovers.owner(path) == runner_pid]  # fmt: skip
    return left


@pytest.mark.live
@needs("nginx", "systemd-nspawn", "mmdebstrap", "iptables", "ssh", root=True)
def test_sigterm_to_make_test_leaves_no_process_host_veth_or_directory(tmp_path: Path) -> None:
    held_open = tmp_path / "test_held_open.py"
    held_open.write_text(textwrap.dedent(HELD_OPEN))
    ready = tmp_path / "ready"
    arguments = f"-c pyproject.toml -p tests.conftest -p tests.deploy.ansible.conftest {held_open} -p no:cacheprovider"
    runner = subprocess.Popen(
        ["make", "--no-print-directory", "test", f"PYTEST_ARGS={arguments}"], cwd=REPO,
        env={**os.environ, "READY_FILE": str(ready)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    stack_dir, pytest_pid = "", 0
    try:
        deadline = time.monotonic() + 600
        while not ready.exists():
            assert runner.poll() is None, runner.communicate()[0][-4000:]
            assert time.monotonic() < deadline, "the held-open test never started"
            time.sleep(1)
        pid, stack_dir = ready.read_text().split(" ", 1)
        pytest_pid = int(pid)
        assert leftovers.processes_mentioning(stack_dir), "the stack runs"
        assert lab_module.running_hosts(), "the lab runs"
        # Another checkout's `make lab-up` finds this lab and says how to remove it, before booting anything.
        other = tmp_path / "other-checkout"
        subprocess.run(["git", "clone", "-q", str(REPO), str(other)], check=True, timeout=120)
        second = subprocess.run([sys.executable, "-m", "deploy.lab.lab", "up"], cwd=other, capture_output=True,
                                text=True, timeout=120)  # fmt: skip
        assert second.returncode == 1
        assert "a lab is already running on this machine as lab (" in second.stderr
        assert "`make lab-down LAB=lab`, from this or any checkout, removes it" in second.stderr

        runner.send_signal(signal.SIGTERM)  # to make, as a CI limit or `timeout` would
        output = runner.communicate(timeout=300)[0]
        assert runner.returncode != 0
        assert "tearing down what the tests started" in output, output[-3000:]
        deadline = time.monotonic() + 60  # a `make lab-up` cut short removes its hosts on its own way out
        while left_behind(pytest_pid, stack_dir) and time.monotonic() < deadline:
            time.sleep(1)
        assert left_behind(pytest_pid, stack_dir) == []
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
        lab_module.down()
        if stack_dir and Path(stack_dir, "state.json").exists():
            local_stack.down(Path(stack_dir))


def test_the_next_run_removes_what_a_killed_run_left() -> None:
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()  # a pid that no longer runs: the owner of the directory below was killed
    directory = leftovers.scratch_dir("killed")
    (directory / leftovers.OWNER_FILE).write_text(f"{killed.pid}\n")
    cluster = Cluster(directory / "pg", throwaway=True)
    cluster.start()
    postmaster = cluster.postmaster_pid()
    mine = leftovers.scratch_dir("alive")
    try:
        assert directory in leftovers.sweep()
        assert not directory.exists()
        deadline = time.monotonic() + 10  # pg_ctl returns when the pid file goes, just before the process
        while Path(f"/proc/{postmaster}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{postmaster}").exists(), "the killed run's PostgreSQL was stopped"
        assert mine.exists(), "a running test run's directories are left alone"
    finally:
        if directory.exists():
            cluster.stop(mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
