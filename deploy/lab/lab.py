"""The lab: fresh Debian 12 servers on this machine, as systemd-nspawn containers on a bridge the lab owns.

    make lab-up TOPOLOGY=all-in-one|split APP_SERVERS=N   # boot hosts, write deploy/ansible/inventories/lab
         [CPUS_PER_SERVER=0.5]                              # app hosts held to 0.5 CPU each (cgroup quota)
    make lab-provision                                  # site.yml against them over SSH
    make lab-status / make lab-down                     # what runs / remove hosts, bridge and NAT rules
    make lab-replace LAB_HOST=sb-db                     # a host lost without warning, a fresh one instead
    make lab-up LAB=lab-staging TOPOLOGY=all-in-one     # a second lab beside the first (staging for `make stage`)

Each host is a real systemd (PID 1) with sshd, its own network namespace and a static address on
10.77.0.0/24; the machine is the gateway and NATs them to the package registries. Like a cloud image,
a host has one `admin` user (sudo, the lab's SSH key) and nothing else installed. Needs Linux and root.
Two labs may run side by side on the bridge (LABS): each has its own hosts, addresses, directory and inventory,
named like the lab (`make provision INVENTORY=lab-staging`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deploy import dev_secrets
from deploy.ansible import inventory
from deploy.local.cpu_cap import CpuCap, CpuCapError, check_available

ROOT = Path(__file__).resolve().parents[2]

# Lab name -> where its hosts' addresses start on the subnet (and what their names say after "sb-").
LABS = {"lab": (10, ""), "lab-staging": (110, "staging-")}
LAB = os.environ.get("LAB", "lab")


def lab_dir(name: str) -> Path:
    """Where a lab keeps its state, hosts and secrets."""
    return ROOT / ".var" / name


LAB_DIR = Path(os.environ.get("LAB_DIR", lab_dir(LAB)))
INVENTORY = ROOT / "deploy" / "ansible" / "inventories" / LAB / "hosts.yml"
# One SSH key for every lab: any lab's host answers lab_module.ssh().
KEY = lab_dir("lab") / "id_ed25519"
ROOTFS_CACHE = ROOT / ".var" / "images" / "lab-bookworm.tar"
# What outlives a host, not the lab: a db host's backup repository (see volumes()).
VOLUMES = LAB_DIR / "volumes"
PACKAGES = "systemd-sysv,dbus,openssh-server,python3,sudo,iproute2,procps,systemd-resolved,ca-certificates,netbase"
BRIDGE = "sblab0"
SUBNET = "10.77.0"  # /24; the machine is .1, hosts from .10
# The hosts reach the package registries through the machine.
NAT_RULE = ["POSTROUTING", "-s", f"{SUBNET}.0/24", "!", "-o", BRIDGE, "-j", "MASQUERADE", "-m", "comment",
            "--comment", "scaleboard-lab"]  # fmt: skip
TOPOLOGIES = ("all-in-one", "split")
MAX_APP_SERVERS = 8
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Lab hosts are recreated with new host keys on every lab-up: nothing to pin.
SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]


class LabError(RuntimeError):
    """Something the user can act on; the message says what."""


@dataclass
class Host:
    name: str
    address: str
    groups: list[str]
    pid: int = 0


@dataclass
class Lab:
    topology: str
    hosts: list[Host] = field(default_factory=list)
    # CPUs each app host may use (a cgroup quota on its whole container), like a small cloud server; 0 = uncapped.
    app_cpus: float = 0
    # Written for this lab, so that `make lab-down` from another checkout can remove it too.
    inventory: str = str(INVENTORY)

    @property
    def key(self) -> Path:
        return KEY

    def save(self) -> None:
        (LAB_DIR / "state.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, lab_dir: Path = LAB_DIR) -> Lab | None:
        path = lab_dir / "state.json"
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(data["topology"], [Host(**h) for h in data["hosts"]], data["app_cpus"], data["inventory"])

    def cap(self, host: Host) -> CpuCap | None:
        """The CPU cap of an app host, if the lab caps them."""
        return CpuCap(f"lab-{host.name}", self.app_cpus) if self.app_cpus and "app" in host.groups else None


def run(*argv: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=timeout)


def require_tools() -> None:
    if sys.platform != "linux" or os.geteuid() != 0:
        raise LabError("the lab needs Linux and root (systemd-nspawn, a bridge, iptables): run it as root")
    missing = [
        tool for tool in ("systemd-nspawn", "mmdebstrap", "iptables", "ssh", "ssh-keygen") if not shutil.which(tool)
    ]
    if missing:
        raise LabError(
            f"missing {', '.join(missing)}: apt-get install systemd-container mmdebstrap iptables openssh-client"
        )


def ensure_rootfs() -> Path:
    """A minimal Debian 12 tarball, built once (~60 s) and cached: what a fresh cloud server has."""
    if ROOTFS_CACHE.exists():
        return ROOTFS_CACHE
    ROOTFS_CACHE.parent.mkdir(parents=True, exist_ok=True)
    partial = ROOTFS_CACHE.with_suffix(".partial.tar")  # mmdebstrap writes a tarball for a .tar name
    print(f"lab: building the Debian 12 root filesystem (~60 s, cached in {ROOTFS_CACHE.relative_to(ROOT)})")
    run(
        "mmdebstrap", "--quiet", "--variant=minbase", f"--include={PACKAGES}", *trust_host_ca_hooks(LAB_DIR),
        "bookworm", str(partial), timeout=900,
    )  # fmt: skip
    partial.rename(ROOTFS_CACHE)
    return ROOTFS_CACHE


def trust_host_ca_hooks(workdir: Path) -> list[str]:
    """mmdebstrap hooks that make an image trust what this machine trusts: each certificate of the host's
    bundle as a local CA (so later ca-certificates updates keep them). Networks that intercept TLS, like
    these machines', then work from inside the image as they do here."""
    certs = workdir / "host-ca"
    shutil.rmtree(certs, ignore_errors=True)
    certs.mkdir(parents=True)
    pems = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", HOST_CA_BUNDLE.read_text(), re.S)
    for number, pem in enumerate(pems):
        (certs / f"host-{number:03d}.crt").write_text(pem + "\n")
    return [
        '--customize-hook=mkdir -p "$1/usr/local/share/ca-certificates/host"',
        f'--customize-hook=cp {certs}/*.crt "$1/usr/local/share/ca-certificates/host/"',
        '--customize-hook=chroot "$1" update-ca-certificates',
    ]


def plan(topology: str, app_servers: int, lab: str = LAB) -> list[Host]:
    if lab not in LABS:
        raise LabError(f"LAB must be one of {', '.join(LABS)}, not {lab!r}")
    if topology not in TOPOLOGIES:
        raise LabError(f"TOPOLOGY must be one of {', '.join(TOPOLOGIES)}, not {topology!r}")
    if not 1 <= app_servers <= MAX_APP_SERVERS:
        raise LabError(f"APP_SERVERS must be 1..{MAX_APP_SERVERS}, not {app_servers}")
    first, named = LABS[lab]
    if topology == "all-in-one":
        return [Host(f"sb-{named}aio", f"{SUBNET}.{first}", ["db", "app", "lb", "monitor"])]
    hosts = [Host(f"sb-{named}db", f"{SUBNET}.{first}", ["db"]), Host(f"sb-{named}lb", f"{SUBNET}.{first + 1}", ["lb"]),
             Host(f"sb-{named}monitor", f"{SUBNET}.{first + 2}", ["monitor"])]  # fmt: skip
    hosts += [Host(f"sb-{named}app{i}", f"{SUBNET}.{first + 10 + i}", ["app"]) for i in range(1, app_servers + 1)]
    return hosts


def nameservers() -> list[str]:
    found = re.findall(r"^nameserver\s+(\S+)", Path("/etc/resolv.conf").read_text(), re.M)
    return [ns for ns in found if not ns.startswith("127.")] or ["1.1.1.1"]


def network_up() -> None:
    if run("ip", "link", "show", BRIDGE, check=False).returncode != 0:
        run("ip", "link", "add", BRIDGE, "type", "bridge")
        run("ip", "addr", "add", f"{SUBNET}.1/24", "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    if run("iptables", "-t", "nat", "-C", *NAT_RULE, check=False).returncode != 0:
        run("iptables", "-t", "nat", "-A", *NAT_RULE)


def prepare_host(host: Host, rootfs_tar: Path, public_key: str) -> Path:
    root = LAB_DIR / "hosts" / host.name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    run("tar", "-xf", str(rootfs_tar), "-C", str(root), timeout=300)
    (root / "etc/hostname").write_text(host.name + "\n")
    (root / "etc/machine-id").write_text("")  # systemd makes a fresh one at first boot
    dns = "\n".join(f"DNS={ns}" for ns in nameservers())
    network = LAB_DIR / f"{host.name}.network"
    network.write_text(f"[Match]\nName=host0\n\n[Network]\nAddress={host.address}/24\nGateway={SUBNET}.1\n{dns}\n")
    # The cloud-image shape: one sudo user with the lab's key, no password anywhere.
    chroot = ["chroot", str(root)]
    run(*chroot, "useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo", "admin")
    (root / "etc/sudoers.d/admin").write_text("admin ALL=(ALL) NOPASSWD:ALL\n")
    ssh_dir = root / "home/admin/.ssh"
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "authorized_keys").write_text(public_key)
    run(*chroot, "chown", "-R", "admin:admin", "/home/admin/.ssh")
    run(*chroot, "systemctl", "enable", "systemd-networkd", "systemd-resolved", "ssh")
    return root


def volumes(host: Host) -> list[str]:
    """nspawn --bind options for the host's volumes, made if missing. A db host keeps its backup repository
    (pgBackRest's posix default, /var/lib/pgbackrest) on the machine, as a cloud server keeps one on an attached
    volume: it outlives the host (`make lab-replace`, the restore drill) and goes with the lab."""
    if "db" not in host.groups:
        return []
    backups = VOLUMES / host.name / "pgbackrest"
    backups.mkdir(parents=True, exist_ok=True)
    return [f"--bind={backups}:/var/lib/pgbackrest"]


def boot(host: Host, root: Path, cap: CpuCap | None = None) -> int:
    if cap:
        cap.create()
    log = (LAB_DIR / f"{host.name}.log").open("w")
    process = subprocess.Popen(
        ["systemd-nspawn", "-D", str(root), "-M", host.name, f"--hostname={host.name}", "-b",
         f"--network-bridge={BRIDGE}", "--register=no", "--keep-unit",
         f"--bind-ro={LAB_DIR / f'{host.name}.network'}:/etc/systemd/network/10-host0.network", *volumes(host)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        # The container joins its cap before nspawn execs: everything it runs is held to the quota.
        preexec_fn=cap.join if cap else None,
    )  # fmt: skip
    return process.pid


def wait_for_ssh(host: Host, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ssh(host, "true", check=False).returncode == 0:
            return
        time.sleep(1)
    raise LabError(f"{host.name} ({host.address}) did not answer SSH in {timeout:.0f} s; see {LAB_DIR / host.name}.log")


def ssh(host: Host, command: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a command on a lab host as admin (sudo for root)."""
    argv = ["ssh", "-i", str(KEY), *SSH_OPTIONS, "-o", "ConnectTimeout=3", f"admin@{host.address}", command]
    return run(*argv, check=check, timeout=timeout)


def write_inventory(lab: Lab, path: Path = INVENTORY, host_vars: dict[str, dict[str, Any]] | None = None) -> None:
    hosts = [
        inventory.InventoryHost(h.name, tuple(h.groups), h.address, h.address, (host_vars or {}).get(h.name, {}))
        for h in lab.hosts
    ]
    variables = {
        "ansible_user": "admin",
        "ansible_ssh_private_key_file": str(lab.key),
        "ansible_ssh_common_args": " ".join(SSH_OPTIONS),
        "scaleboard_topology": lab.topology,
        # Made for this checkout's lab on first use and kept, so a second converge changes nothing.
        **dev_secrets.ensure(LAB_DIR / "secrets.json"),
    }
    inventory.write(path, hosts, variables, written_by="Written by `make lab-up`; `make lab-down` removes it.")


def up(topology: str = "all-in-one", app_servers: int = 2, app_cpus: float = 0) -> Lab:
    hosts = plan(topology, app_servers)
    require_tools()
    if app_cpus:
        check_available()  # say now, before anything boots, if caps cannot work here
    if running := this_labs(running_hosts()):
        names = ", ".join(sorted({host_dir.name for host_dir in running.values()}))
        checkouts = ", ".join(sorted({str(host_dir.parents[1]) for host_dir in running.values()}))
        raise LabError(
            f"a lab is already running on this machine as {LAB} ({names}; lab directory {checkouts}): "
            f"`make lab-down LAB={LAB}`, from this or any checkout, removes it"
        )
    LAB_DIR.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(VOLUMES, ignore_errors=True)  # a new lab's database starts a new repository
    lab = Lab(topology, hosts, app_cpus=app_cpus)
    if not lab.key.exists():
        lab.key.parent.mkdir(parents=True, exist_ok=True)
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "scaleboard-lab", "-f", str(lab.key))
    tarball = ensure_rootfs()
    try:
        network_up()
        lab.save()
        public_key = lab.key.with_suffix(".pub").read_text()
        for host in hosts:
            host.pid = boot(host, prepare_host(host, tarball, public_key), lab.cap(host))
            lab.save()
        for host in hosts:
            wait_for_ssh(host)
            capped = f", capped at {lab.app_cpus} CPU" if lab.cap(host) else ""
            print(f"lab: {host.name} {host.address} ({', '.join(host.groups)}{capped}) up")
    except BaseException:  # an error, Ctrl-C or SIGTERM: leave no half-booted lab behind
        down()
        raise
    write_inventory(lab)
    print(f"lab: inventory {INVENTORY.relative_to(ROOT)}; next: make lab-provision LAB={LAB}")
    return lab


def alive(pid: int) -> bool:
    try:
        return pid > 0 and "systemd-nspawn" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


def running_hosts() -> dict[int, Path]:
    """Every lab host running on this machine, whichever checkout booted it: nspawn pid -> the host's root
    directory. Found from the processes themselves, so a lab whose starter was killed is found too."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv and argv[0].endswith("systemd-nspawn") and f"--network-bridge={BRIDGE}" in argv:
            found[int(cmdline.parent.name)] = Path(argv[argv.index("-D") + 1])
    return found


def this_labs(running: dict[int, Path]) -> dict[int, Path]:
    """The hosts in `running` (running_hosts()) that belong to a lab of this name, whichever checkout booted it."""
    return {pid: root for pid, root in running.items() if root.parents[1].name == LAB_DIR.name}


def kill(host: Host) -> None:
    """Kill a host that would not power off: its PID 1 first (which ends everything in the host's PID
    namespace), then nspawn. Killing nspawn alone left the host's systemd running, orphaned, holding its
    veth, and the next lab-up failed with "Failed to add new veth interfaces ... File exists"."""
    try:
        init_pids = Path(f"/proc/{host.pid}/task/{host.pid}/children").read_text().split()
    except OSError:
        init_pids = []
    for pid in init_pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(host.pid, signal.SIGKILL)


def replace(name: str) -> Host:
    """A host lost without warning, and a fresh one in its place: the same name and address, a new disk and
    new host keys, nothing installed. What a restore drill starts from."""
    lab = Lab.load()
    host = next((h for h in lab.hosts if h.name == name), None) if lab else None
    if lab is None or host is None:
        known = ", ".join(h.name for h in lab.hosts) if lab else "none: `make lab-up` first"
        raise LabError(f"no lab host named {name!r} (hosts: {known})")
    kill(host)  # no shutdown: the host stops as a crashed server does, mid-write
    deadline = time.monotonic() + 30
    while alive(host.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(host.pid):
        raise LabError(f"{name} (nspawn pid {host.pid}) did not stop; `make lab-down` and start again")
    host.pid = boot(host, prepare_host(host, ensure_rootfs(), lab.key.with_suffix(".pub").read_text()), lab.cap(host))
    lab.save()
    wait_for_ssh(host)
    print(f"lab: {name} {host.address} replaced by a fresh host; next: make provision ANSIBLE_ARGS='--limit {name}'")
    return host


def down() -> None:
    """Remove the lab of this name running on this machine, whichever checkout started it, and this checkout's; the
    bridge and NAT rule too, unless another lab still runs."""
    running = this_labs(running_hosts())
    hosts = [Host(root.name, "", [], pid) for pid, root in running.items()]
    lab_dirs = {LAB_DIR, *(root.parents[1] for root in running.values())}
    for host in hosts:
        os.kill(host.pid, signal.SIGTERM)  # nspawn asks the host's systemd to power off
    # The hosts are thrown away next: 10 s to power off together, then whatever still runs is killed.
    deadline = time.monotonic() + 10
    for host in hosts:
        while alive(host.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        if alive(host.pid):
            kill(host)
    for lab_dir in lab_dirs:
        if lab := Lab.load(lab_dir):
            for host in lab.hosts:
                if cap := lab.cap(host):
                    cap.remove()
            Path(lab.inventory).unlink(missing_ok=True)
        shutil.rmtree(lab_dir / "hosts", ignore_errors=True)
        shutil.rmtree(lab_dir / VOLUMES.name, ignore_errors=True)
        (lab_dir / "state.json").unlink(missing_ok=True)
    if others := running_hosts():
        print(f"lab: {LAB} down; the bridge stays for {', '.join(sorted(root.name for root in others.values()))}")
        return
    while run("iptables", "-t", "nat", "-D", *NAT_RULE, check=False).returncode == 0:
        pass
    run("ip", "link", "del", BRIDGE, check=False)
    print(f"lab: {LAB} down (hosts, bridge and NAT rule removed)")


def status() -> bool:
    lab = Lab.load()
    if not lab:
        print("lab: not running")
        return False
    for host in lab.hosts:
        state = "up" if alive(host.pid) and port_open(host.address, 22) else "DOWN"
        print(f"{host.name:10} {host.address:12} {','.join(host.groups):12} {state}")
    return all(alive(h.pid) for h in lab.hosts)


def port_open(address: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((address, port)) == 0


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM (a test run or CI limit ending) unwinds like Ctrl-C, so `up` removes what it booted."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "replace"])
    parser.add_argument("--host", help="replace: the host to lose and boot fresh")
    parser.add_argument("--topology", default="all-in-one")
    parser.add_argument("--app-servers", type=int, default=2)
    parser.add_argument("--cpus-per-server", type=float, default=0, help="CPU cap per app host, e.g. 0.5 (root)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        if args.command == "up":
            up(args.topology, args.app_servers, args.cpus_per_server)
        elif args.command == "down":
            down()
        elif args.command == "replace":
            replace(args.host or "")
        else:
            return 0 if status() else 1
    except (LabError, CpuCapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
