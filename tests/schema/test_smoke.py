"""A first end-to-end check: the world answers through HTTP."""

from tests import world
from tests.support import GraphQLClient


async def test_latest_pins_hide_secret_ones_from_others(world_client: GraphQLClient) -> None:
    data = await world_client.data("{ pins(first: 100) { totalCount nodes { title } } }")
    titles = {n["title"] for n in data["pins"]["nodes"]}
    assert titles == {f"pin {p}" for p in world.visible_pins(None)}
    assert data["pins"]["totalCount"] == len(world.visible_pins(None))
