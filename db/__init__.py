"""Database layer: the asyncpg pool, migrations, SQL and demo data."""
