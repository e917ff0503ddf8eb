-- Counters: every count the graph shows is read from a row, kept by triggers in the same
-- transaction as the write that changes what it counts (mutations, cascaded deletes, any SQL),
-- so a count costs a keyed read whatever the data's size.
--
-- Counts that depend on the viewer are split so that no one's secret rows leak: `public_*`
-- counts what everyone may see; the owner adds their own secret part (a SECRET board is seen
-- by its owner alone, and a pin's creator always owns its board: the pin triggers refuse a
-- pin whose creator does not).
--
-- Counter rows live in narrow tables of their own: a comment or a follow updates a small row
-- (HOT, no index change) and never waits on an edit of the pin or user it counts for.
-- `pin_totals` is striped (16 rows, by pin id) so that concurrent new pins do not queue on one
-- row; the total is their sum.
--
-- Every write takes what it locks in one order, so that no two writes deadlock: the boards
-- (FOR SHARE, or the privacy change's own UPDATE; several in id order), then the owner's
-- user_counts row (one owner's pin writes queue there), then board_counts, then pin_counts
-- (several in id order), then the pin_totals stripe. Follows take the two user_counts rows,
-- in id order.
--
-- A session that sets `pinql.defer_counters = on` (the seeder, loading in bulk) skips the
-- triggers and must rebuild the counters before it commits (db/counters.py).

-- migrate:up
create table user_counts (
    user_id     bigint primary key references users (id) on delete cascade,
    followers   bigint not null default 0,
    following   bigint not null default 0,
    public_pins bigint not null default 0,  -- created on PUBLIC boards
    secret_pins bigint not null default 0   -- created on SECRET boards (their own)
);
create table board_counts (
    board_id bigint primary key references boards (id) on delete cascade,
    pins     bigint not null default 0
);
create table pin_counts (
    pin_id       bigint primary key references pins (id) on delete cascade,
    comments     bigint not null default 0,
    public_saves bigint not null default 0  -- repins onto PUBLIC boards
);
create table pin_totals (
    stripe      smallint primary key check (stripe between 0 and 15),
    public_pins bigint not null default 0
);
insert into pin_totals (stripe) select generate_series(0, 15);

-- Pin.saveCount's own part: the viewer's repins of a pin (by creator, then pin saved).
create index pins_creator_id_saved_from_id on pins (creator_id, saved_from_id)
    where saved_from_id is not null;

create function counters_deferred() returns boolean language sql stable as $$
    select coalesce(current_setting('pinql.defer_counters', true), '') = 'on'
$$;

-- Adds `delta` (1 or -1) to every count one pin takes part in.
create function count_pin(board bigint, creator bigint, saved_from bigint, pin bigint, delta int)
returns void language plpgsql as $$
declare
    owner bigint;
    privacy board_privacy;
begin
    -- Share-locked before any counter: a privacy change of the board (an UPDATE, which
    -- moves its pins between public and secret) then commits wholly before this pin is
    -- counted, or waits until this transaction ends. (KEY SHARE, an insert's foreign-key
    -- lock, would not keep an UPDATE out.)
    select b.owner_id, b.privacy into owner, privacy from boards b where b.id = board
    for share;
    if not found then
        return;  -- the board is gone: so are its counters
    end if;
    if delta > 0 and owner <> creator then
        raise exception 'pin % has creator %, but its board % is owned by %',
            pin, creator, board, owner using errcode = 'check_violation';
    end if;
    if privacy = 'PUBLIC' then
        update user_counts set public_pins = public_pins + delta where user_id = creator;
    else
        update user_counts set secret_pins = secret_pins + delta where user_id = creator;
    end if;
    update board_counts set pins = pins + delta where board_id = board;
    if privacy = 'PUBLIC' then
        if saved_from is not null then
            update pin_counts set public_saves = public_saves + delta where pin_id = saved_from;
        end if;
        update pin_totals set public_pins = public_pins + delta where stripe = pin % 16;
    end if;
end
$$;

create function users_counted() returns trigger language plpgsql as $$
begin
    insert into user_counts (user_id) values (new.id);
    return null;
end
$$;
create trigger users_counted after insert on users
    for each row when (not counters_deferred()) execute function users_counted();

create function boards_counted() returns trigger language plpgsql as $$
declare
    moved bigint;
    sign int;
begin
    if tg_op = 'INSERT' then
        insert into board_counts (board_id) values (new.id);
        return null;
    end if;
    if tg_op = 'DELETE' then
        -- Before the board goes, so that each pin's counts see the board it leaves.
        delete from pins where board_id = old.id;
        return old;
    end if;
    -- A privacy change: the board's pins move between the public and secret counts (no pin
    -- of it is being counted meanwhile: count_pin share-locks the board).
    sign := case when new.privacy = 'PUBLIC' then 1 else -1 end;
    select count(*) into moved from pins where board_id = new.id;
    update user_counts
    set public_pins = public_pins + sign * moved, secret_pins = secret_pins - sign * moved
    where user_id = new.owner_id;
    perform 1 from pin_counts
    where pin_id in (select saved_from_id from pins where board_id = new.id)
    order by pin_id for no key update;
    update pin_counts c set public_saves = public_saves + sign * s.n
    from (
        select saved_from_id, count(*) as n from pins
        where board_id = new.id and saved_from_id is not null group by saved_from_id
    ) s
    where c.pin_id = s.saved_from_id;
    update pin_totals set public_pins = public_pins + sign * moved where stripe = new.id % 16;
    return null;
end
$$;
create trigger boards_counted after insert on boards
    for each row when (not counters_deferred()) execute function boards_counted();
create trigger boards_deleting before delete on boards
    for each row when (not counters_deferred()) execute function boards_counted();
create trigger boards_privacy after update of privacy on boards
    for each row when (old.privacy is distinct from new.privacy and not counters_deferred())
    execute function boards_counted();

create function pins_counted() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into pin_counts (pin_id) values (new.id);
        perform count_pin(new.board_id, new.creator_id, new.saved_from_id, new.id, 1);
    elsif tg_op = 'DELETE' then
        perform count_pin(old.board_id, old.creator_id, old.saved_from_id, old.id, -1);
    else
        -- Out of the old counts, into the new: every row either side takes, locked first in
        -- the one order (the stripe, last in it, is the same row both times).
        perform 1 from boards where id in (old.board_id, new.board_id) order by id for share;
        perform 1 from user_counts where user_id in (old.creator_id, new.creator_id)
        order by user_id for no key update;
        perform 1 from board_counts where board_id in (old.board_id, new.board_id)
        order by board_id for no key update;
        perform 1 from pin_counts where pin_id in (old.saved_from_id, new.saved_from_id)
        order by pin_id for no key update;
        perform count_pin(old.board_id, old.creator_id, old.saved_from_id, old.id, -1);
        perform count_pin(new.board_id, new.creator_id, new.saved_from_id, new.id, 1);
    end if;
    return null;
end
$$;
create trigger pins_counted after insert or delete on pins
    for each row when (not counters_deferred()) execute function pins_counted();
create trigger pins_moved after update of board_id, creator_id, saved_from_id on pins
    for each row when (
        (old.board_id, old.creator_id, old.saved_from_id)
            is distinct from (new.board_id, new.creator_id, new.saved_from_id)
        and not counters_deferred()
    )
    execute function pins_counted();

-- TRUNCATE fires no row trigger: a truncated table's counts are emptied here (the counter
-- rows of truncated parents go by cascade).
create function truncated() returns trigger language plpgsql as $$
begin
    if tg_table_name = 'pins' then
        update pin_totals set public_pins = 0;
        update user_counts set public_pins = 0, secret_pins = 0;
        update board_counts set pins = 0;
    elsif tg_table_name = 'comments' then
        update pin_counts set comments = 0;
    elsif tg_table_name = 'follows' then
        update user_counts set followers = 0, following = 0;
    end if;
    return null;
end
$$;
create trigger pins_truncated after truncate on pins
    for each statement execute function truncated();
create trigger comments_truncated after truncate on comments
    for each statement execute function truncated();
create trigger follows_truncated after truncate on follows
    for each statement execute function truncated();

create function comments_counted() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        update pin_counts set comments = comments + 1 where pin_id = new.pin_id;
    else
        update pin_counts set comments = comments - 1 where pin_id = old.pin_id;
    end if;
    return null;
end
$$;
create trigger comments_counted after insert or delete on comments
    for each row when (not counters_deferred()) execute function comments_counted();

create function follows_counted() returns trigger language plpgsql as $$
declare
    f bigint := coalesce(new.follower_id, old.follower_id);
    e bigint := coalesce(new.followee_id, old.followee_id);
    delta int := case when tg_op = 'INSERT' then 1 else -1 end;
begin
    -- Both rows locked in id order: A following B while B follows A cannot deadlock.
    perform 1 from user_counts where user_id in (f, e) order by user_id for no key update;
    update user_counts set following = following + delta where user_id = f;
    update user_counts set followers = followers + delta where user_id = e;
    return null;
end
$$;
create trigger follows_counted after insert or delete on follows
    for each row when (not counters_deferred()) execute function follows_counted();

-- The counts of the rows already there.
insert into user_counts (user_id, followers, following, public_pins, secret_pins)
select u.id,
    (select count(*) from follows f where f.followee_id = u.id),
    (select count(*) from follows f where f.follower_id = u.id),
    (select count(*) from pins p join boards b on b.id = p.board_id
     where p.creator_id = u.id and b.privacy = 'PUBLIC'),
    (select count(*) from pins p join boards b on b.id = p.board_id
     where p.creator_id = u.id and b.privacy = 'SECRET')
from users u;
insert into board_counts (board_id, pins)
select b.id, (select count(*) from pins p where p.board_id = b.id) from boards b;
insert into pin_counts (pin_id, comments, public_saves)
select p.id,
    (select count(*) from comments c where c.pin_id = p.id),
    (select count(*) from pins s join boards b on b.id = s.board_id
     where s.saved_from_id = p.id and b.privacy = 'PUBLIC')
from pins p;
update pin_totals t set public_pins = (
    select count(*) from pins p join boards b on b.id = p.board_id
    where b.privacy = 'PUBLIC' and p.id % 16 = t.stripe
);

-- migrate:down
drop trigger follows_counted on follows;
drop trigger comments_counted on comments;
drop trigger follows_truncated on follows;
drop trigger comments_truncated on comments;
drop trigger pins_truncated on pins;
drop trigger pins_moved on pins;
drop trigger pins_counted on pins;
drop trigger boards_privacy on boards;
drop trigger boards_deleting on boards;
drop trigger boards_counted on boards;
drop trigger users_counted on users;
drop function follows_counted();
drop function comments_counted();
drop function truncated();
drop function pins_counted();
drop function boards_counted();
drop function users_counted();
drop function count_pin(bigint, bigint, bigint, bigint, int);
drop function counters_deferred();
drop index pins_creator_id_saved_from_id;
drop table pin_totals;
drop table pin_counts;
drop table board_counts;
drop table user_counts;
