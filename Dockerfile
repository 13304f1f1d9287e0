# syntax=docker/dockerfile:1
# python:3.12-slim (Python 3.12.13 on Debian trixie, built 2026-08-05) pinned by the digest of its
# multi-platform index, as docker-library/repo-info records it in repos/python/remote/3.12-slim.md
# (commit 2986dca3a80cb11b70fc4599941096374ea9e509). It was not pulled here: this machine cannot
# reach Docker Hub. To move on, `docker buildx imagetools inspect python:3.12-slim` prints the
# current index digest, for both FROM lines.
FROM python:3.12-slim@sha256:229a2c5bfa27522db7815ea81f9bed70af17ccb9de9fc7ad142b1877b5830d36 AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# pip and setuptools from the lock, then the locked dependencies, then videobot without any.
COPY requirements/build.txt requirements/main.txt ./requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/build.txt \
    && pip install --no-cache-dir --require-hashes --prefix=/install -r requirements/main.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-cache-dir --no-deps --no-build-isolation --prefix=/install .

FROM python:3.12-slim@sha256:229a2c5bfa27522db7815ea81f9bed70af17ccb9de9fc7ad142b1877b5830d36
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/videobot.sqlite3
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin videobot \
    && mkdir -p /data \
    && chown videobot /data
USER 10001
WORKDIR /data
# The SQLite file (and its WAL) live here; mount a volume so jobs survive a new container.
VOLUME ["/data"]
ENTRYPOINT ["videobot"]
CMD ["run"]
