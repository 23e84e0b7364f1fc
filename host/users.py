"""Creating users outside the web pages (CLI, demo data)."""

from __future__ import annotations

from sqlalchemy import func, select

from host.extensions import db
from host.models import Company, Role, User


class UserError(ValueError):
    """The user cannot be created as asked."""


def create_user(
    email: str, password: str, role: str, company_id: int | None = None, name: str = ""
) -> User:
    """Create and commit a user; operators belong to no shop, others to one."""
    email = email.strip().lower()
    if "@" not in email:
        raise UserError(f"{email!r} is not an e-mail address.")
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
