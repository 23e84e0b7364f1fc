"""Per-shop REST API tokens: shown once, stored as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from host.api import db, utcnow
from plugins.sms_module.models import ApiToken

TOKEN_PREFIX = "crm_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(company_id: int, name: str, user_id: int | None) -> tuple[ApiToken, str]:
    """Create a token for the shop; return the row and the token text, shown only now."""
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        company_id=company_id,
        name=name,
        token_hash=_hash(text),
        prefix=text[:10],
        created_by_id=user_id,
    )
    db.session.add(row)
    db.session.commit()
    return row, text


def revoke_token(row: ApiToken) -> None:
    """Revoke a token: it stops working at once (commits)."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit()


def token_owner(text: str) -> ApiToken | None:
    """Return the live token matching ``text``, or ``None``."""
    if not text.startswith(TOKEN_PREFIX):
        return None
    return db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash(text), ApiToken.revoked_at.is_(None))
    )
