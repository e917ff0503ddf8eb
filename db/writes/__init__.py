"""Writes: each function is one mutation's SQL, run on a connection inside the transaction
the caller opened (`Session.transaction()`), with ownership and privacy checked in SQL by the
same rules reads use (db/privacy.py). A refused write raises `Refused` with user errors that
name the input field, the rule and the value; nothing is written then."""
