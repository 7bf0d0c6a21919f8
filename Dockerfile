# docintel with tesseract, LibreOffice (legacy Office formats), the spaCy model and the config.
# Keep the apt list in step with APT_RUNTIME in the Makefile.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    OMP_THREAD_LIMIT=1 \
    DOCINTEL_CONFIG_DIR=/app/config \
    DOCINTEL_LOG_FORMAT=json

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr libmagic1 libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui \
      fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY docintel ./docintel
COPY workers ./workers
COPY classifiers ./classifiers
RUN pip install .
COPY config ./config
# The default retention classifier (evidence) ships its model inside the package: nothing to build. The
# `combined` classifier's static token table is a pure function of the shipped MiniLM weights: distil it once,
# into the image (~1 CPU-minute), instead of in every container; its head is trained on first use into
# /data/.docintel, where `docintel train` also writes reviewers' retraining (of either model).
ENV DOCINTEL_CLASSIFIER__STATIC_TABLE_PATH=/app/model/minilm-l6-static.npz
RUN docintel train --model head --no-corrections --output /tmp/classifier-head.npz && rm /tmp/classifier-head.npz

RUN useradd --create-home --uid 10001 docintel
USER docintel
WORKDIR /data

ENTRYPOINT ["docintel"]
CMD ["--help"]
