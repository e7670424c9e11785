"""Mapping: raw batches of each source into canonical models, one module per source."""

from tasks.mapping.batch import Mapped, MappedStream
from tasks.mapping.workcloud import map_export, map_to_canonical

__all__ = ["Mapped", "MappedStream", "map_export", "map_to_canonical"]
