# syntax=docker/dockerfile:1
# Lingkaran Cinta bot: a two-stage image. The build stage makes the wheel (gettext catalogs are
# compiled into it by setup.py); the runtime stage installs only that wheel and its pinned
# dependencies, and runs as an unprivileged user. See docs/deploy.md.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md constraints.txt babel.cfg ./
COPY lingkaran ./lingkaran
COPY handlers ./handlers
COPY lingkaran_core ./lingkaran_core
COPY locales ./locales
COPY bot.py ./
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && pip download --no-cache-dir --dest /wheels -c constraints.txt /wheels/*.whl

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LINGKARAN_DB=/var/lib/lingkaran/lingkaran.db \
    LINGKARAN_HOST=0.0.0.0 \
    LINGKARAN_PORT=8080
# postgresql-client: pg_dump/pg_restore for `admin backup`/`restore` on PostgreSQL (docs/storage.md).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 lingkaran \
 && useradd --system --uid 10001 --gid lingkaran --home-dir /var/lib/lingkaran \
      --shell /usr/sbin/nologin lingkaran \
 && install -d -o lingkaran -g lingkaran -m 0700 /var/lib/lingkaran /var/backups/lingkaran
COPY --from=build /wheels /wheels
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir --no-index --find-links /wheels -c /tmp/constraints.txt \
      lingkaran-cinta-bot \
 && rm -rf /wheels /tmp/constraints.txt
USER lingkaran:lingkaran
WORKDIR /var/lib/lingkaran
VOLUME ["/var/lib/lingkaran"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["lingkaran"]
CMD ["serve"]
