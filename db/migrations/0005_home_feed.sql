-- The home feed, fanned out on write: each new pin is written into the feed of every follower
-- of its creator (`feed_items`), so reading a feed page is one index range of the viewer's
-- own rows, whatever the number of users they follow. A creator with very many followers is
-- "pulled" instead (`user_counts.pulled`, set once their followers reach
-- feed_fan_out_limit() and kept): their pins are not fanned out, and a feed read merges the
-- newest pins of the pulled users the viewer follows.
--
-- `feed_items` only ever says which pins may be in a feed: a read joins each row to the pin,
-- its board's privacy and the follow, so a deleted pin, a pin moved onto a secret board or
-- an unfollow leaves the feed at once, whatever the rows say. The triggers below keep the
-- rows complete (a new pin, a new follow) and drop what can no longer show (an unfollow, a
-- deleted pin). Like the counters (0004), they skip a session that defers counters; the
-- seeder then rebuilds the feeds (db/feeds.py).

-- migrate:up
create table feed_items (
    user_id bigint not null references users (id) on delete cascade,
    pin_id  bigint not null,
    primary key (user_id, pin_id)
);

alter table user_counts add column pulled boolean not null default false;
create index user_counts_pulled on user_counts (user_id) where pulled;

-- The most followers a creator's pins are fanned out to: past it, a new pin would write more
-- feed rows than a request should, and the creator is pulled at read time instead.
create function feed_fan_out_limit() returns bigint language sql immutable as $$
    select 10000::bigint
$$;

create function pins_fanned_out() returns trigger language plpgsql as $$
declare
    creator bigint := case when tg_op = 'INSERT' then new.creator_id else old.creator_id end;
begin
    if exists (select 1 from user_counts where user_id = creator and pulled) then
        return null;
    end if;
    if tg_op = 'INSERT' then
        insert into feed_items (user_id, pin_id)
        select f.follower_id, new.id from follows f where f.followee_id = new.creator_id
        on conflict do nothing;
    else
        delete from feed_items i using follows f
        where f.followee_id = old.creator_id and i.user_id = f.follower_id and i.pin_id = old.id;
    end if;
    return null;
end
$$;
create trigger pins_fanned_out after insert or delete on pins
    for each row when (not counters_deferred()) execute function pins_fanned_out();

create function follows_fanned_out() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        update user_counts set pulled = true
        where user_id = new.followee_id and not pulled and followers >= feed_fan_out_limit();
        insert into feed_items (user_id, pin_id)
        select new.follower_id, p.id from pins p
        where p.creator_id = new.followee_id
          and not exists (select 1 from user_counts c where c.user_id = p.creator_id and c.pulled)
        on conflict do nothing;
    else
        delete from feed_items i using pins p
        where i.user_id = old.follower_id and i.pin_id = p.id and p.creator_id = old.followee_id;
    end if;
    return null;
end
$$;
-- After follows_counted (triggers fire in name order): the follower count includes this one.
create trigger follows_fanned_out after insert or delete on follows
    for each row when (not counters_deferred()) execute function follows_fanned_out();

-- The feeds of the rows already there.
update user_counts set pulled = true where followers >= feed_fan_out_limit();
insert into feed_items (user_id, pin_id)
select f.follower_id, p.id
from follows f join pins p on p.creator_id = f.followee_id
join user_counts c on c.user_id = f.followee_id and not c.pulled;

-- migrate:down
drop trigger follows_fanned_out on follows;
drop trigger pins_fanned_out on pins;
drop function follows_fanned_out();
drop function pins_fanned_out();
drop function feed_fan_out_limit();
drop index user_counts_pulled;
alter table user_counts drop column pulled;
drop table feed_items;
