# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/app/var

WORKDIR /app
COPY pyproject.toml manage.py ./
COPY config ./config
COPY teams ./teams
COPY prompts ./prompts
COPY evaluations ./evaluations
COPY workloads ./workloads
COPY decisions ./decisions
COPY templates ./templates
COPY static ./static
RUN pip install . \
    && DEBUG=0 SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEY=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXJlYWwta2U= python manage.py collectstatic --noinput \
    && useradd --system --home-dir /app app \
    && chown -R app /app/var

USER app
EXPOSE 8000
# Workers, threads and timeouts from the environment (WEB_CONCURRENCY, …): see config/gunicorn.py.
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.py"]
