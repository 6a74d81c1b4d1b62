"""Terraform for `make deploy-aws`, `aws-plan`, `aws-scale` and `destroy-aws`; the Ansible `aws` inventory.

    python -m deploy.terraform.aws apply --topology split --app-servers 2   # init, apply, inventory, wait for SSH
    python -m deploy.terraform.aws scale --app-servers 4                    # the new count; the hosts to provision
    python -m deploy.terraform.aws plan | url | destroy [--auto-approve]

Knobs (environment): ADMIN_CIDR (the network SSH is open to, required for apply), SSH_KEY (private key;
its .pub goes to the servers; default ~/.ssh/id_ed25519), TF_DIR (the root, default deploy/terraform),
SSH_TIMEOUT (seconds to wait for the servers' SSH, default 600).

The knobs of the last apply are kept in TF_DIR/scaleboard.auto.tfvars.json (gitignored), so plan, scale
and destroy use the same values without repeating them. Anything else goes in TF_DIR/terraform.tfvars.

The site's TLS knobs (--domain, --acme-email, --acme-directory, --tls) are Ansible's, not Terraform's: kept
in TF_DIR/scaleboard.site.json the same way, and written into the inventory (roles/tls).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from deploy import defaults
from deploy.ansible import inventory

ROOT = Path(__file__).resolve().parents[2]

ANSIBLE = ROOT / "deploy" / "ansible"
INVENTORY = ANSIBLE / "inventories" / "aws" / "hosts.yml"
STATE_DIR = ROOT / ".var" / "terraform"
KNOWN_HOSTS = STATE_DIR / "known_hosts"
KNOBS_FILE = "scaleboard.auto.tfvars.json"
SITE_FILE = "scaleboard.site.json"
# The site knobs and the inventory variables they set.
SITE_VARIABLES = {"domain": "scaleboard_domain", "acme_email": "scaleboard_acme_email",
                  "acme_directory": "tls_acme_directory", "tls": "scaleboard_tls"}  # fmt: skip
# Where provider mirrors live on machines without registry access (checked in this order).
MIRROR_ROOTS = [
    Path("/opt/tf-plugins"),
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
    Path.home() / ".terraform.d" / "plugins",
]


class AwsError(RuntimeError):
    """A step cannot go on; the message says what to set or do."""


def tf_dir() -> Path:
    return Path(os.environ.get("TF_DIR", ROOT / "deploy" / "terraform")).resolve()


def terraform_env() -> dict[str, str]:
    """The environment terraform runs in: a provider mirror if this machine has one, else the registry."""
    # The ports are written once (deploy/defaults.env); the security groups and the ALB open and target them.
    env = dict(os.environ, TF_IN_AUTOMATION="1", TF_VAR_app_port=str(defaults.APP_PORT),
               TF_VAR_exporter_ports=json.dumps(defaults.EXPORTER_PORTS),
               TF_VAR_monitor_ports=json.dumps(defaults.MONITOR_PORTS))  # fmt: skip
    configured = env.get("TF_CLI_CONFIG_FILE")
    if configured and Path(configured).is_file():
        return env
    for root in MIRROR_ROOTS:
        if (root / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            STATE_DIR.mkdir(parents=True, exist_ok=True)
            config = STATE_DIR / "cli.tfrc"
            config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{root}"\n  }}\n}}\n')
            env["TF_CLI_CONFIG_FILE"] = str(config)
            return env
    env.pop("TF_CLI_CONFIG_FILE", None)  # a preset that names no file would stop terraform
    return env


def terraform(*args: str, capture: bool = False) -> str:
    if not shutil.which("terraform"):
        raise AwsError(
            "terraform not found: install Terraform >= 1.6 (https://developer.hashicorp.com/terraform/install)"
        )
    # Colour codes only where someone watches a terminal, not in CI logs or pipes.
    color = [] if sys.stdout.isatty() else ["-no-color"]
    result = subprocess.run(
        ["terraform", f"-chdir={tf_dir()}", args[0], *color, *args[1:]], env=terraform_env(), text=True,
        stdout=subprocess.PIPE if capture else None,
    )  # fmt: skip
    if result.returncode != 0:
        raise AwsError(f"`terraform {args[0]}` failed (see above); fix that, then run the same make target again")
    return result.stdout or ""


def require_credentials() -> None:
    names = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI")
    files = (Path.home() / ".aws" / "credentials", Path.home() / ".aws" / "config")
    if not any(os.environ.get(name) for name in names) and not any(f.exists() for f in files):
        raise AwsError("no AWS credentials: set AWS_PROFILE (aws configure) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")


def ssh_key() -> Path:
    key = Path(os.environ.get("SSH_KEY") or Path.home() / ".ssh" / "id_ed25519").expanduser()
    if not key.exists() or not key.with_suffix(".pub").exists():
        raise AwsError(f"no SSH key pair at {key}(.pub): set SSH_KEY=/path/to/key or run ssh-keygen -t ed25519")
    return key.resolve()


def load_kept(name: str) -> dict[str, object]:
    """Knobs of the last apply kept in TF_DIR/<name> (KNOBS_FILE, SITE_FILE); empty before the first."""
    path = tf_dir() / name
    return dict(json.loads(path.read_text())) if path.exists() else {}


def save_kept(name: str, knobs: dict[str, object]) -> None:
    (tf_dir() / name).write_text(json.dumps(knobs, indent=2) + "\n")


def load_knobs() -> dict[str, object]:
    return load_kept(KNOBS_FILE)


def load_site() -> dict[str, str]:
    return {name: str(value) for name, value in load_kept(SITE_FILE).items()}


def save_site(given: dict[str, str | None]) -> dict[str, str]:
    """The site knobs given now over the last apply's; returns them all."""
    site = load_site() | {name: value for name, value in given.items() if value}
    save_kept(SITE_FILE, dict(site))
    return site


def alb(state: dict[str, object]) -> dict[str, object]:
    """The ALB's facts from the inventory output ({} without use_alb): dns name, subnets, whether it has HTTPS."""
    facts = state.get("inventory")
    return facts if isinstance(facts, dict) and facts.get("lb_dns_name") else {}


def site_tls(state: dict[str, object], site: dict[str, str]) -> str:
    """roles/tls's mode, or `external` when the ALB terminates TLS with its ACM certificate (certificate_arn)."""
    if alb(state):
        return "external" if alb(state).get("lb_https") else "none"
    return site.get("tls") or ("acme" if site.get("domain") else "none")


def site_url(state: dict[str, object], site: dict[str, str]) -> str:
    """https://<domain> once the site has one (and TLS is not turned off), else Terraform's URL."""
    if site.get("domain") and site_tls(state, site) != "none":
        return f"https://{site['domain']}"
    return str(state["url"])


def init() -> None:
    terraform("init", "-input=false")


def outputs() -> dict[str, object]:
    return {key: value["value"] for key, value in json.loads(terraform("output", "-json", capture=True)).items()}


def write_inventory(
    state: dict[str, object], key: Path, admin_cidr: str, path: Path = INVENTORY, site: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """Terraform's `inventory` output as the Ansible inventory; returns {group: host names}."""
    facts = state.get("inventory")
    if not isinstance(facts, dict):
        raise AwsError("terraform has no `inventory` output: run `make deploy-aws` (apply) first")
    hosts = [
        inventory.InventoryHost(name, tuple(host["groups"]), host["ansible_host"], host["scaleboard_private_address"])
        for name, host in facts["hosts"].items()
    ]
    url = str(state["url"])
    variables = {
        "ansible_user": facts["ansible_user"],
        "ansible_ssh_private_key_file": str(key),
        # New servers: trust each host key on first contact, in a file of this deployment's own.
        "ansible_ssh_common_args": f"-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={KNOWN_HOSTS}",
        "scaleboard_topology": facts["topology"],
        "common_admin_cidrs": [admin_cidr],
        # The address users reach the site on must be an allowed host name.
        "scaleboard_server_names": [url.split("://", 1)[1]],
        **{SITE_VARIABLES[name]: value for name, value in (site or {}).items() if name in SITE_VARIABLES},
        **backup_repository(state),
        **managed_services(state, site or {}),
    }
    written_by = "Written by deploy/terraform/aws.py from `terraform output`; `make destroy-aws` removes it."
    return inventory.write(path, hosts, variables, written_by=written_by)


def backup_repository(state: dict[str, object]) -> dict[str, str]:
    """The pgbackrest role's S3 repository: Terraform's backups bucket, under the prefix the database server's
    instance profile may write (its credentials: key type auto)."""
    repository = state.get("backup_repository")
    if not isinstance(repository, dict):
        return {}
    return {"pgbackrest_repo_type": "s3", "pgbackrest_s3_bucket": str(repository["bucket"]),
            "pgbackrest_s3_region": str(repository["region"]), "pgbackrest_repo_path": str(repository["path"]),
            "pgbackrest_s3_key_type": "auto"}  # fmt: skip


def managed_services(state: dict[str, object], site: dict[str, str]) -> dict[str, object]:
    """What stands in for the db and lb servers: RDS's endpoint (use_rds) and the networks the ALB's nodes connect
    from (use_alb), whose TLS is the ALB's."""
    facts = state.get("inventory")
    found: dict[str, object] = {}
    if isinstance(facts, dict) and facts.get("database_address"):
        found["scaleboard_database_address"] = str(facts["database_address"])
    if alb(state):
        found["scaleboard_lb_networks"] = list(alb(state)["lb_networks"])  # type: ignore[call-overload]
        found["scaleboard_tls"] = site_tls(state, site)
    return found


def read_inventory(path: Path = INVENTORY) -> dict[str, dict[str, dict[str, object]]]:
    """The groups of the written inventory: {group: {host: vars}} (empty if there is none)."""
    return inventory.read(path)


def wait_for_ssh() -> None:
    timeout = int(os.environ.get("SSH_TIMEOUT", "600"))
    print(f"aws: waiting up to {timeout} s for SSH on every server", flush=True)
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible"), "all", "-i", str(INVENTORY), "-o",
         "-m", "ansible.builtin.wait_for_connection", "-a", f"timeout={timeout}"],
        cwd=ANSIBLE, env=dict(os.environ, ANSIBLE_CONFIG="ansible.cfg"),
    )  # fmt: skip
    if result.returncode != 0:
        raise AwsError(
            "some servers did not answer SSH: check ADMIN_CIDR is your address and SSH_KEY the key, then run "
            "the same make target again (it converges)"
        )


def apply(
    topology: str | None, app_servers: int | None, auto_approve: bool, site: dict[str, str | None] | None = None
) -> dict[str, list[str]]:
    """Apply; topology, app servers and the site knobs default to the last apply's, so a bare re-run converges,
    never reshapes."""
    require_credentials()
    key = ssh_key()
    knobs = load_knobs()
    admin_cidr = os.environ.get("ADMIN_CIDR") or knobs.get("admin_cidr")
    if not admin_cidr:
        raise AwsError("set ADMIN_CIDR to the network SSH may come from, e.g. ADMIN_CIDR=$(curl -s ifconfig.me)/32")
    # What is not given stays as last applied, else variables.tf's default.
    given = {"topology": topology, "app_servers": app_servers}
    knobs.update({name: value for name, value in given.items() if value}, admin_cidr=admin_cidr,
                 ssh_public_key=key.with_suffix(".pub").read_text().strip())  # fmt: skip
    save_kept(KNOBS_FILE, knobs)
    saved_site = save_site(site or {})
    init()
    terraform("apply", "-input=false", *(["-auto-approve"] if auto_approve else []))
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    state = outputs()
    groups = write_inventory(state, key, str(admin_cidr), site=saved_site)
    if saved_site.get("domain") and alb(state):
        print(f"aws: {saved_site['domain']} must be a CNAME (or Route 53 alias) of {alb(state)['lb_dns_name']}")
    elif saved_site.get("domain"):
        address = str(state["url"]).split("://", 1)[1]
        print(f"aws: {saved_site['domain']} must have an A record for {address}: the ACME CA checks it over HTTP")
    print(f"aws: inventory {INVENTORY.relative_to(ROOT)}: " + ", ".join(f"{g} {h}" for g, h in groups.items()))
    wait_for_ssh()
    return groups


def scale(app_servers: int | None, auto_approve: bool) -> None:
    """Apply the new app count; write the Ansible --limit that provisions only what changed."""
    if not app_servers:
        raise AwsError("say how many app servers: make aws-scale APP_SERVERS=N")
    knobs = load_knobs()
    if knobs.get("topology") != "split":
        raise AwsError("aws-scale needs the split topology: `make deploy-aws TOPOLOGY=split APP_SERVERS=N` first")
    before = set(read_inventory().get("app", {}))
    groups = apply("split", app_servers, auto_approve)
    added = sorted(set(groups["app"]) - before)
    # New app servers get everything; the database learns their addresses (pg_hba), the load balancer
    # their upstreams and the monitor server its scrape targets. Removed servers only leave those lists.
    limit = ":".join(groups["db"] + groups["lb"] + groups["monitor"] + added) or "all"
    (STATE_DIR / "limit").write_text(limit + "\n")
    print(f"aws: app servers {len(groups['app'])} (added: {', '.join(added) or 'none'}); provisioning {limit}")


def destroy(auto_approve: bool) -> None:
    require_credentials()
    if not auto_approve:
        answer = input(f"Destroy every AWS resource of {tf_dir()}'s state? Type 'destroy' to go on: ")
        if answer.strip() != "destroy":
            raise AwsError("not destroyed (answer was not 'destroy'); AUTO_APPROVE=1 skips the question")
    init()
    terraform("destroy", "-input=false", "-auto-approve")
    for path in (INVENTORY, KNOWN_HOSTS, STATE_DIR / "limit"):
        path.unlink(missing_ok=True)
    print("aws: destroyed; inventory and known hosts removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["plan", "apply", "scale", "url", "destroy"])
    # Unset: the last apply's values (scaleboard.auto.tfvars.json), else all-in-one / 2.
    parser.add_argument("--topology", choices=["all-in-one", "split"])
    parser.add_argument("--app-servers", type=int)
    parser.add_argument("--auto-approve", action="store_true")
    # The site (unset: the last apply's): its DNS name gets a certificate from the ACME CA (Let's Encrypt).
    parser.add_argument("--domain")
    parser.add_argument("--acme-email")
    parser.add_argument("--acme-directory")
    parser.add_argument("--tls", choices=["none", "self-signed", "acme"])
    args = parser.parse_args(argv)
    try:
        if args.command == "plan":
            require_credentials()
            init()
            terraform("plan", "-input=false")
        elif args.command == "apply":
            site = {"domain": args.domain, "acme_email": args.acme_email, "acme_directory": args.acme_directory,
                    "tls": args.tls}  # fmt: skip
            apply(args.topology, args.app_servers, args.auto_approve, site)
        elif args.command == "scale":
            scale(args.app_servers, args.auto_approve)
        elif args.command == "url":
            state = outputs()
            if not state.get("url"):
                raise AwsError("nothing deployed yet: run `make deploy-aws` first")
            url = site_url(state, load_site())
            print(f"aws: the site is at {url}")
            if url.startswith("http:") and alb(state):
                print("aws: WARNING: plain HTTP, passwords cross in clear: give the ALB an ACM certificate "
                      "(certificate_arn in terraform.tfvars) and run `make deploy-aws` again")  # fmt: skip
            elif url.startswith("http:"):
                print("aws: WARNING: plain HTTP, passwords cross in clear: `make deploy-aws DOMAIN=... "
                      "ACME_EMAIL=...` for a certificate (or TLS=self-signed)")  # fmt: skip
        else:
            destroy(args.auto_approve)
    except AwsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
