-- Each site's distinct providers per layer, with how many providers it has there.
create or replace view v_site_providers as
with dep as (
    select distinct snapshot_id, domain, layer, provider, private
    from dependencies
)
select
    dep.*,
    count(*) over (partition by snapshot_id, domain, layer) as n_providers
from dep;
