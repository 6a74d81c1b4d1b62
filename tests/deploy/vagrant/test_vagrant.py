"""Vagrant: the Vagrantfile validates, and `make vagrant-up` boots a real VM (libvirt + QEMU) that
serves the app through nginx on the forwarded port, provisioned only by site.yml."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.harness.requires import needs
from tests.harness.servers import REPO, free_port, get

VAGRANT_DIR = REPO / "deploy" / "vagrant"
BOX_DIR = REPO / ".var" / "vagrant" / "box"

needs_vagrant = needs("vagrant")
# Under QEMU without KVM (these machines) one provisioning takes ~25 min (measured: 1,548 s), past the suite budget:
# with KVM the test runs by default; without it, only when asked (SCALEBOARD_VM_TEST=1).
# (/dev/kvm can exist where the CPU offers no virtualisation to run guests with, as on these machines.)
HAS_KVM = os.path.exists("/dev/kvm") and bool(re.search(r"\b(vmx|svm)\b", Path("/proc/cpuinfo").read_text()))
vm_is_affordable = pytest.mark.skipif(
    not HAS_KVM and os.environ.get("SCALEBOARD_VM_TEST") != "1",
    reason="no KVM: a QEMU-emulated VM takes ~25 min to provision; run it with "
    "SCALEBOARD_VM_TEST=1 make test-all PYTEST_ARGS=tests/deploy/vagrant",
)
needs_libvirt = needs("vagrant", "libvirtd", "qemu-system-x86_64", "mmdebstrap", root=True)


@needs_vagrant
def test_vagrantfile_validates() -> None:
    result = subprocess.run(["vagrant", "validate"], cwd=VAGRANT_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_vagrant
def test_vagrantfile_provisions_only_with_ansible() -> None:
    text = (VAGRANT_DIR / "Vagrantfile").read_text()
    assert 'provision "ansible"' in text
    assert 'provision "shell"' not in text
    assert "site.yml" in text


@needs_libvirt
@vm_is_affordable
def test_vagrant_up_serves_the_app_through_nginx() -> None:
    build_box = [str(REPO / ".venv/bin/python"), "-m", "deploy.vagrant.build_box"]
    for command in (build_box, ["deploy/vagrant/start_libvirt.sh"]):
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1200)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    port = free_port()
    env = {
        **os.environ,
        "VAGRANT_DEFAULT_PROVIDER": "libvirt",
        "SCALEBOARD_BOX": "scaleboard/bookworm-local",
        "SCALEBOARD_LIBVIRT_DRIVER": "kvm" if HAS_KVM else "qemu",
        "SCALEBOARD_LIBVIRT_KERNEL": str(BOX_DIR / "vmlinuz"),
        "SCALEBOARD_LIBVIRT_INITRD": str(BOX_DIR / "initrd.img"),
        "STACK_PORT": str(port),
    }
    started = time.monotonic()
    try:
        up = subprocess.run(["make", "--no-print-directory", "vagrant-up"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=2700)  # fmt: skip
        assert up.returncode == 0, up.stdout[-6000:] + up.stderr[-3000:]
        print(f"\nvagrant-up (boot + site.yml): {time.monotonic() - started:.0f} s")
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        status, headers, _ = get(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert headers.get("Server", "").startswith("nginx")
    finally:
        subprocess.run(["make", "--no-print-directory", "vagrant-destroy"], cwd=REPO, env=env, capture_output=True,
                       timeout=600)  # fmt: skip
