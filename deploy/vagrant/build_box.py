"""A local Debian 12 Vagrant box for the libvirt provider, for machines that cannot download one.

    python -m deploy.vagrant.build_box     # root; mmdebstrap, mke2fs, qemu-img, vagrant
    -> box `scaleboard/bookworm-local` (vagrant box add) + its kernel and initrd in .var/vagrant/box/

The image has no boot loader: libvirt boots the kernel directly (Vagrantfile: SCALEBOARD_LIBVIRT_KERNEL,
..._INITRD), which keeps the image small and the build quick. Inside: systemd, sshd, ifupdown (eth0 by
DHCP), python3, sudo and the `vagrant` user with Vagrant's well-known key (replaced on first `vagrant up`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from deploy.lab.lab import trust_host_ca_hooks

ROOT = Path(__file__).resolve().parents[2]

BOX_NAME = "scaleboard/bookworm-local"
WORK = ROOT / ".var" / "vagrant" / "box"
PACKAGES = ("linux-image-amd64,systemd-sysv,dbus,openssh-server,ifupdown,isc-dhcp-client,python3,sudo,iproute2,"
            "ca-certificates,netbase,procps")  # fmt: skip
DISK_GB = 4
INSECURE_KEY = Path("/usr/share/rubygems-integration/all/gems").glob("vagrant-*/keys/vagrant.pub")


def run(*argv: str, timeout: float = 900) -> None:
    subprocess.run(argv, check=True, timeout=timeout)


def box_exists() -> bool:
    listed = subprocess.run(["vagrant", "box", "list"], capture_output=True, text=True, check=False).stdout
    return any(line.split()[0] == BOX_NAME for line in listed.splitlines() if line.strip())


def customize_hooks(public_key: str) -> list[str]:
    setup = f"""
set -e
echo scaleboard > "$1/etc/hostname"
printf 'auto lo\\niface lo inet loopback\\n\\nauto eth0\\niface eth0 inet dhcp\\n' > "$1/etc/network/interfaces"
echo '/dev/vda / ext4 defaults,errors=remount-ro 0 1' > "$1/etc/fstab"
chroot "$1" useradd --create-home --shell /bin/bash --groups sudo vagrant
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' > "$1/etc/sudoers.d/vagrant"
mkdir -p "$1/home/vagrant/.ssh"
echo '{public_key.strip()}' > "$1/home/vagrant/.ssh/authorized_keys"
chroot "$1" chown -R vagrant:vagrant /home/vagrant/.ssh
chmod 700 "$1/home/vagrant/.ssh"
echo 'UseDNS no' > "$1/etc/ssh/sshd_config.d/10-vagrant.conf"
chroot "$1" systemctl enable ssh
"""
    return [f"--customize-hook={setup}"]


def build() -> None:
    if box_exists():
        print(f"box {BOX_NAME} already added")
        return
    key = next(iter(INSECURE_KEY), None)
    if key is None:
        raise SystemExit("error: Vagrant's insecure public key not found: apt-get install vagrant")
    shutil.rmtree(WORK, ignore_errors=True)
    rootfs = WORK / "rootfs"
    rootfs.mkdir(parents=True)
    print("box: building the Debian 12 root filesystem (mmdebstrap, a few minutes)")
    run("mmdebstrap", "--quiet", "--variant=minbase", f"--include={PACKAGES}", *trust_host_ca_hooks(WORK),
        *customize_hooks(key.read_text()), "bookworm", str(rootfs))  # fmt: skip
    # The kernel and initrd stay outside the image: libvirt boots them directly.
    kernel = sorted((rootfs / "boot").glob("vmlinuz-*"))[-1]
    initrd = sorted((rootfs / "boot").glob("initrd.img-*"))[-1]
    shutil.copy(kernel, WORK / "vmlinuz")
    shutil.copy(initrd, WORK / "initrd.img")
    raw = WORK / "disk.raw"
    run("mke2fs", "-q", "-t", "ext4", "-L", "root", "-d", str(rootfs), str(raw), f"{DISK_GB}G")
    run("qemu-img", "convert", "-O", "qcow2", str(raw), str(WORK / "box.img"))
    raw.unlink()
    shutil.rmtree(rootfs)
    (WORK / "metadata.json").write_text(json.dumps({"provider": "libvirt", "format": "qcow2", "virtual_size": DISK_GB}))
    box = WORK / "scaleboard-bookworm-local.box"
    with tarfile.open(box, "w:gz", compresslevel=1) as tar:
        for name in ("metadata.json", "box.img"):
            tar.add(WORK / name, arcname=name)
    (WORK / "box.img").unlink()
    run("vagrant", "box", "add", "--force", "--name", BOX_NAME, str(box))
    box.unlink()
    print(f"box {BOX_NAME} added; kernel and initrd in {WORK.relative_to(ROOT)}")


if __name__ == "__main__":
    build()
