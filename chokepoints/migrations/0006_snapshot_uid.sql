-- 0006: a stable identity for each snapshot, so that an exported snapshot ingested into another
-- database (or the same one twice) is recognised: `chokepoints ingest` skips a uid it already has.
-- New snapshots get a uuid at creation (crawler/snapshot.py); old ones get one here.

alter table snapshots add column snapshot_uid varchar;
update snapshots set snapshot_uid = uuid()::varchar where snapshot_uid is null;
