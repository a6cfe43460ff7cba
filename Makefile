# The two commands a newcomer needs are `make dev` and `make test`; each installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := python3
STAMP       := $(VENV)/.installed-$(shell sha1sum requirements-dev.txt 2>/dev/null | cut -c1-12)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
CARGO       ?= cargo
# authctl runs from its built binary, not through `cargo run`: the cargo commands it starts
# (nextest, cargo lambda watch) must not inherit `cargo run`'s CARGO_* variables.
AUTHCTL     := $(or $(CARGO_TARGET_DIR),target)/debug/authctl

.PHONY: help dev test docs mdbook fuzz venv nextest stand-ins rp browser lint validate build build-dev bench sam-build deploy keys rotate-key clean

# The deployed stack's outputs: the signing-key secret, and the table its public half is published in.
STACK_OUTPUT = $(VENV)/bin/python -c "import boto3;print(next(o['OutputValue'] for o in boto3.client('cloudformation').describe_stacks(StackName='$(or $(STACK),auth-service)')['Stacks'][0]['Outputs'] if o['OutputKey']=='$(1)'))"
STACK_SECRET = $(call STACK_OUTPUT,SigningKeySecretArn)
STACK_TABLE = $(call STACK_OUTPUT,TableName)

help:
	@echo "make dev      run the whole API on http://127.0.0.1:9000 with local AWS (moto) on :5000"
	@echo "              (SOCIAL=local: with local Google, Apple and GitHub sign-in stand-ins)"
	@echo "make test     run the whole test suite (installs moto, cargo-lambda, cfn-lint, nextest)"
	@echo "make docs     the book in docs/ into target/book, its links checked"
	@echo "make lint     sam validate --lint and cfn-lint on every stack (root and areas), rustfmt check"
	@echo "make build    release artifacts for Lambda (cargo lambda, zig linker) and the glibc check"
	@echo "make bench    cold starts, warm times, memory, sizes, DynamoDB calls -> bench/results.md"
	@echo "make sam-build  sam build with samconfig.toml (offline; the artifacts of make build)"
	@echo "make deploy   build with SAM and deploy (first time: make deploy GUIDED=1)"
	@echo "make rotate-key   new signing key (local moto; STACK=name for the deployed stack)"

## Python tools in .venv, installed once per requirements-dev.txt.
venv: $(STAMP)
$(STAMP): requirements-dev.txt
	@test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*; touch $@

## The local identity providers' Node packages (oidc-provider), from the lockfile, into an ignored
## folder: once per lockfile.
## Debian's Chromium and its WebDriver for the browser tests, installed once.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null)

STAND_INS := tests/stand-ins
STAND_INS_STAMP := $(STAND_INS)/node_modules/.installed-$(shell sha1sum $(STAND_INS)/package-lock.json 2>/dev/null | cut -c1-12)
stand-ins: $(STAND_INS_STAMP)
$(STAND_INS_STAMP): $(STAND_INS)/package-lock.json
	cd $(STAND_INS) && npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(STAND_INS)/node_modules/.installed-*; touch $@

## The relying party of the OAuth provider's test: openid-client and playwright-core (no browser
## download: it drives Debian's Chromium).
RP := tests/rp
RP_STAMP := $(RP)/node_modules/.installed-$(shell sha1sum $(RP)/package-lock.json 2>/dev/null | cut -c1-12)
rp: $(RP_STAMP)
$(RP_STAMP): $(RP)/package-lock.json
	cd $(RP) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(RP)/node_modules/.installed-*; touch $@

## mdBook for `make docs`, pinned, into .tools/ (search only: no server, no file watcher).
MDBOOK_VERSION := 0.5.4
MDBOOK := .tools/bin/mdbook
mdbook:
	@$(MDBOOK) --version 2>/dev/null | grep -qx "mdbook v$(MDBOOK_VERSION)" || \
	  $(CARGO) install --locked --force --root .tools --version $(MDBOOK_VERSION) --no-default-features --features search mdbook

## The book in docs/ into target/book, then its links and anchors checked offline (tools/src/docs.rs).
docs: mdbook build-dev
	$(MDBOOK) build docs
	$(AUTHCTL) docs-check

## cargo-nextest: the machine's own when present, otherwise installed from crates.io.
nextest:
	@$(CARGO) nextest --version >/dev/null 2>&1 || $(CARGO) install --locked cargo-nextest

# Every cargo command here selects the whole workspace, as `cargo lambda watch` does when it runs
# `cargo run --bin <function>` from the root: one feature set, so nothing is compiled twice.
## `make dev SOCIAL=local` also starts local Google, Apple and GitHub stand-ins (docs/social-login.md).
dev: venv build-dev $(if $(SOCIAL),stand-ins)
	AUTH_DEV_SOCIAL=$(SOCIAL) $(AUTHCTL) dev

## Every binary, exactly as `cargo lambda watch` builds them (so no request waits for a compile).
build-dev:
	$(CARGO) build --workspace --bins

lint: venv validate
	$(CARGO) fmt --all --check

## Every stack's template as SAM reads it (transform and cfn-lint), offline: the root and the
## nested stack of each area.
STACKS := infra/template.yaml $(sort $(wildcard infra/areas/*.yaml))
validate: venv
	for t in $(STACKS); do SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam validate --lint --template $$t || exit 1; done
	$(VENV)/bin/cfn-lint $(STACKS)

## Release artifacts, as Lambda runs them: `cargo lambda build` links with zig (from .venv), which
## pins the glibc version; every bootstrap lands in target/lambda/<function>/. Same selection of
## packages as `sam build` (the workspace's default members), so the two share one compilation.
build: venv
	$(CARGO) lambda build --release --workspace --bins
	scripts/check_glibc.sh target/lambda

## `make build`, then every function measured against a local moto (docs/performance.md).
bench: build
	target/lambda/bench/bootstrap

## `sam build` from samconfig.toml, offline: SAM runs `cargo lambda build --release --bin <fn>`
## in place for each function, reusing `make build`'s compilation.
sam-build: venv
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam build --config-file samconfig.toml

TEST_TARGETS := --workspace --lib --test '*'
# Where the suite's processes record the AWS calls of each function (shared/src/iam.rs).
IAM_RECORDS := $(abspath $(or $(CARGO_TARGET_DIR),target))/iam

test: venv nextest stand-ins rp browser build-dev validate docs
	$(CARGO) nextest run $(TEST_TARGETS) --no-run
	rm -rf $(IAM_RECORDS)
	AUTH_IAM_RECORD_DIR=$(IAM_RECORDS) $(AUTHCTL) with-moto -- $(CARGO) nextest run $(TEST_TARGETS)
	$(AUTHCTL) iam-check $(IAM_RECORDS)
	scripts/fuzz.sh

## schemathesis against `make dev`'s API with the OpenAPI document (also part of `make test`).
fuzz: venv build-dev
	scripts/fuzz.sh

## Deploy with SAM. GUIDED=1 the first time (asks for the stack name, region, IssuerUrl ...).
deploy: venv sam-build
	@# An existing stack gets its public keys published before the deploy takes the verifying
	@# functions' Secrets Manager grants away (on a first deploy there is no stack yet: skipped).
	-@$(MAKE) --no-print-directory keys 2>/dev/null
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam deploy --config-file samconfig.toml $(if $(GUIDED),--guided,)
	$(MAKE) keys

## Rotate the signing key: the local moto of `make dev` by default, the deployed stack with
## `make rotate-key STACK=<stack name>` (same code, only the endpoint and the secret differ).
rotate-key:
	$(CARGO) build --quiet --bin authctl
ifdef STACK
	SIGNING_KEY_SECRET_ID=$$($(STACK_SECRET)) TABLE_NAME=$$($(STACK_TABLE)) $(AUTHCTL) keys rotate
else
	AWS_ENDPOINT_URL=$${AWS_ENDPOINT_URL:-http://127.0.0.1:5000} AWS_REGION=$${AWS_REGION:-us-east-1} \
	  AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-testing} \
	  $(AUTHCTL) keys rotate
endif

## Put a first signing key into the deployed stack's secret (idempotent).
keys:
	$(CARGO) build --quiet --bin authctl
	SIGNING_KEY_SECRET_ID=$$($(STACK_SECRET)) TABLE_NAME=$$($(STACK_TABLE)) $(AUTHCTL) keys ensure

clean:
	$(CARGO) clean
	rm -rf $(VENV) .aws-sam
