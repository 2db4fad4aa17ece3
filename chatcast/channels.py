"""The registry's channel facts as the packages below the root take them: plain data, no channel named."""

from __future__ import annotations

from bots.registry import CHANNELS
from storage.importers import IdentityColumn


def identity_columns() -> list[IdentityColumn]:
    """The customers file's columns that link chat identities, one per channel."""
    return [
        IdentityColumn(spec.import_column.column, spec.name, spec.import_column.type, spec.import_column.address)
        for spec in CHANNELS
    ]
