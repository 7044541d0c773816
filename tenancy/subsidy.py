"""Rent subsidy by the county's tiers (TenancyPolicy.subsidy_tiers, data a city edits).

The first tier that applies wins, in the order the county lists them:
- {"priority": "dibao", "tenant_share": "0.10"}: a household in that priority group pays that
  share of the rent (the rest is subsidy);
- {"income_per_head_below": "1000", "subsidy_share": "0.60"}: a household whose monthly income
  per head is below the bound gets that share of the rent off.
No tier applies: no subsidy. Amounts round to the fen, half up, never above the rent.
"""

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


class TierError(ValueError):
    """A tier the county wrote cannot be read; the message names it."""


def _share(tier: dict, key: str, index: int) -> Decimal:
    try:
        share = Decimal(str(tier[key]))
    except Exception as exc:
        raise TierError(f"第 {index} 档补贴规则的“{key}”不是数字：{tier.get(key)!r}") from exc
    if not Decimal(0) <= share <= Decimal(1):
        raise TierError(f"第 {index} 档补贴规则的“{key}”须在 0 到 1 之间：{share}")
    return share


def monthly_subsidy(
    rent: Decimal, *, priorities: list[str], income_per_head: Decimal | None, tiers: list[dict]
) -> Decimal:
    """The subsidy off one month's rent for a household, by the first tier that applies."""
    for index, tier in enumerate(tiers, start=1):
        if "priority" in tier:
            if tier["priority"] in priorities:
                share = Decimal(1) - _share(tier, "tenant_share", index)
                return min(rent, (rent * share).quantize(FEN, ROUND_HALF_UP))
        elif "income_per_head_below" in tier:
            bound = _share_free(tier, index)
            if income_per_head is not None and income_per_head < bound:
                share = _share(tier, "subsidy_share", index)
                return min(rent, (rent * share).quantize(FEN, ROUND_HALF_UP))
        else:
            raise TierError(f"第 {index} 档补贴规则须有 priority 或 income_per_head_below。")
    return Decimal("0.00")


def _share_free(tier: dict, index: int) -> Decimal:
    try:
        return Decimal(str(tier["income_per_head_below"]))
    except Exception as exc:
        raise TierError(
            f"第 {index} 档补贴规则的收入上限不是数字：{tier.get('income_per_head_below')!r}"
        ) from exc
