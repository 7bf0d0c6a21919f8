# docintel's images, from one Debian base: the product (target `docintel`, the default: tesseract, LibreOffice for
# legacy Office formats, the spaCy model, CPU torch, the config) and, for compose.yaml, PostgreSQL and Redis from
# Debian's own packages (targets `postgres` and `redis`), so the whole stack builds where no image registry is
# reachable. Keep the apt list in step with APT_RUNTIME in the Makefile.
#
#   docker build -t docintel .                                   # base pulled from the registry
#   make image                                                   # base built from Debian's archive (debootstrap)
#
# BASE: any Debian bookworm root (the public debian:bookworm-slim, or `make image-base`'s local/debian:bookworm).
# TORCH_INDEX_URL: where pip finds the CPU build of torch (PyPI's own wheel for Linux carries CUDA: ~3 GB more).
# Wheels, and an extra CA bundle for a TLS-inspecting proxy, may be put in .docker-extra/ (see `make image`).
ARG BASE=debian:bookworm-slim

# PostgreSQL 15 for compose.yaml. On the first start the cluster is made with the password from the secret file
# $POSTGRES_PASSWORD_FILE (scram-sha-256 over the network, nothing in the environment); later starts reuse it.
FROM ${BASE} AS postgres
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /run/postgresql && chown postgres /var/lib/postgresql/data /run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data POSTGRES_DB=docintel POSTGRES_USER=docintel
USER postgres
CMD ["bash", "-c", "set -e; if [ ! -s \"$PGDATA/PG_VERSION\" ]; then initdb -U \"$POSTGRES_USER\" -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 --pwfile=\"$POSTGRES_PASSWORD_FILE\" >/dev/null && echo \"host all all all scram-sha-256\" >> \"$PGDATA/pg_hba.conf\" && postgres --single -jE postgres <<< \"CREATE DATABASE $POSTGRES_DB\" >/dev/null; fi; exec postgres -c listen_addresses='*'"]

# Redis for the rq queues, with an append-only file so acknowledged jobs survive a restart.
FROM ${BASE} AS redis
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis /data
USER redis
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data", "--appendonly", "yes", "--maxmemory-policy", "noeviction"]

# The product (default target: the last stage).
FROM ${BASE} AS docintel
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_THREAD_LIMIT=1 \
    PATH=/opt/venv/bin:$PATH \
    DOCINTEL_CONFIG_DIR=/app/config \
    DOCINTEL_LOG_FORMAT=json

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates \
      tesseract-ocr libmagic1 libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui \
      fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# `.docker-extr[a]` matches nothing in a plain checkout, and COPY then takes pyproject.toml alone. The dependencies
# (CPU torch first) are one layer, built from pyproject.toml alone, so a change of docintel's code reuses it.
COPY pyproject.toml .docker-extr[a] /tmp/extra/
RUN python3 -m venv /opt/venv \
 && if [ -f /tmp/extra/ca-certificates.crt ]; then export PIP_CERT=/tmp/extra/ca-certificates.crt; fi \
 && pip install --find-links /tmp/extra ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} \
      "$(grep -o '"torch==[^"]*"' /tmp/extra/pyproject.toml | tr -d '"')" \
 && python3 -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' \
      /tmp/extra/pyproject.toml > /tmp/extra/requirements.txt \
 && pip install --find-links /tmp/extra -r /tmp/extra/requirements.txt "setuptools>=68" \
 && rm -rf /tmp/extra
COPY pyproject.toml README.md ./
COPY docintel ./docintel
COPY workers ./workers
COPY classifiers ./classifiers
RUN pip install --no-deps --no-build-isolation . && pip check
COPY config ./config
# The default retention classifier (evidence) ships its model inside the package: nothing to build. The
# `combined` classifier's static token table is a pure function of the shipped MiniLM weights: distil it once,
# into the image (~1 CPU-minute), instead of in every container; its head is trained on first use into
# /data/.docintel, where `docintel train` also writes reviewers' retraining (of either model).
ENV DOCINTEL_CLASSIFIER__STATIC_TABLE_PATH=/app/model/minilm-l6-static.npz
RUN docintel train --model head --no-corrections --output /tmp/classifier-head.npz && rm /tmp/classifier-head.npz

RUN useradd --create-home --uid 10001 docintel && mkdir -p /data && chown docintel /data
USER docintel
ENV HOME=/data
WORKDIR /data

ENTRYPOINT ["docintel"]
CMD ["--help"]
