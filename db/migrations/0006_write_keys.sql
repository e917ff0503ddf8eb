-- What each keyed mutation field wrote (docs/idempotency.md): a row per viewer, Idempotency-Key
-- and root field (its response key), inserted in the same transaction as the write itself, so
-- "did this run?" has one answer, whatever happened to the connection, the worker or Redis.
-- A retry with the same key finds the row and answers from its result instead of writing again.
-- Rows older than the idempotency TTL no longer count and are pruned.

-- migrate:up
create table write_keys (
    viewer_id   bigint      not null references users (id) on delete cascade,
    key         text        not null check (char_length(key) between 1 and 255),
    field       text        not null,
    fingerprint text        not null,
    result      jsonb       not null,
    created_at  timestamptz not null default now(),
    primary key (viewer_id, key, field)
);
-- Pruning the expired rows.
create index write_keys_created_at on write_keys (created_at);

-- migrate:down
drop table write_keys;
