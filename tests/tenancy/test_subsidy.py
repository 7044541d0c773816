"""Rent subsidy by the county's tiers (rules as data): each tier's boundary belongs to the
next tier, 低保/特困 pay their fixed share whatever their income, the subsidy never exceeds the
rent and is in fen; and a bill's prorated amounts keep the subsidy within the rent."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenancy.models import default_subsidy_tiers
from tenancy.subsidy import FEN, TierError, monthly_subsidy

rents = st.decimals(min_value="1.00", max_value="9999.99", places=2)
incomes = st.decimals(min_value="0.00", max_value="20000.00", places=2)
shares = st.decimals(min_value="0.00", max_value="1.00", places=2)
bounds = st.decimals(min_value="0.01", max_value="10000.00", places=2)


def off(rent: Decimal, share: str) -> Decimal:
    return (rent * Decimal(share)).quantize(FEN, ROUND_HALF_UP)


@given(rent=rents)
def test_the_demo_tiers_at_their_boundaries(rent):
    tiers = default_subsidy_tiers()  # 低保 pay 10 %; below 1000 a head 60 % off; below 1800 30 %
    just_below = Decimal("999.99")
    assert monthly_subsidy(rent, priorities=[], income_per_head=just_below, tiers=tiers) == off(
        rent, "0.60"
    )
    assert monthly_subsidy(
        rent, priorities=[], income_per_head=Decimal("1000"), tiers=tiers
    ) == off(rent, "0.30")
    assert monthly_subsidy(
        rent, priorities=[], income_per_head=Decimal("1799.99"), tiers=tiers
    ) == off(rent, "0.30")
    assert monthly_subsidy(
        rent, priorities=[], income_per_head=Decimal("1800"), tiers=tiers
    ) == Decimal("0.00")
    # 低保/特困 pay a fixed share, whatever the income (and with none on record).
    for income in (None, Decimal("0"), Decimal("5000")):
        subsidy = monthly_subsidy(rent, priorities=["dibao"], income_per_head=income, tiers=tiers)
        assert subsidy == off(rent, "0.90")


@given(rent=rents, bound=bounds, share=shares, below=st.decimals("0.01", "500.00", places=2))
def test_any_income_tier_includes_incomes_below_its_bound_only(rent, bound, share, below):
    tiers = [{"income_per_head_below": str(bound), "subsidy_share": str(share)}]
    at_bound = monthly_subsidy(rent, priorities=[], income_per_head=bound, tiers=tiers)
    under = monthly_subsidy(rent, priorities=[], income_per_head=bound - below, tiers=tiers)
    assert at_bound == Decimal("0.00")
    assert under == off(rent, str(share))


@given(
    rent=rents,
    income=st.one_of(st.none(), incomes),
    priorities=st.lists(st.sampled_from(["dibao", "disability", "elderly"]), unique=True),
    first=shares,
    second=shares,
    tenant_share=shares,
)
def test_the_subsidy_is_in_fen_and_never_above_the_rent(
    rent, income, priorities, first, second, tenant_share
):
    tiers = [
        {"priority": "disability", "tenant_share": str(tenant_share)},
        {"income_per_head_below": "1200", "subsidy_share": str(first)},
        {"income_per_head_below": "2400", "subsidy_share": str(second)},
    ]
    subsidy = monthly_subsidy(rent, priorities=priorities, income_per_head=income, tiers=tiers)
    assert Decimal("0.00") <= subsidy <= rent
    assert subsidy == subsidy.quantize(FEN)


@given(rent=rents, low=incomes, high=incomes)
def test_a_lower_income_never_gets_less_under_falling_shares(rent, low, high):
    low, high = min(low, high), max(low, high)
    tiers = default_subsidy_tiers()[1:]  # the income tiers, their shares falling as incomes rise
    assert monthly_subsidy(rent, priorities=[], income_per_head=low, tiers=tiers) >= (
        monthly_subsidy(rent, priorities=[], income_per_head=high, tiers=tiers)
    )


@given(
    rent=rents,
    share=shares,
    days=st.integers(min_value=1, max_value=31),
    month_days=st.integers(min_value=28, max_value=31),
)
def test_a_prorated_bill_keeps_its_subsidy_within_its_rent(rent, share, days, month_days):
    """The same rounding as the billing statement's (PostgreSQL's round() is half away from
    zero, half up for these positive amounts): the tenant never owes a negative amount."""
    days = min(days, month_days)
    subsidy = off(rent, str(share))
    part_rent = (rent * days / month_days).quantize(FEN, ROUND_HALF_UP)
    part_subsidy = (subsidy * days / month_days).quantize(FEN, ROUND_HALF_UP)
    assert Decimal("0.00") <= part_subsidy <= part_rent
    if days == month_days:
        assert (part_rent, part_subsidy) == (rent, subsidy)


@pytest.mark.parametrize(
    ("tier", "message"),
    [
        ({"income_per_head_below": "abc", "subsidy_share": "0.5"}, "收入上限不是数字"),
        ({"income_per_head_below": "1000", "subsidy_share": "1.5"}, "须在 0 到 1 之间"),
        ({"priority": "dibao", "tenant_share": "x"}, "不是数字"),
        ({"share": "0.5"}, "须有 priority 或 income_per_head_below"),
    ],
)
def test_a_tier_that_cannot_be_read_is_named(tier, message):
    with pytest.raises(TierError, match=message):
        monthly_subsidy(
            Decimal("500"), priorities=["dibao"], income_per_head=Decimal("10"), tiers=[tier]
        )
