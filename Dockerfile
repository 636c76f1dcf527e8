# govmon in a container: the store lives on a volume, the process runs as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crawler ./crawler
COPY checks ./checks
COPY storage ./storage
RUN pip install . && useradd --system --uid 10001 --home /data govmon && mkdir -p /data \
    && chown govmon /data
USER govmon
WORKDIR /data
VOLUME ["/data"]
ENTRYPOINT ["govmon"]
CMD ["--help"]
