"""Keys of the metadata a schema field may declare (`strawberry.field(metadata=...)`) for the
HTTP edge to read."""

SURCHARGE = "cost"
"""A field's own price, beyond the objects it produces (server/cost.py): an int added each
time the field runs."""
