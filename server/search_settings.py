"""The search part of pinql's settings (server/settings.py's Settings extends it): the weights
of a search score's parts (loaders/search.py)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from loaders.search import DEFAULT_RANKING, Ranking
from server.database_settings import SETTINGS_CONFIG


class SearchSettings(BaseSettings):
    """Search settings, read from environment variables (documented in the README)."""

    model_config = SETTINGS_CONFIG

    search_weight_text: float = Field(
        default=DEFAULT_RANKING.text,
        ge=0,
        le=1_000,
        allow_inf_nan=False,
        validation_alias="PINQL_SEARCH_WEIGHT_TEXT",
        description="A search score's weight of text relevance (0..1 per match).",
    )
    search_weight_engagement: float = Field(
        default=DEFAULT_RANKING.engagement,
        ge=0,
        le=1_000,
        allow_inf_nan=False,
        validation_alias="PINQL_SEARCH_WEIGHT_ENGAGEMENT",
        description="A search score's weight of engagement (the log of saves and comments, "
        "a board's pins, a user's followers).",
    )
    search_weight_freshness: float = Field(
        default=DEFAULT_RANKING.freshness,
        ge=0,
        le=1_000,
        allow_inf_nan=False,
        validation_alias="PINQL_SEARCH_WEIGHT_FRESHNESS",
        description="A search score's weight of freshness, per day: a row one day newer "
        "scores this much more.",
    )

    @property
    def search_ranking(self) -> Ranking:
        """The search score's weights (loaders/search.py)."""
        return Ranking(
            self.search_weight_text, self.search_weight_engagement, self.search_weight_freshness
        )
