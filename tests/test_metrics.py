"""Property tests for the concentration metrics (DESIGN.md definitions)."""

from __future__ import annotations

import itertools
import math

from hypothesis import given
from hypothesis import strategies as st

from analysis import metrics

counts = st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=60)


def shares(xs: list[int]) -> list[float]:
    return metrics.normalise(xs)


def test_hhi_of_one_provider_is_10000() -> None:
    assert metrics.hhi([1.0]) == 10_000


@given(st.integers(min_value=1, max_value=500))
def test_hhi_of_n_equal_providers(n: int) -> None:
    assert math.isclose(metrics.hhi(shares([7] * n)), 10_000 / n, rel_tol=1e-9)


@given(counts, st.randoms())
def test_hhi_invariant_under_permutation(xs: list[int], rnd) -> None:  # type: ignore[no-untyped-def]
    ys = list(xs)
    rnd.shuffle(ys)
    assert math.isclose(metrics.hhi(shares(xs)), metrics.hhi(shares(ys)), rel_tol=1e-9)


@given(counts, st.integers(min_value=2, max_value=1000))
def test_hhi_invariant_under_scaling(xs: list[int], k: int) -> None:
    assert math.isclose(metrics.hhi(shares(xs)), metrics.hhi(shares([x * k for x in xs])), rel_tol=1e-9)


@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=2, max_size=60), st.data())
def test_hhi_never_lower_after_a_merge(xs: list[int], data) -> None:  # type: ignore[no-untyped-def]
    i = data.draw(st.integers(min_value=0, max_value=len(xs) - 2))
    merged = [*xs[:i], xs[i] + xs[i + 1], *xs[i + 2:]]
    assert metrics.hhi(shares(merged)) >= metrics.hhi(shares(xs)) - 1e-9


@given(counts)
def test_cr_grows_with_k_and_ends_at_one(xs: list[int]) -> None:
    s = shares(xs)
    crs = [metrics.cr(s, k) for k in range(1, len(s) + 1)]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(crs))
    assert math.isclose(crs[-1], 1.0, rel_tol=1e-9)


@given(counts)
def test_nakamoto_is_the_fewest_providers_past_half(xs: list[int]) -> None:
    s = shares(xs)
    k = metrics.nakamoto(s)
    assert metrics.cr(s, k) > 0.5 - 1e-12
    assert k == 1 or metrics.cr(s, k - 1) <= 0.5 + 1e-12


@given(counts)
def test_gini_and_entropy_bounds(xs: list[int]) -> None:
    s = shares(xs)
    assert -1e-9 <= metrics.gini(s) < 1.0
    assert 0.0 <= metrics.entropy(s, normalised=True) <= 1.0 + 1e-9


def test_shares_follow_the_definitions() -> None:
    sp = {"a.com": {"aws"}, "b.com": {"aws", "cloudflare"}, "c.com": {"cloudflare"}, "d.com": set()}
    assert metrics.market_shares(sp) == {"aws": 0.5, "cloudflare": 0.5}
    assert metrics.dependence_shares(sp, 4) == {"aws": 0.5, "cloudflare": 0.5}
    assert metrics.critical_shares(sp, 4) == {"aws": 0.25, "cloudflare": 0.25}
    w = {"a.com": 1.0, "b.com": 0.5, "c.com": 1 / 3, "d.com": 0.25}
    ms = metrics.market_shares(sp, w)
    assert math.isclose(ms["aws"], 1.25 / (1 + 0.5 + 1 / 3))


site_sets = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=4),
    st.frozensets(st.sampled_from(["p1", "p2", "p3", "p4"]), max_size=3),
    min_size=1, max_size=30,
)


@given(site_sets)
def test_dependence_is_critical_plus_redundant(sp: dict[str, frozenset[str]]) -> None:
    total = float(len(sp))
    dep = metrics.dependence_shares(sp, total)
    crit = metrics.critical_shares(sp, total)
    red = metrics.redundant_shares(sp, total)
    for p, d in dep.items():
        assert math.isclose(d, crit.get(p, 0.0) + red.get(p, 0.0), rel_tol=1e-9, abs_tol=1e-12)
    # Each site on one provider alone counts once, in that provider's critical share.
    assert math.isclose(sum(crit.values()), sum(1 for ps in sp.values() if len(ps) == 1) / total, abs_tol=1e-12)
    shares = metrics.market_shares(sp)
    attributed = sum(1 for ps in sp.values() if ps)
    assert not attributed or math.isclose(sum(shares.values()), 1.0, rel_tol=1e-9)
