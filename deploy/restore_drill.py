"""The restore drill: the database host is lost without warning, and the backups bring it back, to the last
archived write and to a chosen time. Prints the data lost (RPO) and the time to serve again (RTO).

    make restore-drill INVENTORY=lab [DRILL_TAIL_SECONDS=10]

1. Marks: a `restore_drill` database beside the app's, one row per mark with PostgreSQL's commit-time clock.
2. `make backup`, then marks two seconds apart, then `pgbackrest check` (every one of them archived).
3. The tail: marks for DRILL_TAIL_SECONDS more, left to WAL archiving as production leaves them.
4. The db host is lost mid-write. Lab: the host is killed and a fresh one boots in its place (`make
   lab-replace`), converged by `make provision --limit`. Another inventory (CONFIRM=1): PostgreSQL is killed
   and its data directory emptied.
5. `make restore` (to the last archived WAL): what survives of the tail is the RPO; loss to /readyz is the RTO.
6. `make restore TARGET_TIME=` a time between two archived marks: exactly the marks before it exist.

Run it on a lab or a staging inventory: step 6 rolls the database back in time, the app's data included.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from deploy.ansible import inventory
from deploy.lab import lab

ROOT = Path(__file__).resolve().parents[1]
ANSIBLE_DIR = ROOT / "deploy" / "ansible"
DATABASE = "restore_drill"
# The pgbackrest role's stanza, from its defaults (the one place it is set).
STANZA = yaml.safe_load((ANSIBLE_DIR / "roles/pgbackrest/defaults/main.yml").read_text())["pgbackrest_stanza"]
# Where a drill may run without CONFIRM=1: the lab is made to be thrown away.
THROWAWAY = ("lab",)


class DrillError(RuntimeError):
    """A step failed; the message says which and what to look at."""


@dataclass
class Drill:
    inventory: str
    marks: dict[int, float] = field(default_factory=dict)  # mark -> commit time (Unix, PostgreSQL's clock)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def hosts_file(self) -> Path:
        return ANSIBLE_DIR / "inventories" / self.inventory / "hosts.yml"

    def group(self, name: str) -> list[str]:
        return sorted(inventory.read(self.hosts_file).get(name, {}))

    def make(self, *args: str) -> float:
        """A make target against the inventory, as a user runs it; its seconds."""
        started = time.monotonic()
        result = subprocess.run(["make", "--no-print-directory", *args, f"INVENTORY={self.inventory}"], cwd=ROOT,
                                capture_output=True, text=True, timeout=3600)  # fmt: skip
        if result.returncode != 0:
            raise DrillError(f"make {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-4000:]}")
        return time.monotonic() - started

    def on(self, group: str, module: str, arguments: str, *, user: str = "") -> dict[str, str]:
        """An ansible ad-hoc module on a group's hosts: {host: stdout}."""
        argv = [str(ROOT / ".venv/bin/ansible"), group, "-i", str(self.hosts_file), "--become", "-m", module,
                "-a", arguments, *(["--become-user", user] if user else [])]  # fmt: skip
        env = {**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "json",
               "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"}  # fmt: skip
        result = subprocess.run(argv, cwd=ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=300)
        try:
            (task,) = json.loads(result.stdout)["plays"][0]["tasks"]
        except (ValueError, KeyError, IndexError) as exc:
            raise DrillError(f"ansible {group} -m {module} said:\n{(result.stdout + result.stderr)[-3000:]}") from exc
        failed = {host: out.get("msg", "") + out.get("stderr", "") for host, out in task["hosts"].items()
                  if out.get("failed") or out.get("unreachable")}  # fmt: skip
        if failed:
            raise DrillError(f"ansible {group} -m {module} -a {arguments!r} failed: {failed}")
        return {host: out.get("stdout", "") for host, out in task["hosts"].items()}

    def sql(self, statement: str, database: str = DATABASE) -> str:
        psql = f'psql -XAtq -v ON_ERROR_STOP=1 -d {database} -c "{statement}"'
        (out,) = self.on("db", "ansible.builtin.command", psql, user="postgres").values()
        return out.strip()

    def mark(self, n: int) -> None:
        insert = f"INSERT INTO marks VALUES ({n}) RETURNING extract(epoch FROM at)"  # noqa: S608 - n is an int
        self.marks[n] = float(self.sql(insert))

    def kept(self) -> list[int]:
        return [int(n) for n in self.sql("SELECT n FROM marks ORDER BY n").split()]


def at(unix: float) -> str:
    """A time PostgreSQL and pgBackRest read, in UTC."""
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def run(drill: Drill, tail_seconds: float, archived_marks: int = 4) -> dict[str, object]:
    (db_host,) = drill.group("db")
    exists = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"  # noqa: S608 - a constant
    if not drill.sql(exists, database="postgres"):
        drill.sql(f"CREATE DATABASE {DATABASE}", database="postgres")
    drill.sql("DROP TABLE IF EXISTS marks; "
              "CREATE TABLE marks (n int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")  # fmt: skip
    drill.seconds["backup"] = drill.make("backup", "BACKUP_TYPE=incr")
    for n in range(1, archived_marks + 1):
        drill.mark(n)
        time.sleep(1)
    # Switches to a new WAL segment and waits until the one holding the marks is in the repository.
    drill.on("db", "ansible.builtin.command", f"pgbackrest --stanza={STANZA} check", user="postgres")
    n, tail_end = archived_marks, time.monotonic() + tail_seconds
    while time.monotonic() < tail_end:
        n += 1
        drill.mark(n)
    lost_at = time.monotonic()
    if drill.inventory in THROWAWAY:
        lab.replace(db_host)
        drill.seconds["fresh host"] = time.monotonic() - lost_at
        drill.seconds["converge"] = drill.make("provision", f"ANSIBLE_ARGS=--limit {db_host}")
    else:
        wipe = "pkill -9 -u postgres postgres; sleep 1; find /var/lib/postgresql/*/main -mindepth 1 -delete"
        drill.on("db", "ansible.builtin.shell", wipe)
    drill.seconds["restore"] = drill.make("restore")
    drill.on("lb", "ansible.builtin.uri", "url=http://127.0.0.1/readyz")
    drill.seconds["loss to serving"] = time.monotonic() - lost_at
    survived = drill.kept()
    if survived[:archived_marks] != list(range(1, archived_marks + 1)):
        raise DrillError(f"marks archived before the loss are missing after the restore: {survived}")
    last_kept = max(survived)
    if survived != list(range(1, last_kept + 1)):  # WAL replays in order: a gap is a broken archive
        raise DrillError(f"the restored marks have a gap: {survived}")
    rpo = drill.marks[n] - drill.marks[last_kept]
    # A time between two archived marks: the restore must stop exactly there.
    before = archived_marks // 2
    target = (drill.marks[before] + drill.marks[before + 1]) / 2
    drill.seconds["restore to a time"] = drill.make("restore", f"TARGET_TIME={at(target)}")
    to_time = drill.kept()
    if to_time != list(range(1, before + 1)):
        raise DrillError(f"restored to {at(target)} (between marks {before} and {before + 1}), found marks {to_time}")
    drill.on("lb", "ansible.builtin.uri", "url=http://127.0.0.1/readyz")
    return {"marks written": n, "kept after the loss": last_kept, "rpo_seconds": round(rpo, 1),
            "target": at(target), "kept at the target": to_time,
            "seconds": {step: round(s, 1) for step, s in drill.seconds.items()}}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default="lab")
    parser.add_argument("--tail-seconds", type=float, default=10)
    parser.add_argument("--confirm", action="store_true", help="run on an inventory other than the lab")
    args = parser.parse_args(argv)
    if args.inventory not in THROWAWAY and not args.confirm:
        print(f"restore-drill: {args.inventory} is not a lab: the drill empties its database host and rolls the "
              "database back in time. Run it on a staging copy, with CONFIRM=1.", file=sys.stderr)  # fmt: skip
        return 2
    try:
        result = run(Drill(args.inventory), args.tail_seconds)
    except DrillError as exc:
        print(f"restore-drill: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
