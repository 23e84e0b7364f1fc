"""Creating users outside the web pages (CLI, demo data); checking a login's password."""

from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from host.extensions import db
from host.forms import text_problem
from host.models import Company, Role, User

EMAIL_LENGTH, NAME_LENGTH = 254, 200  # User.email, User.name


class UserError(ValueError):
    """The user cannot be created as asked."""


def create_user(
    email: str, password: str, role: str, company_id: int | None = None, name: str = ""
) -> User:
    """Create and commit a user; operators belong to no shop, others to one. Raises
    ``UserError`` (a message for the CLI) for an e-mail with no ``@``, spaces or control
    characters, a name with line breaks or control characters (both reach e-mail headers:
    issue 13 §10) or longer than its column, a short password, a role without its shop."""
    email, name = email.strip().lower(), name.strip()
    if "@" not in email or len(email) > EMAIL_LENGTH or _not_one_line(email, spaces=True):
        raise UserError(f"{email!r} is not an e-mail address.")
    if _not_one_line(name):
        raise UserError("The name must be one line of text: no line breaks or control characters.")
    if len(name) > NAME_LENGTH:
        raise UserError(f"The name has {len(name)} characters; the limit is {NAME_LENGTH}.")
    if len(password) < 8:
        raise UserError("The password needs 8 characters or more.")
    role_value = Role(role)
    if role_value == Role.OPERATOR and company_id is not None:
        raise UserError("An operator belongs to no shop: leave --company-id out.")
    if role_value != Role.OPERATOR and (
        company_id is None or not db.session.get(Company, company_id)
    ):
        raise UserError("A shop user needs --company-id of an existing shop.")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise UserError(f"A user with the e-mail {email} already exists.")
    user = User(email=email, name=name, role=role_value, company_id=company_id, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def _not_one_line(text: str, spaces: bool = False) -> bool:
    """Tell whether ``text`` holds a control character or a line break (``ShopForm``'s rule:
    ``forms.text_problem``), or, with ``spaces``, any white space."""
    return text_problem(text) is not None or (spaces and any(c.isspace() for c in text))


@cache
def _dummy_hash() -> str:
    """A hash of a random password, made like every user's (werkzeug's default method)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """Return the active user whose ``email`` (any case) and ``password`` match, else None.

    The password is hashed exactly once whether the e-mail is known, unknown or the user is
    inactive, so the answer's time does not tell which (OWASP Authentication cheat sheet,
    "Authentication responses")."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user
