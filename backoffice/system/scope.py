"""Who may administer whom: an account administrator (StaffProfile.is_admin) manages accounts
inside their own region subtree, at or below their own level, and grants nothing above it.

Operators' accounts belong to the area of the operator's estates: a city or county
administrator manages the accounts of operators with an estate in their area (an operator
running estates in two counties is managed by either county and by the city). Streets and
communities manage no operator accounts, and an operator account is never an administrator.
Superusers' accounts are kept in /admin/ only.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from backoffice.models import StaffProfile
from geo.jurisdiction import NOTHING, profile_of
from geo.models import Operator, Region

Role = StaffProfile.Role
# Lower rank = higher level; operators sit beside the street level, granted by counties up.
RANK = {Role.CITY: 0, Role.DISTRICT: 1, Role.STREET: 2, Role.COMMUNITY: 3, Role.OPERATOR: 2}
OPERATOR_GRANTORS = {Role.CITY, Role.DISTRICT}


def subtree(region: Region, prefix: str = "") -> Q:
    """The region and every region below it (the tree is at most four levels deep)."""
    return (
        Q(**{f"{prefix}pk": region.pk})
        | Q(**{f"{prefix}parent_id": region.pk})
        | Q(**{f"{prefix}parent__parent_id": region.pk})
        | Q(**{f"{prefix}parent__parent__parent_id": region.pk})
    )


def is_admin(user: AbstractBaseUser) -> bool:
    """Superusers, and staff of a region marked 账号管理员."""
    if user.is_authenticated and user.is_superuser:
        return True
    profile = profile_of(user)
    return bool(profile and profile.is_admin and profile.region_id)


def operators_in_area(user: AbstractBaseUser) -> QuerySet[Operator]:
    """Operators whose accounts the user may manage (and grant)."""
    if user.is_superuser:
        return Operator.objects.all()
    profile = profile_of(user)
    if profile is None or profile.role not in OPERATOR_GRANTORS or profile.region is None:
        return Operator.objects.none()
    if profile.role == Role.CITY:
        estates = Q(estates__district__parent_id=profile.region_id)
    else:
        estates = Q(estates__district_id=profile.region_id)
    return Operator.objects.filter(pk__in=Operator.objects.filter(estates).values("pk"))


def account_scope(user: AbstractBaseUser) -> Q:
    """Staff profiles the user may look up: the region subtree and its operators (an operator's
    staff see their own operator's accounts, read only); never a superuser's account."""
    if not user.is_authenticated:
        return NOTHING
    not_root = Q(user__is_superuser=False)
    if user.is_superuser:
        return not_root
    profile = profile_of(user)
    if profile is None:
        return NOTHING
    if profile.region is None:
        return not_root & Q(operator_id=profile.operator_id)
    operators = operators_in_area(user)
    mine = subtree(profile.region, "region__") | Q(
        role=Role.OPERATOR, operator__in=operators.values("pk")
    )
    return not_root & mine


def grantable_roles(user: AbstractBaseUser) -> list[tuple[str, str]]:
    """Roles at or below the user's own level (operators from counties up)."""
    if user.is_superuser:
        return list(Role.choices)
    profile = profile_of(user)
    if profile is None or profile.region is None:
        return []
    own = RANK[profile.role]
    return [
        (value, label)
        for value, label in Role.choices
        if RANK[value] >= own and (value != Role.OPERATOR or profile.role in OPERATOR_GRANTORS)
    ]


def grantable_regions(user: AbstractBaseUser) -> QuerySet[Region]:
    """Regions inside the user's area: what an account may be given."""
    regions = Region.objects.order_by("adcode")
    if user.is_superuser:
        return regions
    profile = profile_of(user)
    if profile is None or profile.region is None:
        return Region.objects.none()
    return regions.filter(subtree(profile.region))


def counties_in_area(user: AbstractBaseUser) -> QuerySet[Region]:
    """Counties whose rules the user may change: their own, or every county of their city."""
    counties = Region.objects.filter(level=Region.Level.DISTRICT).order_by("adcode")
    if user.is_superuser:
        return counties
    profile = profile_of(user)
    if profile is None or profile.region is None:
        return Region.objects.none()
    return counties.filter(subtree(profile.region))
