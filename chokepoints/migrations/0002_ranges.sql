-- 0002: providers' published IP ranges, every dated version kept, and which versions each
-- snapshot was attributed with. Loaded by `chokepoints data ranges` (crawler/ranges/store.py),
-- matched by crawler/ranges/match.py.

create sequence if not exists range_feed_id_seq start 1;

-- One version of one feed: a file (or an ipv4/ipv6 pair) as published on a date.
-- Loading the same content again adds nothing: unique on (feed, sha256).
create table range_feeds (
    feed_id    integer primary key default nextval('range_feed_id_seq'),
    provider   varchar not null,     -- registry provider id (the network provider: aws, google, ...)
    feed       varchar not null,     -- aws-ip-ranges, gcp-cloud, azure-service-tags, ..., cidr:<name>
    format     varchar not null,     -- the parser: aws | gcp | azure | oracle | geofeed | cidr | fastly | normalised
    published  date not null,        -- from the content where it carries one, else the file name
    version    varchar,              -- the feed's own marker: AWS/GCP syncToken, Azure changeNumber
    source     varchar not null,     -- the path(s) or URL(s) it was read from
    sha256     varchar not null,     -- of the file bytes (of each file in order, for a pair)
    loaded_at  timestamp not null,
    prefixes   integer not null,     -- rows in ip_ranges (a prefix published per service counts per service)
    unique (feed, sha256)
);

-- One row per published (prefix, region, service) of a version. AWS lists many prefixes once
-- as AMAZON and again under their service: both rows are kept, the matcher chooses.
create table ip_ranges (
    feed_id    integer not null,
    provider   varchar not null,
    prefix     varchar not null,     -- canonical CIDR
    family     tinyint not null,     -- 4 | 6
    prefix_len smallint not null,
    start_num  uhugeint not null,    -- first address as an integer
    end_num    uhugeint not null,    -- last address as an integer
    region     varchar,
    service    varchar
);

-- The range-feed versions a snapshot's addresses were matched against.
create table snapshot_feeds (
    snapshot_id integer not null,
    feed_id     integer not null
);

-- The most specific published prefix holding each address of a snapshot (across the
-- snapshot's feeds); addresses in no published range have no row.
create table ip_range_matches (
    snapshot_id integer not null,
    ip          varchar not null,
    feed_id     integer not null,
    provider    varchar not null,
    prefix      varchar not null,
    prefix_len  smallint not null,
    region      varchar,
    service     varchar
);
