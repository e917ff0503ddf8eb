"""HTTP edge: the Starlette app, GraphQL view, settings and CLI."""
