-- Search (loaders/search.py): the text of pins and boards as weighted `tsvector`s with a
-- posting list per word, and trigram indexes on users' names.
--
-- The vectors are generated columns: PostgreSQL recomputes them in the statement that writes
-- a title, description or name, so no write can leave one stale. They use the `english`
-- configuration, named in each expression (a generated column must be immutable: the
-- one-argument `to_tsvector` reads `default_text_search_config`); a title (name) weighs A,
-- a description B, so a word in a title ranks first.
--
-- A common word is in about one pin of a hundred, and a GIN index hands those back in no
-- useful order: ranking them all reads every one (10,000 pins at a million, 200 ms). The
-- posting tables (`pin_terms`, `board_terms`) keep each word's ids in a btree, newest
-- first, so a search reads at most a fixed number of the newest ids of each of its words
-- (bounded work at any size), then checks each candidate against the whole query with the
-- vector. Triggers keep the postings equal to the vectors' words; like the counters (0004)
-- they skip a session that defers counters, and the seeder then fills them in bulk
-- (db/search_terms.py). A posting never decides what shows: a read joins the row, its
-- privacy and the query.
--
-- People are found by trigram similarity (pg_trgm), which forgives typos and prefixes:
-- `carol` finds `caroline.w`.
--
-- Adding a generated column rewrites the table under an exclusive lock (seconds for a million
-- pins here); on a live table much larger than that, add the column as nullable, fill it in
-- batches and then make it generated (docs/search.md).

-- migrate:up
create extension if not exists pg_trgm;

alter table pins add column search tsvector generated always as (
    setweight(to_tsvector('english', title), 'A')
    || setweight(to_tsvector('english', description), 'B')
) stored;
alter table boards add column search tsvector generated always as (
    setweight(to_tsvector('english', name), 'A')
    || setweight(to_tsvector('english', description), 'B')
) stored;

create table pin_terms (
    lexeme text   not null,
    pin_id bigint not null,
    primary key (lexeme, pin_id)
);
create table board_terms (
    lexeme   text   not null,
    board_id bigint not null,
    primary key (lexeme, board_id)
);

-- Keeps a row's postings equal to its vector's words: the words it lost go, the new ones
-- come (by primary key: no index on the id is needed, the old vector names the rows). Its
-- arguments: the posting table and its id column.
create function search_indexed() returns trigger language plpgsql as $$
declare
    postings text := tg_argv[0];
    id_column text := tg_argv[1];
begin
    if counters_deferred() then
        return null;
    end if;
    if tg_op <> 'INSERT' then
        execute format(
            'delete from %I t using unnest($1) as w where t.lexeme = w.lexeme and t.%I = $2 '
            'and not w.lexeme = any(coalesce($3, ''{}''))', postings, id_column)
        using old.search, old.id,
            case when tg_op = 'UPDATE' then tsvector_to_array(new.search) end;
    end if;
    if tg_op <> 'DELETE' then
        execute format(
            'insert into %I (lexeme, %I) select w.lexeme, $2 from unnest($1) as w '
            'on conflict do nothing', postings, id_column)
        using new.search, new.id;
    end if;
    return null;
end
$$;
create trigger pins_indexed after insert or delete or update of title, description on pins
for each row execute function search_indexed('pin_terms', 'pin_id');
create trigger boards_indexed after insert or delete or update of name, description on boards
for each row execute function search_indexed('board_terms', 'board_id');

insert into pin_terms (lexeme, pin_id) select w.lexeme, p.id from pins p, unnest(p.search) as w;
insert into board_terms (lexeme, board_id)
select w.lexeme, b.id from boards b, unnest(b.search) as w;

create index users_username_trgm on users using gin (username gin_trgm_ops);
create index users_display_name_trgm on users using gin (display_name gin_trgm_ops);

-- migrate:down
drop index users_display_name_trgm;
drop index users_username_trgm;
drop trigger boards_indexed on boards;
drop trigger pins_indexed on pins;
drop function search_indexed();
drop table board_terms;
drop table pin_terms;
alter table boards drop column search;
alter table pins drop column search;
