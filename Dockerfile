# beanflex: one image for the three roles in docker-compose.yml (Fava behind the proxy, the nightly scheduler).
# No token, query id or ledger is ever copied in: they come from the secret, the env file and the data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git: `beanflex sync` commits the ledger folder; tzdata: the scheduler honours TZ for its nightly time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git tzdata \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/beanflex
# Only the package sources and the scripts (never deploy/, ledgers or env files; see also .dockerignore).
COPY pyproject.toml README.md ./
COPY beanflex ./beanflex
COPY contract ./contract
COPY importers ./importers
COPY engine ./engine
COPY plugins ./plugins
COPY reports ./reports
COPY fava_ext ./fava_ext
COPY scripts ./scripts
RUN pip install . \
 && useradd --create-home --uid 1000 --shell /usr/sbin/nologin beanflex \
 && mkdir -p /data /logs \
 && chown beanflex:beanflex /data /logs

USER beanflex
# The data volume holds the repository: ledger/, labels.yaml, notes/ and .git/.
WORKDIR /data
ENV BEANFLEX_LEDGER=/data/ledger/main.beancount \
    BEANFLEX_LOG=/logs/sync.log \
    PATH=/opt/beanflex/scripts:$PATH
VOLUME ["/data", "/logs"]
EXPOSE 5000

CMD ["beanflex", "serve", "--host", "0.0.0.0"]
