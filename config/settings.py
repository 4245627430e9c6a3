"""One settings module, driven by the environment (see README "Configuration")."""

from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"  # noqa: S105

# Provider API keys are encrypted at rest with Fernet keys (see evaluations/crypto.py). Several
# comma-separated keys allow rotation: the first encrypts, every one decrypts. Development
# derives a key from SECRET_KEY; production must set its own, kept apart from the database.
FIELD_ENCRYPTION_KEYS = envlist("FIELD_ENCRYPTION_KEY")
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is required when DEBUG is off; generate one with python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(b"field-encryption:" + SECRET_KEY.encode()).digest()
        ).decode()
    ]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
            "comma-separated"
        ) from None
# Environment variables a provider may name as its API key; none unless the operator lists them,
# because a key read from the server's environment is sent to whatever URL the team typed.
PROVIDER_KEY_ENV_VARS = envlist("PROVIDER_KEY_ENV_VARS")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# Providers and webhooks may target private addresses only when this is on (make dev turns it on).
ALLOW_PRIVATE_NETWORK_TARGETS = envbool("ALLOW_PRIVATE_NETWORK_TARGETS", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # search vectors (decisions.search); inert on SQLite
    "django.forms",  # the built-in widget templates, for the TemplatesSetting renderer
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "teams",
    "prompts",
    "evaluations",
    "workloads",
    "decisions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "teams.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "teams.middleware.ApiJsonErrorsMiddleware",
]

# Forms render with the project's templates, so templates/django/forms/field.html is the one
# field layout behind every `{{ field.as_field_group }}`.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "teams.context_processors.team_nav",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'crossover.sqlite3'}")
# Persistent connections are checked before each request reuses them, so that a database restart
# costs a reconnect, not an error on the first request of every process.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server and the worker read while the other writes.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: the app's queries are short, and a plan whose estimated cost passes the JIT
    # threshold (a sweep's scan over every workload) spent 380 of its 400 ms compiling.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in throttling (teams/login_throttle.py): failures allowed per username and per client
# address within the window; TRUSTED_PROXIES is how many proxies in front add X-Forwarded-For.
LOGIN_FAILURES_PER_USER = envint("LOGIN_FAILURES_PER_USER", 5)
LOGIN_FAILURES_PER_IP = envint("LOGIN_FAILURES_PER_IP", 50)
LOGIN_THROTTLE_SECONDS = envint("LOGIN_THROTTLE_SECONDS", 900)
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", 0)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "/static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Security. Production (DEBUG off) gets secure cookies and HSTS; `check --deploy` is clean.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Container health checks call /healthz over plain HTTP from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "teams.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["teams.api.auth.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": envstr("API_TOKEN_RATE", "1200/min")},
    # JSON only, with depth, NUL, range and size limits (teams/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["teams.api.parsers.JSONParser"],
    "DEFAULT_METADATA_CLASS": "teams.api.metadata.Metadata",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "teams.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "teams.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# The largest request body any API endpoint reads (413 above it).
API_MAX_BODY_BYTES = envint("API_MAX_BODY_BYTES", 16 * 2**20)
SPECTACULAR_SETTINGS = {
    "TITLE": "Crossover API",
    "DESCRIPTION": "Usage metrics in, ROI assessments, switch flags and decision records out.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "teams.api.schema.document_errors",
    ],
    # One name for the approach values wherever they appear (verdicts, recommendations, workloads).
    "ENUM_NAME_OVERRIDES": {
        "ApproachEnum": "workloads.models.Approach",
        "PolicyEnum": "workloads.models.Policy",
        "DecisionStatusEnum": "decisions.models.DecisionStatus",
        "EvidenceKindEnum": "decisions.models.EvidenceKind",
        "ArgumentKindEnum": "decisions.madr.ARGUMENT_KINDS",
        "FlagStatusEnum": "workloads.models.FlagStatus",
        "DeliveryStatusEnum": "teams.models.WebhookDelivery.Status",
        "PromptKindEnum": "prompts.models.Kind",
        "PromptRoleEnum": "prompts.content.ROLES",
        "TaskKindEnum": "evaluations.models.TaskKind",
        "SplitEnum": "evaluations.models.Split",
        "BenchmarkStatusEnum": "evaluations.models.BenchmarkStatus",
        "FineTuneStatusEnum": "evaluations.finetune_models.FineTuneStatus",
        "SystemPromptEnum": "evaluations.finetune_models.SystemPrompt",
        "PersonaDeliveryEnum": "evaluations.persona_models.Delivery",
    },
}

# Throttling counters (API and login) live here: Redis when configured (shared by every web
# process), process-local memory otherwise (the single-process development server). Redis being
# down must not take requests down: the backend fails open (config/cache.py), quickly.
CACHES = {
    "default": (
        {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": envstr("REDIS_URL"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if envstr("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: a real worker in every mode. The embedded default is the filesystem broker under var/
# so `make dev` needs no Redis; production sets CELERY_BROKER_URL to redis:// or amqp://.
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The test suite (and the workers it starts) use their own folder, so that a message sent by
    # a test never reaches a `make dev` worker, nor the other way round.
    _testing = "pytest" in sys.modules
    _broker_dir = Path(
        envstr("CELERY_BROKER_DIR", str(VAR_DIR / ("celery-test" if _testing else "celery")))
    )
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A broker that is down must not hang the web request that enqueues after commit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "socket_timeout": 2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 360)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Slow model calls (benchmarks, fine-tunes) get their own queue so they never delay re-assessments.
CELERY_TASK_ROUTES = {"evaluations.tasks.*": {"queue": "evaluations"}}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Apps add their periodic tasks here (name -> {"task": ..., "schedule": seconds}).
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "requeue-stale-webhook-deliveries": {
        "task": "teams.tasks.requeue_stale_webhook_deliveries",
        "schedule": 300,
    },
    # Re-assessments missed while the broker was down, and flags held by the no-flapping rule.
    "workloads-sweep-assessments": {
        "task": "workloads.sweep_assessments",
        "schedule": envint("ASSESSMENT_SWEEP_SECONDS", 120),
    },
    "decisions-check-review-dates": {"task": "decisions.check_review_dates", "schedule": 86400},
    # Chunks of benchmark runs whose worker died (or that the broker never got).
    "evaluations-requeue-stale-benchmarks": {
        "task": "evaluations.tasks.requeue_stale_benchmarks",
        "schedule": 300,
    },
    # Fine-tuning jobs whose poller died with its worker get a new one.
    "evaluations-sweep-finetunes": {
        "task": "evaluations.tasks.sweep_finetunes",
        "schedule": envint("FINETUNE_SWEEP_SECONDS", 60),
    },
}

# Fine-tuning jobs are polled with exponential backoff and jitter: the first poll after
# FINETUNE_POLL_BASE_MS, doubling up to FINETUNE_POLL_CAP_SECONDS, at most
# FINETUNE_POLL_MAX_ATTEMPTS polls. A poller silent for FINETUNE_POLL_STALE_SECONDS past its due
# time is presumed dead and replaced by the sweep.
FINETUNE_POLL_BASE_MS = envint("FINETUNE_POLL_BASE_MS", 5000)
FINETUNE_POLL_CAP_SECONDS = envint("FINETUNE_POLL_CAP_SECONDS", 300)
FINETUNE_POLL_MAX_ATTEMPTS = envint("FINETUNE_POLL_MAX_ATTEMPTS", 500)
FINETUNE_POLL_STALE_SECONDS = envint("FINETUNE_POLL_STALE_SECONDS", 180)

# Outgoing webhooks: attempt n waits BASE * 2**(n-1) seconds after attempt n-1 failed.
WEBHOOK_MAX_ATTEMPTS = envint("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_RETRY_BASE_SECONDS = envint("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}
