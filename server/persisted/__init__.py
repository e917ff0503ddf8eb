"""Persisted queries: Apollo's APQ protocol, registered documents, per-client policy."""
