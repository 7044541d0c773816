"""Anju settings: everything that differs between machines comes from the environment."""

import os
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

from geo.basemaps import checked_basemaps, default_names
from portal.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

if DEBUG:
    # A development key per machine comes from SECRET_KEY_FILE (make writes one); a bare
    # `manage.py` falls back to a random key per process, never to a constant.
    SECRET_KEY = env_str("SECRET_KEY", None) or get_random_secret_key()
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    DATABASES = {
        "default": database_from_url(
            env_str("DATABASE_URL", "postgis://anju@127.0.0.1:54329/anju")  # type: ignore[arg-type]
        )
    }
else:
    SECRET_KEY = env_str("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    DATABASES = {"default": database_from_url(env_str("DATABASE_URL"))}  # type: ignore[arg-type]
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    # HTTPS only: redirect, HSTS for a year; behind a TLS-terminating proxy set
    # SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto so Django knows a request came over HTTPS.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_str("SECURE_PROXY_SSL_HEADER", None) == "X-Forwarded-Proto":
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# A streaming read replica for anonymous public reads (anju/db_router.py, docs/scaling.md);
# without one every query goes to DATABASES["default"]. Tests mirror it onto the test database.
if _replica_url := env_str("ANJU_DATABASE_REPLICA_URL", None):
    DATABASES["replica"] = {**database_from_url(_replica_url), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["anju.db_router.ReplicaRouter"]
# How long a browser reads the primary after it wrote (longer than the replica's usual lag).
ANJU_REPLICA_PIN_SECONDS = env_int("ANJU_REPLICA_PIN_SECONDS", 15)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "django.contrib.humanize",
    "portal",
    "geo",
    "layers",
    "archive",
    "backoffice",
    "disclosure",
    "exchange",
    "credit",
    "housing",
    "allocation",
    "tenancy",
    "insights",
    "procrastinate.contrib.django",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy: see CONTENT_SECURITY_POLICY
    "portal.middleware.RequestSanityMiddleware",  # control characters → 400, huge bodies → 413
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.db_routing.ReplicaReadsMiddleware",  # anonymous GETs read the replica, if any
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.embedding.EmbeddingMiddleware",  # ?embed=1: no site header in a host app's WebView
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.site",
                "portal.embedding.embedding",
                "backoffice.views.modules_context",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "media"))
# Rendered vector tiles, keyed on the stock version (layers/tile_cache.py).
TILE_CACHE_DIR = env_str("TILE_CACHE_DIR", str(BASE_DIR / ".local" / "tile-cache"))
# Django's cache (rendered public pages, layers/public_cache.py; open-data snapshots) in files
# that every worker of the machine shares: a page rendered by one worker is a hit for all, and
# no worker keeps the bodies in its memory (measured: 0.16 ms a hit, against 0.7 ms from a
# DatabaseCache table). Keys carry the database's name (a test database never reads the
# development database's entries); one directory per configured database.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env_str(
            "CACHE_DIR",
            str(BASE_DIR / ".local" / "cache" / str(DATABASES["default"].get("NAME", ""))),
        ),
        "TIMEOUT": 3600,
        "KEY_FUNCTION": "layers.public_cache.database_key",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    },
}
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
LOGIN_URL = "staff-login"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/leaflet", _NODE / "leaflet" / "dist"),
    ("vendor/leaflet.markercluster", _NODE / "leaflet.markercluster" / "dist"),
    ("vendor/swagger-ui", _NODE / "swagger-ui-dist"),
    ("vendor/leaflet.vectorgrid", _NODE / "leaflet.vectorgrid" / "dist"),
    ("vendor/echarts", _NODE / "echarts" / "dist"),
]
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
# In development whitenoise serves straight from the finders, so no collectstatic is needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# GDAL 3.6 on Debian 12 is older than Django 5.2 would like; it works for everything we use.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "pyogrio": {"level": "WARNING"},
        "procrastinate": {"level": "WARNING"},
        # WeasyPrint narrates every layout step at INFO; a signed lease is not news.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Anju ---------------------------------------------------------------------------------
# The deployment's city: its name and the map's starting view. Regions themselves are data.
ANJU_CITY_NAME = env_str("ANJU_CITY_NAME", "亳州市")
ANJU_MAP_CENTER = (
    float(env_str("ANJU_MAP_CENTER_LAT", "33.60")),  # type: ignore[arg-type]
    float(env_str("ANJU_MAP_CENTER_LON", "116.10")),  # type: ignore[arg-type]
)
ANJU_MAP_ZOOM = env_int("ANJU_MAP_ZOOM", 9)
ANJU_HOTLINE = env_str("ANJU_HOTLINE", "")
# H5 in a host app (皖事通): no site header/footer on any page; otherwise `?embed=1` per visit.
ANJU_EMBEDDED = env_bool("ANJU_EMBEDDED", False)
# 开放数据: counts of people or households from 1 to this minus one are published as "<N".
ANJU_OPEN_DATA_MIN_COUNT = env_int("ANJU_OPEN_DATA_MIN_COUNT", 5)
# Above this many matching estates the home map draws vector tiles instead of one marker each.
ANJU_MAP_MARKER_LIMIT = env_int("ANJU_MAP_MARKER_LIMIT", 2000)
# Up to this many published estates every map page carries their names; above it the map
# fetches the names of the estates in view (geo/map_base.py, /api/map-labels/).
ANJU_MAP_INLINE_ESTATE_LABELS = env_int("ANJU_MAP_INLINE_ESTATE_LABELS", 300)
# The home page's plain list when the map draws tiles (the script fetches its own list):
# 50 rows keep the page near 55 KB at 5,000 estates; 200 made it 96 KB.
HOME_LIST_LIMIT = 50
ANJU_TIANDITU_KEY = env_str("ANJU_TIANDITU_KEY", "")
ANJU_BOUNDARY_ATTRIBUTION = env_str(
    "ANJU_BOUNDARY_ATTRIBUTION", "行政区划边界：简化示意，非审图号底图"
)
# Base maps in every map's switcher (tianditu, amap, osm, none = our own layers only, which
# needs no internet) and the one shown first: Tianditu when there is a key, else AMap
# (docs/decisions/0004-base-maps.md). Each of our maps keeps our layers readable without tiles.
ANJU_BASEMAPS = env_list("ANJU_BASEMAPS", default_names(ANJU_TIANDITU_KEY))
ANJU_BASEMAP = env_str("ANJU_BASEMAP", ANJU_BASEMAPS[0] if ANJU_BASEMAPS else "none")
_BASEMAPS = checked_basemaps(
    ANJU_BASEMAPS,
    ANJU_BASEMAP,
    tianditu_key=ANJU_TIANDITU_KEY,
    boundary_note=ANJU_BOUNDARY_ATTRIBUTION,
)

# --- Content-Security-Policy (hardening) ----------------------------------------------------
# No inline script anywhere: page scripts are static files reading data-* attributes or
# json_script data (type="application/json" is never run), and maps are drawn by
# static/portal/js/map.js from the JSON portal/maps.py writes. No inline style either, so
# style-src needs no 'unsafe-inline': Leaflet positions and colours things through the
# CSSOM (element.style), which CSP leaves alone, and our templates use classes or SVG
# attributes, never style attributes. Images: ours, data: URIs (icons in Leaflet's and the
# admin's CSS) and the tile servers of every base map the switcher offers, so a new base map
# is allowed where it is defined (geo/basemaps.py). ANJU_CSP_REPORT_ONLY=true sends the same
# policy report-only, to try a change in production first; by default it is enforced.
_CSP = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [
            SELF,
            "data:",
            *dict.fromkeys(origin for b in _BASEMAPS for origin in b.tile_origins),
        ],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if env_bool("ANJU_CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

# Least privilege: the role the application connects as; migrations (run as the owner) grant
# it row privileges on every table (portal/db_roles.py). Empty: no grants are made.
ANJU_DB_APP_ROLE = env_str("ANJU_DB_APP_ROLE", "")

# Working days: the official calendar (chinese-calendar) corrected by these ISO dates; a year
# the package does not know must be declared covered by them (a system check refuses otherwise).
ANJU_HOLIDAYS = env_list("ANJU_HOLIDAYS", [])
ANJU_WORKDAYS = env_list("ANJU_WORKDAYS", [])
ANJU_CALENDAR_YEARS = [int(y) for y in env_list("ANJU_CALENDAR_YEARS", [])]


# Department data: the city data-sharing platform (signed HTTP) or delivered files.
ANJU_DATA_SOURCE = env_str("ANJU_DATA_SOURCE", "http")
ANJU_DATA_PLATFORM_URL = env_str("ANJU_DATA_PLATFORM_URL", "http://127.0.0.1:8765")
ANJU_DATA_PLATFORM_APP_ID = env_str("ANJU_DATA_PLATFORM_APP_ID", "anju-demo")
# Development talks to the demo platform; production must be given the real secret.
ANJU_DATA_PLATFORM_SECRET = (
    env_str("ANJU_DATA_PLATFORM_SECRET", "anju-demo-secret")
    if DEBUG or ANJU_DATA_SOURCE != "http"
    else env_str("ANJU_DATA_PLATFORM_SECRET")
)
ANJU_DATA_PLATFORM_TIMEOUT = float(env_str("ANJU_DATA_PLATFORM_TIMEOUT", "3"))  # type: ignore[arg-type]
# 电子证照库 (exchange/licences.py), signed like the department queries with the same app id and
# secret; empty: the data-sharing platform above serves it (as the demo platform does).
ANJU_LICENCE_URL = env_str("ANJU_LICENCE_URL", "")
ANJU_DATA_SNAPSHOT_DIR = env_str("ANJU_DATA_SNAPSHOT_DIR", str(BASE_DIR / "data" / "snapshots"))
# 办件状态推送: every step of a case to the platform's case API (housing/case_push.py), signed
# with the platform's app id and secret above; off when set empty (the pushes wait, unsent).
# Development defaults to the demo platform; production pushes only where it is told to.
ANJU_CASE_PUSH_URL = (
    env_str("ANJU_CASE_PUSH_URL", "")
    if "ANJU_CASE_PUSH_URL" in os.environ or not DEBUG
    else ANJU_DATA_PLATFORM_URL
)
# SMS gateway for sign-in codes: the default keeps messages in the database (a dev inbox page).
ANJU_SMS_BACKEND = env_str("ANJU_SMS_BACKEND", "housing.sms.DatabaseInbox")

# 统一身份认证: residents (and linked staff) sign in with the provincial OpenID provider
# (housing/oidc.py). Off when the issuer is empty; development defaults to the demo provider
# that `make run` starts (exchange/demo_idp.py, ANJU_DEMO_IDP_URL). Claim names are the
# provider's own.
ANJU_OIDC_ISSUER = (
    env_str("ANJU_OIDC_ISSUER", "")
    if "ANJU_OIDC_ISSUER" in os.environ or not DEBUG
    else env_str("ANJU_DEMO_IDP_URL", "http://127.0.0.1:8766")
)
# Development talks to the demo provider; production with an issuer must name its client.
_OIDC_DEMO = DEBUG or not ANJU_OIDC_ISSUER
ANJU_OIDC_CLIENT_ID = env_str("ANJU_OIDC_CLIENT_ID", *(["anju-demo"] if _OIDC_DEMO else []))
ANJU_OIDC_CLIENT_SECRET = env_str(
    "ANJU_OIDC_CLIENT_SECRET", *(["anju-demo-secret"] if _OIDC_DEMO else [])
)
ANJU_OIDC_SCOPES = env_str("ANJU_OIDC_SCOPES", "openid profile phone")
ANJU_OIDC_CLAIM_NAME = env_str("ANJU_OIDC_CLAIM_NAME", "name")
ANJU_OIDC_CLAIM_ID_NUMBER = env_str("ANJU_OIDC_CLAIM_ID_NUMBER", "id_number")
ANJU_OIDC_CLAIM_PHONE = env_str("ANJU_OIDC_CLAIM_PHONE", "phone_number")
ANJU_OIDC_TIMEOUT = float(env_str("ANJU_OIDC_TIMEOUT", "5"))  # type: ignore[arg-type]

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": _("Anju 公租房信息公开 API"),  # lazy: the docs and schema follow the reader's language
    "DESCRIPTION": _("已公开项目与空置房源（GeoJSON, RFC 7946, WGS84）。"),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/portal/favicon.svg",
}

# --- Sign-in protection, rate limits, client address, staff sessions (issue 10) ------------
# One lockout for every door (/staff/login/, /admin/login/, any later one): django-axes as the
# first authentication backend, keyed on username + client address, so nobody can lock a clerk
# out from elsewhere. Its handler adds a per-address limit across usernames (password
# spraying); docs/decisions/0003-login-protection.md says why it is not a second counter.
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE += [
    "backoffice.staff_sessions.StaffSessionMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the sign-in page saying so
]
AXES_HANDLER = "backoffice.login_protection.LoginProtectionHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("ANJU_LOGIN_FAILURE_LIMIT", 5)
ANJU_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("ANJU_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = env_int("ANJU_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "archive.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "backoffice.views.locked_out"
AXES_HTTP_RESPONSE_CODE = 429
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # failures and lockouts, not every success


def _proxy_networks(name: str) -> list[str]:
    """IPs or CIDRs of our reverse proxies; a typo must stop the start, not trust the world."""
    from ipaddress import ip_network

    from django.core.exceptions import ImproperlyConfigured

    values = env_list(name, [])
    for value in values:
        try:
            ip_network(value, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {value!r} is not an IP address or CIDR.") from exc
    return values


# X-Forwarded-For is believed only from these (archive/client_ip.py); empty: REMOTE_ADDR only.
ANJU_TRUSTED_PROXIES = _proxy_networks("ANJU_TRUSTED_PROXIES")

# Staff sessions end after an idle half hour and, at the latest, a working day after sign-in
# (backoffice/staff_sessions.py); applicants' SMS sessions keep Django's default.
ANJU_STAFF_IDLE_MINUTES = env_int("ANJU_STAFF_IDLE_MINUTES", 30)
ANJU_STAFF_SESSION_HOURS = env_int("ANJU_STAFF_SESSION_HOURS", 10)

# --- Uploads and hostile input (issue 10, items 4 and 6) -----------------------------------
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE leaves files out: these bound what an upload may cost.
# Any request body (portal/middleware.py), one stock file, and what a zip (also XLSX) may
# expand to, checked before anything is extracted or read (geo/stock_import.py).
ANJU_REQUEST_MAX_BYTES = env_int("ANJU_REQUEST_MAX_BYTES", 64 * 1024 * 1024)
ANJU_UPLOAD_MAX_BYTES = env_int("ANJU_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
ANJU_UPLOAD_MAX_UNZIPPED_BYTES = env_int("ANJU_UPLOAD_MAX_UNZIPPED_BYTES", 200 * 1024 * 1024)
ANJU_UPLOAD_MAX_ZIP_MEMBERS = env_int("ANJU_UPLOAD_MAX_ZIP_MEMBERS", 200)
# A checked import waits this long for its confirmation; older ones are removed.
ANJU_IMPORT_PLAN_MAX_AGE_SECONDS = env_int("ANJU_IMPORT_PLAN_MAX_AGE_SECONDS", 6 * 3600)

# --- 档案批量下载 (insights/batches.py) ----------------------------------------------------------
# At most this many unit/household folders and this many bytes per ZIP; a ZIP is kept (and may
# be downloaded by whoever asked for it) this many hours, then deleted by an hourly job.
ANJU_BATCH_MAX_FOLDERS = env_int("ANJU_BATCH_MAX_FOLDERS", 2000)
ANJU_BATCH_MAX_BYTES = env_int("ANJU_BATCH_MAX_BYTES", 2 * 1024**3)
ANJU_BATCH_EXPIRY_HOURS = env_int("ANJU_BATCH_EXPIRY_HOURS", 72)

# --- Personal data at rest (archive/crypto.py) ----------------------------------------------
# Fernet keys, newest first, separated by commas or line breaks (ANJU_DATA_KEYS_FILE for a
# file): the first encrypts, all decrypt, so a new key goes in front and the old one stays until
# `manage.py rotate_data_keys` has re-encrypted every row. The blind-index key (HMAC, at least
# 32 characters) makes exact lookups possible; changing it needs the same command (--reindex).
# `make` writes development keys to .local/; production must set both.
ANJU_DATA_KEYS = (env_str("ANJU_DATA_KEYS", "") or "").replace("\n", ",").split(",")
ANJU_DATA_KEYS = [key.strip() for key in ANJU_DATA_KEYS if key.strip()]
ANJU_BLIND_INDEX_KEY = env_str("ANJU_BLIND_INDEX_KEY", "")

# --- Contracts (tenancy/signing.py) ---------------------------------------------------------
# The organisation's signing certificate (PKCS#12) and its passphrase; `make` writes a local
# development CA and certificate into .local/signing/. ANJU_SIGNING_TRUST_ROOTS lists the PEM
# files of the CAs /verify/ trusts (production: the real CA's root). A trusted timestamp comes
# from ANJU_SIGNING_TSA_URL (RFC 3161) when set. ANJU_CONTRACT_SIGNER swaps in another signer
# (a CA's signing service) through the same interface.
ANJU_SIGNING_P12_FILE = env_str("ANJU_SIGNING_P12_FILE", "")
ANJU_SIGNING_P12_PASSPHRASE = env_str("ANJU_SIGNING_P12_PASSPHRASE", "")
ANJU_SIGNING_TRUST_ROOTS = env_list("ANJU_SIGNING_TRUST_ROOTS", [])
ANJU_SIGNING_TSA_URL = env_str("ANJU_SIGNING_TSA_URL", "")
ANJU_SIGNING_ORGANISATION = env_str("ANJU_SIGNING_ORGANISATION", "亳州市公共租赁住房运营管理中心")
ANJU_CONTRACT_SIGNER = env_str("ANJU_CONTRACT_SIGNER", "tenancy.signing.Pkcs12Signer")
