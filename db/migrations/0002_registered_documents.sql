-- Registered operations (persisted-query manifests, safelists): product data, kept here; Redis
-- and each worker's document cache sit in front. APQ documents stay in Redis only.

-- migrate:up
create table registered_documents (
    client text not null check (char_length(client) between 1 and 64),
    id     text not null check (char_length(id) between 1 and 256),
    body   text not null,
    primary key (client, id)
);

-- What each client version registered: `pinql operations list`.
create table registered_versions (
    client        text        not null,
    version       text        not null,
    document_id   text        not null,
    name          text,
    type          text        not null,
    registered_at timestamptz not null default now(),
    primary key (client, version, document_id),
    foreign key (client, document_id) references registered_documents (client, id)
);

-- migrate:down
drop table registered_versions;
drop table registered_documents;
