# syntax=docker/dockerfile:1
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.12-slim
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
