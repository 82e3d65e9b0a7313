# vitality.aurora: development, demo and test entry points.  `make help` lists them.
#
# Everything runs from the project venv (.venv), built from requirements.txt with
# constraints.txt (a full pip freeze).  ansible-core 2.21 needs Python >= 3.12:
# PYTHON is found by scripts/find-python.sh unless given (make venv PYTHON=/path/python3.13).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= $(shell scripts/find-python.sh)
PIP_VERSION := 26.3
PIP_QUIET := --quiet --disable-pip-version-check
# This machine's pip.conf names local file:// indexes that lack most projects; pip warns for each.
PIP_NOISE := ^WARNING: Location 'file:.*' is ignored

VENV := .venv
VENV_BIN := $(CURDIR)/$(VENV)/bin
MERMAID_JS := roles/aurora_cluster/files/mermaid.min.js
VENV_STAMP := $(VENV)/.installed
COLLECTIONS_DIR := $(CURDIR)/build/collections
COLLECTION_LINK := build/collections/ansible_collections/vitality/aurora

LOCAL_AWS := scripts/local-aws.sh
export LOCAL_AWS_PORT ?= 4566

# ansible-playbook must resolve vitality.aurora from this tree (the link made by
# `make venv`) and amazon.aws from the venv's site-packages (evaluated lazily, so
# it is right once the venv exists).
export ANSIBLE_COLLECTIONS_PATH = $(COLLECTIONS_DIR):$(firstword $(wildcard $(CURDIR)/$(VENV)/lib/python3*/site-packages))

AWS_ENV := AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
DEMO_PLAYBOOK ?= playbooks/provision.yml
DEMO_INVENTORY ?= inventories/dev
# Where the demo's first run writes the stack's outputs (the role's default), and its database stand-in.
DEMO_OUTPUTS ?= playbooks/outputs/vitality-dev.json
# Outside the checkout: when make runs as root the server runs as the postgres OS user, which must reach the
# folder (a checkout under /root is private); one per checkout.
DEMO_PG_DIR ?= /tmp/vitality-aurora-demo-pg-$(shell printf '%s' "$(CURDIR)" | cksum | cut -d' ' -f1)
# More ansible-playbook arguments for the demo's runs (the tests send outputs and reports elsewhere).
DEMO_ARGS ?=

.PHONY: help venv freeze local-aws-start local-aws-stop local-aws-status seed demo \
        test lint format sanity units integration clean distclean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-17s %s\n", $$1, $$2}'

# --- environment -------------------------------------------------------------------

venv: $(VENV_STAMP) $(COLLECTION_LINK) $(MERMAID_JS) ## Create/refresh .venv (only when requirements/constraints change), the collection link, the reports' Mermaid library

# The Mermaid library the HTML stack reports embed: from the npm registry, pinned and checked (not in git).
$(MERMAID_JS): scripts/fetch_mermaid.py | $(VENV_STAMP)
	@$(VENV)/bin/python scripts/fetch_mermaid.py
	@touch $@

$(VENV_STAMP): requirements.txt constraints.txt
	@py="$(PYTHON)"; \
	if [ -z "$$py" ]; then echo "make: no Python >= 3.12 found; run e.g. 'make venv PYTHON=/path/to/python3.12'" >&2; exit 1; fi; \
	"$$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || \
	  { echo "make: $$py is not a working Python >= 3.12 (ansible-core 2.21 needs one)" >&2; exit 1; }; \
	if ! $(VENV)/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
	  echo "make: creating $(VENV) with $$py ($$("$$py" -V 2>&1))"; \
	  rm -rf $(VENV); "$$py" -m venv $(VENV); \
	fi
	$(VENV)/bin/python -m pip install $(PIP_QUIET) "pip==$(PIP_VERSION)" 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	$(VENV)/bin/python -m pip install $(PIP_QUIET) -r requirements.txt -c constraints.txt 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@touch $@
	@echo "make: $(VENV) ready ($$($(VENV)/bin/ansible --version | sed -n 1p))"

$(COLLECTION_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../../.. $@
	@echo "make: $@ -> repository root"

freeze: $(VENV_STAMP) ## Rewrite constraints.txt from the venv (after changing requirements.txt)
	$(VENV)/bin/python -m pip freeze --exclude-editable > constraints.txt
	@touch $(VENV_STAMP)

# --- local AWS (demo) ----------------------------------------------------------------

local-aws-start: venv ## Start (or reuse) the demo's moto_server on 127.0.0.1:$LOCAL_AWS_PORT (4566)
	@$(LOCAL_AWS) start

local-aws-stop: ## Stop the demo's moto_server and its database stand-in
	@$(LOCAL_AWS) stop
	@if [ -x $(VENV_BIN)/python ]; then $(VENV_BIN)/python scripts/demo_database.py stop --dir $(DEMO_PG_DIR); fi

local-aws-status: ## Is the demo's moto_server running?
	@$(LOCAL_AWS) status

seed: local-aws-start ## Seed the dev and prod landing zones (VPC, subnets, app SG) into the local AWS
	$(VENV_BIN)/python scripts/seed_landing_zone.py --endpoint-url "$$($(LOCAL_AWS) endpoint)" --env dev --env prod

demo: seed ## Provision the dev stack into the local AWS, then its database users against a local PostgreSQL (both left running)
	@test -f $(DEMO_PLAYBOOK) || { echo "make: $(DEMO_PLAYBOOK) does not exist yet" >&2; exit 1; }
	@test -e $(DEMO_INVENTORY) || { echo "make: $(DEMO_INVENTORY) does not exist yet" >&2; exit 1; }
	@sh scripts/ensure_postgresql.sh
	@endpoint="$$($(LOCAL_AWS) endpoint)"; \
	run() { env -u AWS_PROFILE -u AWS_SESSION_TOKEN $(AWS_ENV) PATH="$(VENV_BIN):$$PATH" \
	  $(VENV_BIN)/ansible-playbook $(DEMO_PLAYBOOK) -i $(DEMO_INVENTORY) -e aurora_cluster_aws_endpoint_url="$$endpoint" $(DEMO_ARGS) "$$@"; }; \
	echo "make: 1/3 the cluster (a local AWS has no database server behind its endpoint yet: database part off)"; \
	run -e aurora_database_enabled=false && \
	echo "make: 2/3 a local PostgreSQL standing in for the writer (the master user and password from the cluster's secret)" && \
	env $(AWS_ENV) $(VENV_BIN)/python scripts/demo_database.py --endpoint-url "$$endpoint" \
	  --cluster "$$($(VENV_BIN)/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["cluster_identifier"])' $(DEMO_OUTPUTS))" \
	  --dir $(DEMO_PG_DIR) --vars-file $(DEMO_PG_DIR).json && \
	echo "make: 3/3 provision again: the cluster has nothing to do, the database part creates the application users" && \
	run -e @$(DEMO_PG_DIR).json
	@echo
	@echo "Local AWS is still running at $$($(LOCAL_AWS) endpoint) (log: .local-aws/moto.log);"
	@echo "the database stand-in in $(DEMO_PG_DIR) (log: $(DEMO_PG_DIR)/postgresql.log)."
	@echo "Stop both with: make local-aws-stop"

# --- checks ------------------------------------------------------------------------

# molecule runs one playbook at a time and leaves a core idle most of its run: the release gates use it
# (-j2; --output-sync prints each gate's output whole, when it ends).
test: lint units sanity integration changelog-lint docs-lint ## every gate: lint, units, sanity, integration, changelog, then molecule beside release and version matrix
	$(MAKE) --no-print-directory -j2 --output-sync=target molecule test-release test-matrix-oldest

lint: venv ## ansible-lint (production profile), yamllint, ruff format --check, ruff check
	PATH="$(VENV_BIN):$$PATH" $(VENV_BIN)/ansible-lint
	$(VENV_BIN)/yamllint .
	$(VENV_BIN)/ruff format --check .
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/shellcheck scripts/*.sh .ci/run

format: venv ## Apply ruff format and ruff's safe fixes
	$(VENV_BIN)/ruff format .
	$(VENV_BIN)/ruff check --fix .

sanity: venv ## ansible-test sanity on a build copy of the collection (offline; see scripts/sanity.py)
	$(VENV_BIN)/python scripts/sanity.py $(SANITY_ARGS)

# pytest exits 5 when it collects no test (a test directory still empty): say so, do not fail.
define run_pytest
	rc=0; $(VENV_BIN)/python -m pytest $(1) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: no tests collected in $(1)"; rc=0; fi; exit $$rc
endef

units: venv ## pytest tests/unit (no local AWS needed)
	@test -d tests/unit || { echo "make: tests/unit does not exist yet"; exit 0; }; \
	$(call run_pytest,tests/unit)

# One worker per core; each test file runs whole on one worker, with a local AWS of the worker's own.
INTEGRATION_WORKERS ?= 2

integration: venv ## pytest tests/integration (starts its own moto_server on a free port; installs chromium as root)
	@sh scripts/ensure_chromium.sh
	@sh scripts/ensure_postgresql.sh
	@$(VENV_BIN)/python scripts/fetch_postgresql16.py >/dev/null || [ $$? -eq 3 ]
	@test -d tests/integration || { echo "make: tests/integration does not exist yet"; exit 0; }; \
	$(call run_pytest,tests/integration -n $(INTEGRATION_WORKERS) --dist loadfile)

# Molecule (extensions/molecule, the collection layout): the default (dev) and prod scenarios, each
# with a local AWS of its own on a free port.  Beside them (to use both cores) runs tests/molecule,
# which breaks a converged stack out of band and checks that `molecule verify` fails naming what is
# wrong; its output is printed at the end.  Either failing fails the target.
MOLECULE_NEGATIVE_LOG := tests/output/molecule-negative.log
.PHONY: molecule

molecule: venv ## molecule test --all (dev and prod scenarios, local AWS) + tests/molecule (verify catches breakage)
	@mkdir -p $(dir $(MOLECULE_NEGATIVE_LOG))
	@( $(call run_pytest,tests/molecule) ) > $(MOLECULE_NEGATIVE_LOG) 2>&1 & negative=$$!; \
	rc=0; env -u AWS_PROFILE -u AWS_SESSION_TOKEN $(AWS_ENV) NO_COLOR=1 PATH="$(VENV_BIN):$$PATH" \
	  $(VENV_BIN)/molecule test --all $(MOLECULE_ARGS) || rc=$$?; \
	nrc=0; wait $$negative || nrc=$$?; \
	echo "make: tests/molecule (verify catches breakage), run beside molecule test --all:"; \
	cat $(MOLECULE_NEGATIVE_LOG); \
	echo "make: molecule test --all exit $$rc, tests/molecule exit $$nrc"; \
	[ $$rc -eq 0 ] && [ $$nrc -eq 0 ]

# --- housekeeping --------------------------------------------------------------------

clean: ## Stop the demo's local AWS; remove build/, .local-aws/, caches and test output
	-@$(LOCAL_AWS) stop
	rm -rf build .local-aws tests/output .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## clean, and remove .venv too
	rm -rf $(VENV)

# --- release: Galaxy build, docs, changelog, execution environment, version matrix ----

# The version matrix: one leg per ansible-core minor from the oldest that meta/runtime.yml declares
# (requires_ansible) to the one before the main venv's (the newest leg, run by test-release), each
# with the oldest amazon.aws and community.aws that galaxy.yml declares, taken out of the `ansible`
# package release that ships them (14.0.0 ships amazon.aws 11.3.0), on the newest Python of that
# core's controller range (or MATRIX_PYTHON=/path/to/python).  `make test` runs the oldest leg;
# `make test-matrix` runs them all (3 to 5 minutes; before a release, or after changing a
# dependency range or anything Ansible-version-sensitive).
MATRIX_DIR := build/matrix
MATRIX_MINORS := 2.17 2.18 2.19 2.20
MATRIX_CORE_2.17 := 2.17.14
MATRIX_CORE_2.18 := 2.18.19
MATRIX_CORE_2.19 := 2.19.14
MATRIX_CORE_2.20 := 2.20.10
MATRIX_PYTHONS_2.17 := 3.10-3.12
MATRIX_PYTHONS_2.18 := 3.11-3.13
MATRIX_PYTHONS_2.19 := 3.11-3.13
MATRIX_PYTHONS_2.20 := 3.12-3.14
MATRIX_OLDEST := $(MATRIX_DIR)/core-$(firstword $(MATRIX_MINORS))
MATRIX_ALL := $(foreach minor,$(MATRIX_MINORS),$(MATRIX_DIR)/core-$(minor))
MATRIX_OLDEST_ANSIBLE_PACKAGE := 14.0.0
MATRIX_PYTHON ?= auto
empty :=
space := $(empty) $(empty)
EE_DIR := build/ee

.PHONY: changelog-lint changelog docs docs-lint test-release test-matrix test-matrix-oldest ee-context

changelog-lint: venv ## antsibull-changelog lint of changelogs/fragments and changelogs/changelog.yaml
	$(VENV_BIN)/antsibull-changelog lint
	$(VENV_BIN)/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

# antsibull-docs copies the collection and its dependencies (galaxy.yml) into a temporary tree and runs
# ansible-doc there.  It copies a directory inside a Git work tree with `git ls-files`, which lists nothing
# under the ignored .venv: GIT_CEILING_DIRECTORIES keeps Git from finding this repository above amazon.aws and
# community.aws in the venv's site-packages (found through ANSIBLE_COLLECTIONS_PATH), so they are copied whole
# and their doc fragments resolve.  Any finding fails the target.
docs-lint: venv ## antsibull-docs lint-collection-docs --plugin-docs (schemas, markup, references, RST of every plugin)
	GIT_CEILING_DIRECTORIES="$(CURDIR)/$(VENV)" PATH="$(VENV_BIN):$$PATH" \
	  $(VENV_BIN)/antsibull-docs lint-collection-docs --plugin-docs $(COLLECTION_LINK)

changelog: venv ## Regenerate CHANGELOG.rst from changelogs/changelog.yaml (a release: see docs/user-guide.md)
	$(VENV_BIN)/antsibull-changelog generate
	rm -f changelogs/.plugin-cache.yaml

docs: venv ## Regenerate docs/modules/*.md and the variable tables of docs/user-guide.md
	$(VENV_BIN)/python scripts/gen_docs.py

test-release: venv ## pytest tests/release: Galaxy build + offline install + dev stack from it, ansible-doc, docs, changelog, EE
	@$(call run_pytest,tests/release)

$(MATRIX_DIR)/core-%/leg.json: scripts/matrix_venv.py constraints.txt
	$(VENV_BIN)/python scripts/matrix_venv.py --dest $(MATRIX_DIR)/core-$* --python $(MATRIX_PYTHON) \
	  --python-range $(MATRIX_PYTHONS_$*) --ansible-core $(MATRIX_CORE_$*) \
	  --ansible-package $(MATRIX_OLDEST_ANSIBLE_PACKAGE)

test-matrix-oldest: venv $(MATRIX_OLDEST)/leg.json ## The dev stack's lifecycle on the oldest declared ansible-core + amazon.aws
	@export AURORA_MATRIX_LEGS="$(CURDIR)/$(MATRIX_OLDEST)"; $(call run_pytest,tests/release/test_version_matrix.py)

test-matrix: venv $(addsuffix /leg.json,$(MATRIX_ALL)) ## The same on every ansible-core minor from the oldest declared to the one before the main venv's
	@export AURORA_MATRIX_LEGS="$(subst $(space),:,$(addprefix $(CURDIR)/,$(MATRIX_ALL)))"; \
	  $(call run_pytest,tests/release/test_version_matrix.py)

ee-context: venv ## Build the collection and write the execution environment's build context to build/ee/context
	rm -rf $(EE_DIR) && mkdir -p $(EE_DIR)
	$(VENV_BIN)/ansible-galaxy collection build --output-path $(EE_DIR) .
	mv $(EE_DIR)/vitality-aurora-*.tar.gz $(EE_DIR)/vitality-aurora.tar.gz
	$(VENV_BIN)/ansible-builder create --file execution-environment.yml --context $(EE_DIR)/context \
	  --output-filename Containerfile
	@echo "make: build the image where podman or docker exists: podman build -t vitality-aurora-ee $(EE_DIR)/context"

# --- benchmark -----------------------------------------------------------------------

.PHONY: bench

bench: venv ## Benchmark: role vs stock amazon.aws vs boto3 lower bound, calls and simulated latency (bench/results/)
	env -u AWS_PROFILE -u AWS_SESSION_TOKEN $(AWS_ENV) PATH="$(VENV_BIN):$$PATH" $(VENV_BIN)/python bench/run.py $(BENCH_ARGS)
