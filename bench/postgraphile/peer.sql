-- The SQL objects the peer (PostGraphile, bench/postgraphile/) needs beside pinql's schema: a
-- schema of its own, which PostGraphile serves with `public`. The harness runs this file in one
-- transaction before serving the peer: it drops and recreates the schema, so running it again
-- leaves the same objects. Nothing here touches `public`.

drop schema if exists postgraphile_peer cascade;
create schema postgraphile_peer;

-- HomeFeed as a custom query (`homeFeed`): the viewer's feed, newest first, read as pinql's
-- feed statement reads it (loaders/pins.py, HomeFeedLoader): the viewer's fanned-out rows
-- (feed_items, migration 0005) merged with the newest pins of the pulled users they follow,
-- each row checked against the follow and the board's visibility (a feed holds the pins of
-- followed users the viewer may see: without the check it would hold other pins). Returns at
-- most `page_size` + 1 pins older than `before_id`: one past the page, so that the
-- connection's `hasNextPage` holds. SQL, stable, not strict: PostgreSQL may inline it.
create function postgraphile_peer.home_feed(
    viewer_id bigint, page_size int, before_id bigint default null
) returns setof public.pins language sql stable as $$
    select u.* from (
        (select p.* from public.feed_items i
         join public.pins p on p.id = i.pin_id join public.boards b on b.id = p.board_id
         where i.user_id = viewer_id
           and i.pin_id < coalesce(before_id, 9223372036854775807)
           and (b.privacy = 'PUBLIC' or b.owner_id = viewer_id)
           and coalesce((select true from public.follows f
                         where f.follower_id = viewer_id and f.followee_id = p.creator_id), false)
         order by i.pin_id desc limit page_size + 1)
        union
        (select pulled.* from public.user_counts c
         cross join lateral (
            select p.* from public.pins p join public.boards b on b.id = p.board_id
            where p.creator_id = c.user_id
              and p.id < coalesce(before_id, 9223372036854775807)
              and (b.privacy = 'PUBLIC' or b.owner_id = viewer_id)
            order by p.id desc limit page_size + 1
         ) as pulled
         where c.pulled
           and coalesce((select true from public.follows f
                         where f.follower_id = viewer_id and f.followee_id = c.user_id), false))
    ) as u
    order by u.id desc limit page_size + 1
$$;
comment on function postgraphile_peer.home_feed(bigint, int, bigint) is
    'The viewer''s home feed, newest first: the page and one pin past it.';
