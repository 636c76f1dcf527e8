# govmon in a container: the store lives on a volume, the process runs as a non-root user.
#   docker build -t govmon .
#   docker run -d -v govmon-data:/data -v $PWD/govmon.toml:/etc/govmon/govmon.toml:ro govmon
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crawler ./crawler
COPY checks ./checks
COPY storage ./storage
# Debian's chromium renders pages built by script (govmon[browser]: Playwright drives it)
RUN apt-get update && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/* \
    && pip install '.[browser]' && useradd --system --uid 10001 --home /data govmon \
    && mkdir -p /data && chown govmon /data
USER govmon
WORKDIR /data
VOLUME ["/data"]
# the daemon answers /healthz on its metrics port ([schedule] metrics_listen, 127.0.0.1:9108)
HEALTHCHECK --interval=60s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["govmon"]
CMD ["daemon", "/etc/govmon/govmon.toml", "--db", "/data/govmon.db"]
