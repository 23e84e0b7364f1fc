"""Column types shared by the SMS module's tables."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_column(cls: type[enum.Enum], length: int = 20) -> Enum:
    """Store ``cls``'s values (not its names) in a VARCHAR(``length``) with no DB enum type."""
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )
