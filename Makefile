# Scaleboard: `make help` lists every target by group. Knobs are VAR=value on the command line.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The uv that `make setup` uses (and `make release` exports with): yours on PATH, else one it installs in .tools/.
export UV ?= $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
# Deployment defaults, each written once in deploy/defaults.env (ports, workers, demo data sizes), become `?=`
# defaults here: a value on the command line or in the environment wins.
$(foreach pair,$(shell sed -n 's/^\([A-Z_]*\)=\([^ ]*\)$$/\1=\2/p' deploy/defaults.env),$(eval $(subst =, ?= ,$(pair))))
# compose.yaml reads these too (the image's port, the web service's; nginx's port on 127.0.0.1).
export APP_PORT STACK_PORT PROMETHEUS_PORT
# The version: pyproject.toml's.
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k api -x"`. The coverage floor applies to whole runs only.
PYTEST_ARGS ?=
PYTEST = $(BIN)/python -m pytest --cov --cov-report=term $(if $(PYTEST_ARGS),--cov-fail-under=0) $(PYTEST_ARGS)
# The local production stack: `make stack-up TOPOLOGY=split APP_SERVERS=3`. STACK_PORT is nginx's port;
# WEB_CONCURRENCY is gunicorn's workers per app server (the env contract's name).
TOPOLOGY ?= all-in-one
APP_SERVERS ?= 1
# CPU cap per app server (e.g. 0.5), needs root; empty = uncapped.
CPUS_PER_SERVER ?=
# MONITORING=1: Prometheus too, on PROMETHEUS_PORT, scraping the app servers with the alert rules (stack-up); its
# figures in the report (bench-scaling TARGET=stack; the lab always has a monitor host).
MONITORING ?=
# Load tests: `make loadtest HOST=http://127.0.0.1:8080 USERS=50 RUN_TIME=60s [SCENARIO=read,api]`.
HOST ?=
USERS ?= 20
SPAWN_RATE ?= 5
RUN_TIME ?= 60s
# The monitor host's Prometheus (e.g. http://10.77.0.12:9090): `make loadtest` adds the servers' CPU and PostgreSQL.
PROMETHEUS ?=
PROCESSES ?= 1
SCENARIO ?=
LOAD_SHAPE ?=
MASTER_HOST ?= 127.0.0.1
EXPECT_WORKERS ?= 1
# Benchmarks: QUICK=1 for a short run. bench-scaling runs on the local stack or the nspawn lab.
QUICK ?=
TARGET ?= stack
# Containers: podman if present, else docker. BASE_IMAGE=localhost/scaleboard-base:bookworm (make
# docker-base) where no registry is reachable. CA_BUNDLE is handed to the build as a secret (proxies).
CONTAINER_ENGINE ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || echo docker)
IMAGE ?= localhost/scaleboard:dev
# Extra image labels, key=value separated by spaces (make package sets the OCI version and revision).
IMAGE_LABELS ?=
NO_IMAGE ?=
AUDIT ?=
# make publish: false for a registry on plain HTTP (a test's) or behind a private CA.
REGISTRY_TLS_VERIFY ?= true
# Where make package writes builds (<version>/) and make publish finds them.
PACKAGES_DIR ?= $(CURDIR)/.var/packages
# make deploy (or provision) VERSION=0.1.0+g1a2b3c4 REGISTRY=...: ship that published release, not the tree.
DEPLOY_VERSION := $(if $(filter command line,$(origin VERSION)),$(VERSION))
RELEASE_SOURCE := $(if $(DEPLOY_VERSION),fetch-release,release)
RELEASE_REF ?=
IMAGE_REF ?=
REGISTRY_TLS_FLAG = $(if $(filter false,$(REGISTRY_TLS_VERIFY)),--no-tls-verify)
# Published VERSION's image as name@digest, its version label checked: resolved from REGISTRY, or exactly IMAGE_REF
# (make promote passes the staged one). What k8s-deploy and compose-up run.
PUBLISHED_IMAGE = $(BIN)/python -m deploy.fetch_release --image --version "$(DEPLOY_VERSION)" \
	$(if $(IMAGE_REF),--pinned "$(IMAGE_REF)",--registry "$(REGISTRY)") $(REGISTRY_TLS_FLAG)
# make smoke URL=...: the site checked, and its short Locust run (the load test's thresholds apply).
URL ?=
SMOKE_USERS ?= 5
SMOKE_RUN_TIME ?= 15s
# Readers only: the check's own steps write, and a fresh site has none of the seeded accounts writers sign in as.
SMOKE_SCENARIO ?= read
# Where make stage and make promote deploy: an inventory (servers), compose, or k8s/<overlay>. make stage
# smoke-checks STAGE_URL (compose: the stack's own URL).
STAGE_TO ?= lab
PROMOTE_TO ?= aws
STAGE_URL ?= $(if $(filter compose,$(STAGE_TO)),http://127.0.0.1:$(STACK_PORT))
# What make stage and make promote record (staged.json, promoted.json).
DELIVERY_DIR ?= $(CURDIR)/.var/delivery
BASE_IMAGE ?= docker.io/library/python:3.11-slim-bookworm
CA_BUNDLE ?= $(wildcard /etc/ssl/certs/ca-certificates.crt)
SCALE ?= 3
PROFILES ?=
COMPOSE ?= $(shell command -v podman-compose >/dev/null 2>&1 && echo podman-compose || echo docker compose)
# podman needs --format docker for the Dockerfile's HEALTHCHECK; Docker (BuildKit) has no such flag.
BUILD = $(CONTAINER_ENGINE) build $(if $(filter podman,$(notdir $(CONTAINER_ENGINE))),--format docker)
# Images built here from the local Debian base where no registry is reachable (make compose-local-images).
LOCAL_BASE_IMAGE := localhost/scaleboard-base:bookworm
LOCAL_POSTGRES_IMAGE := localhost/scaleboard-postgres:15
LOCAL_NGINX_IMAGE := localhost/scaleboard-nginx:bookworm
LOCAL_PROMETHEUS_IMAGE := localhost/scaleboard-prometheus:bookworm
comma := ,
export CONTAINERS_CONF ?= $(CURDIR)/docker/podman/containers.conf
# Kubernetes: `make k8s-deploy OVERLAY=local|aws [REGISTRY=... IMAGE_TAG=...]`, `make k8s-scale N=5`.
OVERLAY ?= local
REGISTRY ?=
IMAGE_TAG ?= $(VERSION)
N ?=
# Locust worker pods for `make k8s-loadtest`.
LOCUST_WORKERS ?= 2
# Ansible: which inventory under deploy/ansible/inventories/ (lab, vagrant, aws) and extra arguments,
# e.g. `make deploy INVENTORY=lab ANSIBLE_ARGS="--limit sb-app1"`. LABEL names a release (make release).
INVENTORY ?= lab
ANSIBLE_ARGS ?=
# make backup / make restore: the backup's type, and a time to restore to ("2026-12-03 05:00:00+00").
BACKUP_TYPE ?= full
TARGET_TIME ?=
# make restore-drill: seconds of writes left to WAL archiving before the loss (archive_timeout is 60 s), and
# CONFIRM=1 to run it on an inventory other than the lab (it rolls that database back in time).
DRILL_TAIL_SECONDS ?= 10
CONFIRM ?=
# make lab-replace: the lab host to lose and boot fresh.
LAB_HOST ?= sb-db
# The lab make lab-* act on: lab, or lab-staging beside it (its inventory has the same name).
LAB ?= lab
LABEL ?=
PLAYBOOK = cd deploy/ansible && ANSIBLE_CONFIG=ansible.cfg ../../$(BIN)/ansible-playbook -i inventories/$(INVENTORY)/hosts.yml \
	$(ANSIBLE_ARGS)
# The release `make release` built (extra vars: what the playbooks ship).
RELEASE_VARS = -e @../../.var/releases/release.yml
# Vagrant runs the ansible provisioner with the project's ansible-playbook (.venv/bin first on PATH).
VAGRANT = cd deploy/vagrant && PATH="$(CURDIR)/$(BIN):$$PATH" vagrant
# AWS (deploy/terraform): ADMIN_CIDR=x.x.x.x/32 is the only network SSH is open to, SSH_KEY the private key
# whose .pub goes to the servers (default ~/.ssh/id_ed25519); AUTO_APPROVE=1 skips terraform's questions.
ADMIN_CIDR ?=
SSH_KEY ?=
AUTO_APPROVE ?=
# The site's name: DOMAIN=shop.example.org (its A record pointing at the load balancer) gets a certificate from
# Let's Encrypt (ACME_EMAIL for its notices; ACME_DIRECTORY for another ACME CA, e.g. Let's Encrypt's staging);
# TLS=self-signed without a domain, TLS=none to go back to plain HTTP. Kept for later runs, like TOPOLOGY.
DOMAIN ?=
ACME_EMAIL ?=
ACME_DIRECTORY ?=
TLS ?=
AWS = ADMIN_CIDR="$(ADMIN_CIDR)" SSH_KEY="$(SSH_KEY)" $(BIN)/python -m deploy.terraform.aws
# Only what the user set is passed on: a bare `make deploy-aws` re-applies the last TOPOLOGY/APP_SERVERS
# instead of the Makefile's defaults (which would turn a split deployment into an all-in-one).
given = $(if $(filter-out file default undefined,$(origin $(1))),$(2) $($(1)))
# Arguments for `make manage`, e.g. `make manage ARGS="createsuperuser"`.
ARGS ?=

# The dev database: DATABASE_URL if you set one, else the project-local cluster (started on demand).
WITH_DB = DATABASE_URL="$${DATABASE_URL:-$$($(PYTHON) deploy/local/postgres.py start)}"

##@ Develop

.PHONY: help
help: ## Show this list, by group (colour on a terminal only)
	@scripts/make-help.sh $(MAKEFILE_LIST)

# Two environments in one .venv: `make run` syncs only the app's runtime dependencies (and removes
# nothing); `make setup` syncs everything a developer needs (tests, linters, deploy and load tools).
$(VENV)/.synced-run: pyproject.toml uv.lock
	@PYTHON=$(PYTHON) scripts/bootstrap-venv.sh --no-default-groups --inexact
	@touch $@

$(VENV)/.synced-dev: pyproject.toml uv.lock
	@PYTHON=$(PYTHON) scripts/bootstrap-venv.sh
	@touch $@ $(VENV)/.synced-run

.PHONY: setup
setup: $(VENV)/.synced-dev ## Create .venv with every locked dependency group (installs uv if missing)

.PHONY: run
run: $(VENV)/.synced-run ## Start PostgreSQL, migrate, seed demo data, serve on http://127.0.0.1:8000 (SEED_*)
	@SEED_USERS=$(SEED_USERS) SEED_POSTS=$(SEED_POSTS) SEED_COMMENTS=$(SEED_COMMENTS) SEED=$(SEED) \
		APP_PORT=$(APP_PORT) WEB_CONCURRENCY=$(WEB_CONCURRENCY) scripts/run-dev.sh

.PHONY: test
test: setup ## The fast tier: app, configs, renders, static checks; no root or containers (PYTEST_ARGS)
	$(PYTEST) -m "not system"

.PHONY: test-all
test-all: setup ## Everything: as root first installs scripts/system-packages.txt; else skips name what is missing
	@scripts/install-system-packages.sh --if-root
	$(PYTEST)

.PHONY: lint
lint: setup ansible-deps ## ruff (lint + format check), mypy, ansible-lint (production profile), yamllint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# django-stubs imports the test settings, which need a DATABASE_URL to exist (never connected to).
	DATABASE_URL=postgres://typecheck@localhost/typecheck $(BIN)/mypy app deploy loadtest
	cd deploy/ansible && ../../$(BIN)/ansible-lint --offline -q
	$(BIN)/yamllint -c .yamllint.yml deploy/ansible .yamllint.yml .pre-commit-config.yaml

.PHONY: fmt
fmt: setup ## Format and auto-fix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: seed
seed: setup ## Add demo data (SEED_USERS, SEED_POSTS, SEED_COMMENTS, SEED); never deletes
	$(WITH_DB) $(BIN)/python app/manage.py seed_demo --users $(SEED_USERS) --posts $(SEED_POSTS) \
		--comments $(SEED_COMMENTS) --seed $(SEED)

.PHONY: migrate
migrate: setup ## Apply database migrations to the dev database
	$(WITH_DB) $(BIN)/python app/manage.py migrate

.PHONY: manage
manage: setup ## Run a manage.py command against the dev database: make manage ARGS="shell"
	$(WITH_DB) $(BIN)/python app/manage.py $(ARGS)

.PHONY: db-start
db-start: ## Start the project-local PostgreSQL (.var/postgres) and print its DATABASE_URL
	@$(PYTHON) deploy/local/postgres.py start

.PHONY: db-stop
db-stop: ## Stop the project-local PostgreSQL (data is kept)
	@$(PYTHON) deploy/local/postgres.py stop

.PHONY: db-status
db-status: ## Say whether the project-local PostgreSQL runs
	@$(PYTHON) deploy/local/postgres.py status || true

.PHONY: env-example
env-example: setup ## Regenerate .env.example from the env contract (app/config/env.py)
	cd app && ../$(BIN)/python -m config.env > ../.env.example

.PHONY: render-configs
render-configs: setup ## Re-render the committed files of the image, compose and k8s from deploy/defaults.env, nginx
	$(BIN)/python -m deploy.render_committed

.PHONY: clean
clean: ## Remove caches, coverage and collected static files (keeps .venv and the database)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis .schemathesis .coverage .coverage.* htmlcov app/staticfiles
	find . -name __pycache__ -type d -not -path "./.venv/*" -prune -exec rm -rf {} +

.PHONY: distclean
distclean: clean ## Also remove .venv and .tools (keeps the database in .var/)
	rm -rf $(VENV) .tools

##@ Local production stack and load tests

.PHONY: stack-up
stack-up: setup ## PostgreSQL, APP_SERVERS gunicorns, nginx on STACK_PORT (TOPOLOGY WEB_CONCURRENCY CPUS_PER_SERVER SEED_* MONITORING)
	$(BIN)/python -m deploy.local.stack up --topology $(TOPOLOGY) --app-servers $(APP_SERVERS) --port $(STACK_PORT) \
		--workers $(WEB_CONCURRENCY) $(if $(CPUS_PER_SERVER),--cpus-per-server $(CPUS_PER_SERVER)) \
		--seed $(SEED_USERS),$(SEED_POSTS),$(SEED_COMMENTS) $(if $(MONITORING),--monitoring-port $(PROMETHEUS_PORT))

.PHONY: stack-status
stack-status: setup ## Show the local stack's processes and their health
	$(BIN)/python -m deploy.local.stack status

.PHONY: stack-down
stack-down: setup ## Stop everything stack-up started (the stack's database files are kept)
	$(BIN)/python -m deploy.local.stack down

.PHONY: loadtest
loadtest: setup ## Headless Locust run against HOST; CSV + HTML in loadtest/reports/; fails on thresholds (PROMETHEUS)
	HOST=$(HOST) USERS=$(USERS) SPAWN_RATE=$(SPAWN_RATE) RUN_TIME=$(RUN_TIME) PROCESSES=$(PROCESSES) \
		SCENARIO=$(SCENARIO) LOAD_SHAPE=$(LOAD_SHAPE) PROMETHEUS=$(PROMETHEUS) loadtest/run.sh

.PHONY: loadtest-master
loadtest-master: setup ## Distributed Locust: the master (web UI on :8089) waiting for EXPECT_WORKERS
	$(BIN)/python -m locust -f loadtest/locustfile.py --master --expect-workers $(EXPECT_WORKERS) --host $(HOST)

.PHONY: loadtest-worker
loadtest-worker: setup ## Distributed Locust: a worker connecting to MASTER_HOST (run one per core/machine)
	$(BIN)/python -m locust -f loadtest/locustfile.py --worker --master-host $(MASTER_HOST)

##@ Benchmarks

.PHONY: soak
soak: setup ## The locustfile's mix against a local stack for DURATION (10m): errors, p95 per minute, memory growth
	DURATION=$(or $(DURATION),10m) USERS=$(USERS) SPAWN_RATE=$(SPAWN_RATE) $(BIN)/python -m loadtest.soak

.PHONY: bench-microcache
bench-microcache: setup ## CPU the app servers spend per 1,000 reader requests, nginx microcache off vs on (DURATION READERS)
	DURATION=$(or $(DURATION),60s) $(BIN)/python -m loadtest.microcache

.PHONY: bench-app
bench-app: setup ## Page speed vs the raw-WSGI speed of light, direct and via nginx (wrk; QUICK=1 REPEATS DURATION)
	QUICK=$(QUICK) WEB_CONCURRENCY=$(WEB_CONCURRENCY) $(BIN)/python -m loadtest.bench_app

.PHONY: bench-scaling
bench-scaling: setup ## Bigger server or more servers? TARGET=stack|lab, two workloads, a kill, the bill (root; QUICK=1 MONITORING=1)
	QUICK=$(QUICK) TARGET=$(TARGET) PROCESSES=$(PROCESSES) MONITORING=$(MONITORING) $(BIN)/python -m loadtest.scaling

.PHONY: profile-page
profile-page: setup ## Where pages' CPU time goes in the app: ms per request, layers, hottest functions (QUICK=1 PAGES)
	QUICK=$(QUICK) PYTHONPATH=app $(BIN)/python -m loadtest.profile_page

##@ Containers

.PHONY: docker-base
docker-base: ## Build a local Debian 12 + Python base image (no registry needed; root, mmdebstrap)
	docker/build-local-base.sh

.PHONY: docker-build
docker-build: ## Build the app image IMAGE from docker/Dockerfile on BASE_IMAGE (podman, or docker with BuildKit)
	$(BUILD) -f docker/Dockerfile -t $(IMAGE) --build-arg BASE_IMAGE=$(BASE_IMAGE) --build-arg APP_PORT=$(APP_PORT) \
		$(foreach label,$(IMAGE_LABELS),--label $(label)) $(if $(CA_BUNDLE),--secret id=ca_bundle$(comma)src=$(CA_BUNDLE)) .

docker/compose.env:
	sed "s/^DJANGO_SECRET_KEY=.*/DJANGO_SECRET_KEY=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')/" \
		docker/compose.env.example > $@

.PHONY: compose-local-images
compose-local-images: docker-base ## Build compose's postgres, nginx and prometheus images from the Debian base (no registry; root)
	$(BUILD) -f docker/local-images/postgres.Dockerfile -t $(LOCAL_POSTGRES_IMAGE) --build-arg BASE_IMAGE=$(LOCAL_BASE_IMAGE) docker/local-images
	$(BUILD) -f docker/local-images/nginx.Dockerfile -t $(LOCAL_NGINX_IMAGE) --build-arg BASE_IMAGE=$(LOCAL_BASE_IMAGE) docker/local-images
	$(BUILD) -f docker/local-images/prometheus.Dockerfile -t $(LOCAL_PROMETHEUS_IMAGE) --build-arg BASE_IMAGE=$(LOCAL_BASE_IMAGE) docker/local-images
	@echo "then: make compose-up POSTGRES_IMAGE=$(LOCAL_POSTGRES_IMAGE) NGINX_IMAGE=$(LOCAL_NGINX_IMAGE) PROMETHEUS_IMAGE=$(LOCAL_PROMETHEUS_IMAGE) [BASE_IMAGE=$(LOCAL_BASE_IMAGE)]"

.PHONY: compose-up
compose-up: docker/compose.env ## db, migrations once, SCALE web replicas, nginx on STACK_PORT; builds IMAGE if missing (PROFILES VERSION)
	image=$(if $(DEPLOY_VERSION),$$($(PUBLISHED_IMAGE)),"$(IMAGE)") && \
	SCALEBOARD_IMAGE=$$image BASE_IMAGE=$(BASE_IMAGE) COMPOSE="$(COMPOSE)" CONTAINER_ENGINE=$(CONTAINER_ENGINE) \
		SCALE=$(SCALE) PROFILES=$(PROFILES) REGISTRY_TLS_VERIFY=$(REGISTRY_TLS_VERIFY) docker/compose-up.sh

.PHONY: compose-down
compose-down: ## Stop and remove the compose services (the database volume is kept)
	cd docker && $(COMPOSE) down

.PHONY: compose-logs
compose-logs: ## Follow the compose services' logs
	cd docker && $(COMPOSE) logs -f

##@ Servers: Ansible, the lab of fresh Debian hosts, Vagrant

.PHONY: ansible-deps
ansible-deps: setup ## Install the Ansible collections the roles use (Galaxy, or the ansible wheel on PyPI)
	$(BIN)/python deploy/ansible/install_collections.py

.PHONY: release
release: setup ## Build the release archive Ansible ships: .var/releases/<version>/ (LABEL=name optional)
	$(BIN)/python -m deploy.release $(if $(LABEL),--label $(LABEL))

.PHONY: provision
provision: ansible-deps $(RELEASE_SOURCE) ## Converge INVENTORY (lab|vagrant|aws) with site.yml: db, app servers, nginx (VERSION)
	$(PLAYBOOK) $(RELEASE_VARS) site.yml

.PHONY: deploy
deploy: ansible-deps $(RELEASE_SOURCE) ## Roll the tree (or published VERSION) out to INVENTORY's app servers, one at a time, drained
	$(PLAYBOOK) $(RELEASE_VARS) deploy.yml

.PHONY: rollback
rollback: ansible-deps ## Switch INVENTORY's app servers back one release, one at a time, drained
	$(PLAYBOOK) rollback.yml

.PHONY: backup
backup: ansible-deps ## Back up INVENTORY's database now with pgBackRest (BACKUP_TYPE=full|diff|incr; timers do it daily)
	$(PLAYBOOK) backup.yml -e pgbackrest_backup_type=$(BACKUP_TYPE)

.PHONY: restore
restore: ansible-deps ## Restore INVENTORY's database from its backups: to TARGET_TIME, else to the last archived WAL
	$(PLAYBOOK) restore.yml $(if $(TARGET_TIME),-e '{"pgbackrest_target_time": "$(TARGET_TIME)"}')

.PHONY: restore-drill
restore-drill: ansible-deps ## Lose INVENTORY's db host mid-write and restore it: data lost (RPO), time to serve (RTO)
	$(BIN)/python -m deploy.restore_drill --inventory $(INVENTORY) --tail-seconds $(DRILL_TAIL_SECONDS) $(if $(CONFIRM),--confirm)

.PHONY: lab-up
lab-up: setup ## Fresh Debian 12 hosts (nspawn, root) and their inventory (LAB TOPOLOGY APP_SERVERS CPUS_PER_SERVER)
	LAB=$(LAB) $(BIN)/python -m deploy.lab.lab up --topology $(TOPOLOGY) --app-servers $(APP_SERVERS) \
		$(if $(CPUS_PER_SERVER),--cpus-per-server $(CPUS_PER_SERVER))

.PHONY: lab-provision
lab-provision: ## Converge the lab with site.yml (same as `make provision INVENTORY=$(LAB)`)
	$(MAKE) provision INVENTORY=$(LAB)

.PHONY: lab-status
lab-status: setup ## List the lab's hosts and whether they answer SSH
	LAB=$(LAB) $(BIN)/python -m deploy.lab.lab status

.PHONY: lab-replace
lab-replace: setup ## Kill lab host LAB_HOST (e.g. sb-db) without warning; boot a fresh one with its name and address
	LAB=$(LAB) $(BIN)/python -m deploy.lab.lab replace --host "$(LAB_HOST)"

.PHONY: lab-down
lab-down: setup ## Remove the lab's hosts and inventory; the bridge and NAT rule once no lab runs (LAB)
	LAB=$(LAB) $(BIN)/python -m deploy.lab.lab down

.PHONY: vagrant-up
vagrant-up: ansible-deps release ## Boot the all-in-one VM (deploy/vagrant) and provision it with site.yml
	$(BIN)/python -m deploy.dev_secrets .var/vagrant/secrets.json
	$(VAGRANT) up

.PHONY: vagrant-provision
vagrant-provision: ansible-deps release ## Run site.yml against the running VM again (the current tree as a new release)
	$(BIN)/python -m deploy.dev_secrets .var/vagrant/secrets.json
	$(VAGRANT) provision

.PHONY: vagrant-ssh
vagrant-ssh: ## Open a shell on the VM
	$(VAGRANT) ssh

.PHONY: vagrant-destroy
vagrant-destroy: ## Stop and delete the VM
	$(VAGRANT) destroy --force

##@ AWS (Terraform + Ansible)

.PHONY: deploy-aws
deploy-aws: ansible-deps release ## AWS: terraform apply (TOPOLOGY, APP_SERVERS), SSH, site.yml (DOMAIN: https), the URL
	$(AWS) apply $(call given,TOPOLOGY,--topology) $(call given,APP_SERVERS,--app-servers) $(if $(AUTO_APPROVE),--auto-approve) \
		$(if $(DOMAIN),--domain $(DOMAIN)) $(if $(ACME_EMAIL),--acme-email $(ACME_EMAIL)) \
		$(if $(ACME_DIRECTORY),--acme-directory $(ACME_DIRECTORY)) $(if $(TLS),--tls $(TLS))
	$(MAKE) provision INVENTORY=aws
	$(AWS) url

.PHONY: aws-plan
aws-plan: setup ## AWS: show what terraform would change (uses the last deploy-aws knobs)
	$(AWS) plan

.PHONY: aws-scale
aws-scale: ansible-deps release ## AWS: set the app server count to APP_SERVERS; provisions only new hosts, db and LB
	$(AWS) scale $(call given,APP_SERVERS,--app-servers) $(if $(AUTO_APPROVE),--auto-approve)
	$(MAKE) provision INVENTORY=aws ANSIBLE_ARGS="$(ANSIBLE_ARGS) --limit $$(cat .var/terraform/limit)"
	$(AWS) url

.PHONY: destroy-aws
destroy-aws: setup ## AWS: destroy everything deploy-aws made (asks first unless AUTO_APPROVE=1)
	$(AWS) destroy $(if $(AUTO_APPROVE),--auto-approve)

##@ Kubernetes (kustomize)

.PHONY: k8s-deploy
k8s-deploy: ## Kubernetes: [build+push REGISTRY/scaleboard:IMAGE_TAG, or published VERSION by digest,] apply OVERLAY, migrate, roll out
ifneq ($(DEPLOY_VERSION),)
	image=$$($(PUBLISHED_IMAGE)) && OVERLAY=$(OVERLAY) IMAGE_REF=$$image deploy/k8s/k8s.sh deploy
else
ifneq ($(REGISTRY),)
	$(MAKE) docker-build IMAGE=$(REGISTRY)/scaleboard:$(IMAGE_TAG)
	$(CONTAINER_ENGINE) push $(REGISTRY)/scaleboard:$(IMAGE_TAG)
endif
	OVERLAY=$(OVERLAY) REGISTRY=$(REGISTRY) IMAGE_TAG=$(if $(REGISTRY),$(IMAGE_TAG)) deploy/k8s/k8s.sh deploy
endif

.PHONY: k8s-scale
k8s-scale: ## Kubernetes: N web pods (raises the HPA's floor to N so it does not scale them back)
	N=$(N) deploy/k8s/k8s.sh scale

.PHONY: k8s-status
k8s-status: ## Kubernetes: deployments, pods, HPA, jobs, ingress
	deploy/k8s/k8s.sh status

.PHONY: k8s-logs
k8s-logs: ## Kubernetes: follow the web pods' logs
	deploy/k8s/k8s.sh logs

.PHONY: k8s-rollback
k8s-rollback: ## Kubernetes: roll web back to the previous ReplicaSet
	deploy/k8s/k8s.sh rollback

.PHONY: k8s-loadtest
k8s-loadtest: ## Kubernetes: distributed Locust (LOCUST_WORKERS pods) swarming USERS at the nginx Service
	USERS=$(USERS) SPAWN_RATE=$(SPAWN_RATE) LOCUST_WORKERS=$(LOCUST_WORKERS) deploy/k8s/k8s.sh loadtest

##@ Delivery: one build per commit

.PHONY: package
package: setup ## Release archive + image for this commit, manifest, SBOM, audit (NO_IMAGE=1 AUDIT=record)
	$(BIN)/python -m deploy.package $(if $(NO_IMAGE),--no-image,--engine $(CONTAINER_ENGINE)) \
		$(if $(AUDIT),--audit $(AUDIT)) --out "$(PACKAGES_DIR)"

.PHONY: package-version
package-version: setup ## Print the version make package gives this commit (0.1.0+g1a2b3c4), for pipelines
	@$(BIN)/python -m deploy.package --print-version

.PHONY: publish
publish: setup ## Push a package (VERSION, default this commit's) to REGISTRY by digest: image + release (REGISTRY_TLS_VERIFY)
	$(BIN)/python -m deploy.publish --registry "$(REGISTRY)" --packages "$(PACKAGES_DIR)" \
		$(if $(DEPLOY_VERSION),--version "$(DEPLOY_VERSION)") $(REGISTRY_TLS_FLAG)

.PHONY: fetch-release
fetch-release: setup ## Fetch published release VERSION from REGISTRY by digest, or exactly RELEASE_REF (name@digest)
	$(BIN)/python -m deploy.fetch_release --version "$(VERSION)" \
		$(if $(RELEASE_REF),--pinned "$(RELEASE_REF)",--registry "$(REGISTRY)") $(REGISTRY_TLS_FLAG)

.PHONY: smoke
smoke: setup ## Is the site at URL usable: /readyz, sign-up, sign-in, a post, a vote; then Locust's thresholds (SMOKE_*)
	$(BIN)/python -m deploy.smoke --url "$(URL)"
	$(MAKE) --no-print-directory loadtest HOST="$(URL)" USERS=$(SMOKE_USERS) RUN_TIME=$(SMOKE_RUN_TIME) \
		SCENARIO=$(SMOKE_SCENARIO)

.PHONY: stage
stage: setup ## Published VERSION from REGISTRY to STAGE_TO (lab|compose|k8s/OVERLAY), smoke-checked at STAGE_URL, recorded
	$(BIN)/python -m deploy.delivery stage --version "$(DEPLOY_VERSION)" --registry "$(REGISTRY)" \
		--to "$(STAGE_TO)" --url "$(STAGE_URL)" --records "$(DELIVERY_DIR)" $(REGISTRY_TLS_FLAG)

.PHONY: promote
promote: setup ## The staged VERSION, by the digests staging ran, to PROMOTE_TO (aws|compose|k8s/OVERLAY); recorded
	$(BIN)/python -m deploy.delivery promote --version "$(DEPLOY_VERSION)" --to "$(PROMOTE_TO)" \
		--records "$(DELIVERY_DIR)" $(REGISTRY_TLS_FLAG)

.PHONY: rollback-promotion
rollback-promotion: setup ## PROMOTE_TO back to the promotion before the current one, by its digests; recorded
	$(BIN)/python -m deploy.delivery rollback --to "$(PROMOTE_TO)" --records "$(DELIVERY_DIR)" \
		$(REGISTRY_TLS_FLAG)
