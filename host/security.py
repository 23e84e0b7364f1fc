"""What keeps strangers out: a refusal to start on a public secret key, the session cookie's
flags, and the security headers of every answer (a Content-Security-Policy with a nonce for
the pages' few inline scripts).

Config:
    SECRET_KEY: signs the session cookie (and derives the other secrets, see
        ``derived_secret``). Outside tests (``TESTING``) and debug (``DEBUG``), the app refuses
        to start with an empty one or a public default (``dev``); ``crmhost demo`` makes its
        own, kept in the instance folder.
        A key shorter than ``MIN_SECRET_KEY_LENGTH`` characters is refused the same way.
    PUBLIC_BASE_URL: when it (or ``SMS_PUBLIC_BASE_URL``, config or environment) is
        ``https://…`` the session and remember cookies are ``Secure``.
    TRUSTED_PROXIES: how many proxies (load balancers) in front of the app set
        ``X-Forwarded-For``/``-Proto``/``-Host`` (env ``CRMHOST_TRUSTED_PROXIES``, default 0:
        the headers are ignored, as anyone can send them). With N, Werkzeug's ``ProxyFix``
        takes the client address N hops back: the login throttle's per-address window then
        counts each client, not the load balancer.
    CONTENT_SECURITY_POLICY: the policy sent with every answer; ``{nonce}`` is replaced by
        the request's nonce (default ``DEFAULT_CSP``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from flask import Flask, Response, g
from werkzeug.middleware.proxy_fix import ProxyFix

# Values a deployment must never run with: empty, or a default published in this repository.
PUBLIC_SECRET_KEYS = frozenset({"", "dev"})
# Shorter keys can be guessed offline from one signed cookie (OWASP ASVS 6.2: 128 bits).
MIN_SECRET_KEY_LENGTH = 16

SECRET_KEY_HELP = (
    "SECRET_KEY is {state}: anyone could forge a login cookie. Set the SECRET_KEY environment "
    "variable (or SECRET_KEY in {instance}/config.py) to a long random value, the same on "
    "every web process and worker, e.g. the output of: "
    "python -c 'import secrets; print(secrets.token_hex(32))'. "
    "(`crmhost demo` makes its own; tests and FLASK_DEBUG=1 run without one.)"
)

# Scripts and styles only from this site, or inline with this request's nonce; no frames,
# plugins or foreign form targets (OWASP's CSP cheat sheet). data: images: SVG icons.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class UnsafeConfiguration(RuntimeError):
    """The configuration would let strangers in; the message says how to fix it."""


def check_secret_key(app: Flask) -> None:
    """Raise ``UnsafeConfiguration`` when a production app has an empty, public or short
    (under ``MIN_SECRET_KEY_LENGTH`` characters) ``SECRET_KEY`` (tests and debug are exempt):
    with a known or guessable key, a session cookie saying "user 1" can be signed by anyone
    (OWASP ASVS 3.5 / 6.4)."""
    if app.testing or app.debug:
        return
    key = app.config.get("SECRET_KEY")
    text = key.decode(errors="replace") if isinstance(key, bytes) else (key or "")
    if text.strip() in PUBLIC_SECRET_KEYS:
        state = "empty" if not text.strip() else "not set (or is the public default 'dev')"
        raise UnsafeConfiguration(SECRET_KEY_HELP.format(state=state, instance=app.instance_path))
    if len(text.strip()) < MIN_SECRET_KEY_LENGTH:
        state = f"too short ({len(text.strip())} characters, {MIN_SECRET_KEY_LENGTH} at least)"
        raise UnsafeConfiguration(SECRET_KEY_HELP.format(state=state, instance=app.instance_path))


def served_over_https(app: Flask) -> bool:
    """Whether the site is reached over https: ``PUBLIC_BASE_URL`` or
    ``SMS_PUBLIC_BASE_URL`` (the app's config, else the environment, as the SMS module reads
    it) starts with ``https://``."""
    urls = [app.config.get("PUBLIC_BASE_URL")]
    urls.append(app.config.get("SMS_PUBLIC_BASE_URL") or os.environ.get("SMS_PUBLIC_BASE_URL"))
    return any(str(url or "").strip().lower().startswith("https://") for url in urls)


def trust_proxies(app: Flask) -> None:
    """Apply Werkzeug's ``ProxyFix`` for ``TRUSTED_PROXIES`` proxies (default 0: nothing);
    raise ``UnsafeConfiguration`` when it is not a whole number from 0 up."""
    value = app.config.setdefault("TRUSTED_PROXIES", 0)
    text = str(value).strip()
    count = int(text) if not isinstance(value, bool) and text.isdigit() else -1
    if count < 0:
        raise UnsafeConfiguration(
            f"TRUSTED_PROXIES (CRMHOST_TRUSTED_PROXIES) is {value!r}: give the number of "
            "proxies in front of the app, 0 (the default) when clients reach it directly."
        )
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def derived_secret(secret_key: str | bytes, purpose: str) -> str:
    """Return a secret for ``purpose`` derived from ``secret_key`` (hex HMAC-SHA256): the
    same in every process sharing the key, unguessable without it, different per purpose."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, purpose.encode(), hashlib.sha256).hexdigest()


def csp_nonce() -> str:
    """Return this request's nonce (``<script nonce="{{ csp_nonce() }}">``), made once."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def security_headers(response: Response) -> Response:
    """Add the security headers to every answer (kept when a view set its own)."""
    from flask import current_app

    policy = current_app.config["CONTENT_SECURITY_POLICY"]
    if policy:
        response.headers.setdefault("Content-Security-Policy", policy.format(nonce=csp_nonce()))
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def init_app(app: Flask) -> None:
    """Refuse an unsafe secret key, trust the configured proxies, set the session cookie's
    flags, add the headers."""
    check_secret_key(app)
    trust_proxies(app)
    app.config.setdefault("CONTENT_SECURITY_POLICY", DEFAULT_CSP)
    https = served_over_https(app)
    for prefix in ("SESSION", "REMEMBER"):
        app.config[f"{prefix}_COOKIE_HTTPONLY"] = True
        app.config[f"{prefix}_COOKIE_SAMESITE"] = "Lax"
        app.config[f"{prefix}_COOKIE_SECURE"] = https or bool(
            app.config.get(f"{prefix}_COOKIE_SECURE")
        )
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(security_headers)
