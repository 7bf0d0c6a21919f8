# docintel: two commands on a fresh Debian machine (as root, or with the apt packages already there).
#   make demo   set up, then scan the bundled sample documents into an SQLite catalogue and write the report
#   make test   set up, then lint, type-check and run the whole test suite (slow tests included)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := out/demo

# Keep in step with the Dockerfile.
APT_RUNTIME := tesseract-ocr libmagic1 libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui fonts-dejavu-core
# Tests start their own PostgreSQL and Redis from their binaries when no server is running; the
# review UI is tested in Debian's Chromium.
APT_TEST    := postgresql redis-server chromium

.PHONY: demo demo-crawl test setup system-deps test-deps bench-deps lint typecheck bench clean image image-base deploy-secrets test-deploy

demo: setup
	@mkdir -p $(DEMO)
	@[ -f .docintel-key ] || $(BIN)/docintel key create .docintel-key
	rm -rf $(DEMO)/samples $(DEMO)/docintel.db
	$(BIN)/docintel samples $(DEMO)/samples
	@echo "The first run builds the retention model (~1 CPU-minute, cached in ~/.cache/docintel); later runs load it."
	@# Exit status 1 means "some documents failed": the samples include a corrupt and a locked PDF on purpose.
	DOCINTEL_PII_KEY_FILE=.docintel-key $(BIN)/docintel scan $(DEMO)/samples --catalogue sqlite:///$(DEMO)/docintel.db; \
	  status=$$?; [ $$status -le 1 ] || exit $$status
	$(BIN)/docintel report --catalogue sqlite:///$(DEMO)/docintel.db --out $(DEMO)/report.html
	$(BIN)/docintel export --catalogue sqlite:///$(DEMO)/docintel.db --format jsonl --out $(DEMO)/catalogue.jsonl
	@$(MAKE) --no-print-directory demo-crawl
	@echo
	@echo "Catalogue:  $(DEMO)/docintel.db   (SQLite; docintel export --catalogue sqlite:///$(DEMO)/docintel.db)"
	@echo "Microsoft 365 (emulated) crawl: $(DEMO)/m365.db"
	@echo "Report:     $(DEMO)/report.html"
	@echo "Export:     $(DEMO)/catalogue.jsonl"
	@echo "Try:        $(BIN)/docintel analyze $(DEMO)/samples/invoice.pdf"

# The Microsoft 365 path: Graph emulator (demo tenant) -> docintel crawl -> rq worker -> catalogue.
# Uses a private Redis on its own port so a Redis already on the machine is left alone.
DEMO_REDIS_PORT ?= 6391
DEMO_GRAPH_PORT ?= 8765
demo-crawl: setup test-deps
	@mkdir -p $(DEMO); rm -f $(DEMO)/m365.db
	redis-server --port $(DEMO_REDIS_PORT) --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
	  --maxmemory-policy noeviction --pidfile $(CURDIR)/$(DEMO)/redis.pid --logfile $(CURDIR)/$(DEMO)/redis.log
	@$(BIN)/docintel graph-emulator --port $(DEMO_GRAPH_PORT) > $(DEMO)/graph-emulator.log 2>&1 & echo $$! > $(DEMO)/graph.pid
	@export DOCINTEL_REDIS_URL=redis://127.0.0.1:$(DEMO_REDIS_PORT)/0 DOCINTEL_GRAPH_TOKEN=demo \
	  DOCINTEL_GRAPH_BASE_URL=http://127.0.0.1:$(DEMO_GRAPH_PORT)/v1.0 \
	  DOCINTEL_CATALOGUE_URL=sqlite:///$(DEMO)/m365.db DOCINTEL_PII_KEY_FILE=.docintel-key; \
	$(BIN)/python -c 'import socket,sys,time; [time.sleep(0.5) for _ in range(60) if socket.socket().connect_ex(("127.0.0.1", int(sys.argv[1])))]' $(DEMO_GRAPH_PORT); \
	$(BIN)/docintel crawl && $(BIN)/docintel worker --burst && $(BIN)/docintel status; \
	status=$$?; kill $$(cat $(DEMO)/graph.pid) 2>/dev/null; kill $$(cat $(DEMO)/redis.pid) 2>/dev/null; exit $$status

test: setup test-deps lint typecheck
	$(BIN)/pytest -q -rs

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

setup: system-deps $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

system-deps:
	@missing=$$($(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || echo python3-venv; \
	  for p in $(APT_RUNTIME); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root, or: sudo apt-get install" $$missing; exit 2; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

test-deps:
	@missing=$$(ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null || echo postgresql; \
	  command -v redis-server >/dev/null || echo redis-server; \
	  [ -x /usr/bin/chromium ] || echo chromium); \
	if [ -n "$$missing" ]; then \
	  echo "Installing test services:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The invoice2data peer (bench/invoices.py) reads PDFs with poppler's pdftotext.
bench-deps:
	@command -v pdftotext >/dev/null || { echo "Installing bench tools: poppler-utils"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends poppler-utils; }

bench: setup bench-deps
	$(BIN)/python bench/extract.py

# Images (needs a Docker engine). The base is a Debian bookworm root: `image-base` builds it from Debian's archive
# with debootstrap when no image registry is reachable (BASE_IMAGE=debian:bookworm-slim uses the public one).
# Wheels that pip is configured to find locally (CPU torch) and the machine's CA bundle (for a TLS-inspecting
# proxy) go into the build context's .docker-extra/, which the Dockerfile reads when present.
BASE_IMAGE    ?= local/debian:bookworm
DEBIAN_MIRROR ?= $(shell sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
IMAGE         ?= docintel:local
LOCAL_WHEELS  ?= $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
image-base:
	@docker image inspect $(BASE_IMAGE) >/dev/null 2>&1 || { \
	  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }; \
	  root=$$(mktemp -d) && echo "Building $(BASE_IMAGE) from $(or $(DEBIAN_MIRROR),Debian's archive) (debootstrap)" && \
	  debootstrap --variant=minbase bookworm $$root $(DEBIAN_MIRROR) >/dev/null && \
	  tar -C $$root -c . | docker import - $(BASE_IMAGE) >/dev/null && rm -rf $$root; }

image: image-base
	@rm -rf .docker-extra && mkdir -p .docker-extra
	@[ ! -f /etc/ssl/certs/ca-certificates.crt ] || cp /etc/ssl/certs/ca-certificates.crt .docker-extra/
	@torch=$$(ls $(LOCAL_WHEELS)/torch-$$(sed -n 's/.*"torch==\([^"]*\)".*/\1/p' pyproject.toml)+cpu-*.whl 2>/dev/null | head -1); \
	  if [ -n "$$torch" ]; then cp $$torch .docker-extra/ && echo "CPU torch from $$torch"; fi
	docker build --build-arg BASE=$(BASE_IMAGE) \
	  $$(ls .docker-extra/torch-*.whl >/dev/null 2>&1 && echo --build-arg TORCH_INDEX_URL=) -t $(IMAGE) .
	docker build --build-arg BASE=$(BASE_IMAGE) --target postgres -t docintel-postgres:local .
	docker build --build-arg BASE=$(BASE_IMAGE) --target redis -t docintel-redis:local .

# Secrets for compose.yaml, made once into $(SECRETS_DIR) (never committed): the PII hashing key, PostgreSQL's
# password, and the same password as a libpq pgpass file for docintel. Files the image's user (uid 10001) reads
# are its own, mode 0600; initdb in the postgres container reads pg_password once. An existing file is kept.
SECRETS_DIR ?= .deploy
deploy-secrets:
	@mkdir -p $(SECRETS_DIR) && chmod 755 $(SECRETS_DIR)
	@[ -f $(SECRETS_DIR)/pii_key ] || { $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $(SECRETS_DIR)/pii_key; \
	  chown 10001 $(SECRETS_DIR)/pii_key; chmod 600 $(SECRETS_DIR)/pii_key; }
	@[ -f $(SECRETS_DIR)/pg_password ] || { $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(24))' > $(SECRETS_DIR)/pg_password; \
	  chmod 644 $(SECRETS_DIR)/pg_password; }
	@[ -f $(SECRETS_DIR)/pgpass ] || { echo "*:*:*:docintel:$$(cat $(SECRETS_DIR)/pg_password)" > $(SECRETS_DIR)/pgpass; \
	  chown 10001 $(SECRETS_DIR)/pgpass; chmod 600 $(SECRETS_DIR)/pgpass; }
	@echo "Secrets in $(SECRETS_DIR)/: pii_key, pg_password, pgpass (back up pii_key: without it subject access cannot match)"

# The deployment test: compose.yaml's stack with three worker containers (tests/deploy). Starts Debian's Docker
# engine when it can (as root); says why and passes when no engine can start on this machine.
test-deploy: setup
	@docker info >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && { \
	  command -v dockerd >/dev/null && command -v docker-compose >/dev/null || { apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io docker-compose debootstrap; }; \
	  (dockerd > /var/log/docintel-dockerd.log 2>&1 &); \
	  for i in $$(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done; }; } || true
	@if docker info >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory image && DOCINTEL_TEST_DEPLOY=1 $(BIN)/pytest -q -rs -p no:cacheprovider tests/deploy; \
	else echo "test-deploy SKIPPED: no Docker engine could start here (run as root with Debian's docker.io)"; fi

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
