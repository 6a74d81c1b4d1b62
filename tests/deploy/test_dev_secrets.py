"""deploy/dev_secrets.py: the lab's and the VM's secrets are random, private to their owner, and kept."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from deploy import dev_secrets


def test_made_once_random_owner_only_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "lab" / "secrets.json"
    made = dev_secrets.ensure(path)
    assert set(made) == {"scaleboard_secret_key", "scaleboard_db_password", "scaleboard_backup_cipher_pass"}
    assert len(made["scaleboard_backup_cipher_pass"]) >= 20  # the pgbackrest role's minimum
    assert len(made["scaleboard_secret_key"]) >= 50  # Django warns below 50 characters
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev_secrets.ensure(path) == made
    assert dev_secrets.ensure(tmp_path / "other.json") != made


def test_a_value_the_file_lacks_is_added_and_the_others_are_kept(tmp_path: Path) -> None:
    # A lab made before the backup passphrase existed keeps its database password: its hosts still use it.
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"scaleboard_secret_key": "kept", "scaleboard_db_password": "", "other": "x"}))
    path.chmod(0o644)
    made = dev_secrets.ensure(path)
    assert made["scaleboard_secret_key"] == "kept"
    assert made["scaleboard_db_password"], "an empty value is made again"
    assert made["scaleboard_backup_cipher_pass"]
    assert json.loads(path.read_text()) == made
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_command_line_takes_one_path(tmp_path: Path) -> None:
    assert dev_secrets.main([str(tmp_path / "vm.json")]) == 0
    assert (tmp_path / "vm.json").exists()
    assert dev_secrets.main([]) == 2
