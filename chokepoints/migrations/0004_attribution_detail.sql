-- 0004: attribution detail — the service and region a published range gives, provider parents,
-- and the AS names a snapshot was attributed with (so re-attribution needs no outside file).

alter table dependencies add column service varchar;   -- e.g. CLOUDFRONT, EC2 (from a published range)
alter table dependencies add column region varchar;    -- e.g. us-east-1 (from a published range)
alter table providers add column parent varchar;       -- the provider this service belongs to (registry)

create table as_names (
    snapshot_id integer not null,
    asn         integer not null,
    name        varchar not null,
    source      varchar            -- the AS-names file (or RDAP) the name came from
);

alter table snapshots add column as_names_source varchar;
alter table snapshots add column as_names_sha256 varchar;
