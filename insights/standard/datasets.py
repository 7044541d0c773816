"""Where each standard table's rows come from: the model, which rows belong, who may see them
(geo.jurisdiction's conditions), the county a row counts under and the staff page that fixes
it. This is code, not data: a city edits the fields in mapping.json, never the scoping."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Q, QuerySet

from geo.jurisdiction import estate_scope, place_scope, profile_of
from geo.models import Estate, Region, Unit
from housing.models import Application, EligibilityRule, Household, HouseholdMember
from tenancy.models import Bill, Contract, Exit


def _rule_scope(user: AbstractBaseUser) -> Q:
    """A county's rules are visible to every staff member working in that county."""
    if user.is_authenticated and user.is_superuser:
        return Q()
    profile = profile_of(user)
    if profile is None:
        return Q(pk__in=[])
    if profile.operator_id:
        return Q(
            county__in=Estate.objects.filter(operator_id=profile.operator_id).values("district")
        )
    region = profile.region
    if region is None:
        return Q(pk__in=[])
    return {
        Region.Level.CITY: Q(county__parent_id=region.pk),
        Region.Level.DISTRICT: Q(county_id=region.pk),
        Region.Level.STREET: Q(county_id=region.parent_id),
        Region.Level.COMMUNITY: Q(
            county_id__in=Region.objects.filter(pk=region.parent_id).values("parent_id")
        ),
    }[region.level]


@dataclass(frozen=True)
class Dataset:
    model: type[Model]
    scope: Callable[[AbstractBaseUser], Q]
    county: str  # the lookup of the county (Region) a row counts under
    label: tuple[str, ...]  # lookups naming the record for people
    link: str = ""  # the staff page (URL name) where a fault is fixed; "" for none
    link_id: str = "pk"
    belongs: Q = field(default_factory=Q)  # which rows are exported at all
    fix_hint: str = ""  # where to fix it when there is no page

    def rows(self, user: AbstractBaseUser | None = None, county: int | None = None) -> QuerySet:
        """This dataset's rows, within the user's jurisdiction (everything without a user)."""
        qs = self.model._default_manager.filter(self.belongs)
        if user is not None:
            qs = qs.filter(self.scope(user))
        if county:
            qs = qs.filter(**{f"{self.county}_id": county})
        return qs.order_by("pk")


_UNIT_ESTATE = "building__estate__"
_CONTRACT_ESTATE = "unit__building__estate__"
_BILL_ESTATE = "contract__unit__building__estate__"
EXPORTED_CONTRACTS = Q(status__in=["signed", "active", "ended"])

DATASETS: dict[str, Dataset] = {
    "eligibility_rules": Dataset(
        EligibilityRule,
        _rule_scope,
        "county",
        ("county__name", "criterion"),
        fix_hint="data/eligibility-rules.json（manage.py load_rules）",
    ),
    "applications": Dataset(
        Application,
        lambda user: place_scope(user, county="county"),
        "county",
        ("number", "name"),
        link="review-detail",
        belongs=~Q(stage="draft"),
    ),
    "households": Dataset(
        Household,
        lambda user: place_scope(user, county="county"),
        "county",
        ("public_key", "head_name"),
        link="review-detail",
    ),
    "household_members": Dataset(
        HouseholdMember,
        lambda user: place_scope(user, "household__", county="county"),
        "household__county",
        ("household__public_key", "name"),
        link="review-detail",
        link_id="household_id",
    ),
    "estates": Dataset(
        Estate, lambda user: estate_scope(user), "district", ("name",), link="asset-estate"
    ),
    "units": Dataset(
        Unit,
        lambda user: estate_scope(user, _UNIT_ESTATE),
        _UNIT_ESTATE + "district",
        (_UNIT_ESTATE + "name", "building__number", "number"),
        link="asset-unit",
    ),
    "contracts": Dataset(
        Contract,
        lambda user: estate_scope(user, _CONTRACT_ESTATE),
        _CONTRACT_ESTATE + "district",
        ("number",),
        link="contract-detail",
        belongs=EXPORTED_CONTRACTS,
    ),
    "bills": Dataset(
        Bill,
        lambda user: estate_scope(user, _BILL_ESTATE),
        _BILL_ESTATE + "district",
        ("reference",),
        link="rent-bill",
    ),
    "subsidies": Dataset(
        Bill,
        lambda user: estate_scope(user, _BILL_ESTATE),
        _BILL_ESTATE + "district",
        ("reference",),
        link="rent-bill",
        belongs=Q(subsidy__gt=0),
    ),
    "exits": Dataset(
        Exit,
        lambda user: estate_scope(user, _BILL_ESTATE),
        _BILL_ESTATE + "district",
        ("contract__number", "reason"),
        link="exit",
        belongs=~Q(status="withdrawn"),
    ),
}


def resolve(model: type[Model], lookup: str):
    """The model field a `a__b__c` lookup ends on; LookupError says which part is wrong."""
    parts = lookup.split("__")
    field = None
    for i, part in enumerate(parts):
        try:
            field = model._meta.get_field("id" if part == "pk" else part)
        except FieldDoesNotExist as exc:
            raise LookupError(f"中的“{part}”不是 {model._meta.verbose_name} 的字段") from exc
        if i < len(parts) - 1:
            if not field.is_relation or field.related_model is None:
                raise LookupError(f"中的“{part}”不是关联字段，不能再取“{parts[i + 1]}”")
            model = field.related_model
    return field
