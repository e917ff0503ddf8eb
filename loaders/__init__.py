"""Per-request DataLoaders: every read of the graph, batched, with the privacy rules in its SQL."""

from loaders.container import Loaders

__all__ = ["Loaders"]
