-- Registered clients (web, ios, ...): each proves its name with a key, stored only as its
-- SHA-256 (keys are 256-bit random strings, so a fast hash is enough; GitHub stores tokens the
-- same way). After a rotation the previous key stays valid until previous_expires_at.

-- migrate:up
create table clients (
    name                 text        primary key check (name ~ '^[a-z0-9._-]{1,32}$'),
    policy               jsonb       not null,
    key_hash             bytea       not null check (octet_length(key_hash) = 32),
    previous_key_hash    bytea       check (octet_length(previous_key_hash) = 32),
    previous_expires_at  timestamptz,
    created_at           timestamptz not null default now(),
    rotated_at           timestamptz,
    check ((previous_key_hash is null) = (previous_expires_at is null))
);

-- migrate:down
drop table clients;
