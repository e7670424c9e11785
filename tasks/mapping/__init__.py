"""Mapping: raw batches of each source into canonical models, one module per source."""

from tasks.mapping.batch import Mapped
from tasks.mapping.workcloud import map_export, map_to_canonical

__all__ = ["Mapped", "map_export", "map_to_canonical"]
