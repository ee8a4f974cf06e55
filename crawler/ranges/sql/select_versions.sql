-- The stored version of every feed nearest a date.
-- Parameters: $when (date).
-- Per feed, the version with the smallest |published - $when|; a tie between one published
-- before and one after goes to the earlier (what was known on the day over what came later);
-- versions published the same day, to the one loaded last.
with distance as (
    select feed_id, feed, published,
           abs(date_diff('day', $when::date, published)) as days
    from range_feeds
)
select feed_id
from distance
qualify row_number() over (partition by feed order by days, published, feed_id desc) = 1
order by feed_id
