# otklik: one image for every instance. `docker compose up` (docker-compose.yml) runs
# two of them on PostgreSQL and Redis behind nginx; alone it runs on SQLite.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package needs: tests, benchmarks and local files stay out (.dockerignore).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin otklik

USER otklik
WORKDIR /home/otklik
# The API (and the webhook, when WEBHOOK_URL is set) listens on every interface of the
# container; the SQLite default lands in the user's home, which is writable.
ENV API_HOST=0.0.0.0 \
    API_PORT=8080
EXPOSE 8080

CMD ["otklik", "run"]
