"""Thin resolvers: read arguments, call a loader, return rows. No SQL, no privacy logic here."""
