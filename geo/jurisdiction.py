"""What a staff member may see: one condition per model, used by every back-office query.

Outside it the answer is 404 (the object "does not exist" for that user), never 403. It lives
in geo, below every app that scopes by region or estate (the staff profile is read through the
user's `staff_profile` relation, so nothing here imports the back office).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from geo.models import Region

NOTHING = Q(pk__in=[])


def profile_of(user: AbstractBaseUser):
    return getattr(user, "staff_profile", None) if user.is_authenticated else None


def estate_scope(user: AbstractBaseUser, prefix: str = "") -> Q:
    """Estates in the user's region subtree, or of the user's operator; all for superusers."""
    if user.is_authenticated and user.is_superuser:
        return Q()
    profile = profile_of(user)
    if profile is None:
        return NOTHING
    if profile.operator_id:
        return Q(**{f"{prefix}operator_id": profile.operator_id})
    region = profile.region
    field = {
        Region.Level.CITY: "district__parent_id",
        Region.Level.DISTRICT: "district_id",
        Region.Level.STREET: "street_id",
        Region.Level.COMMUNITY: "community_id",
    }[region.level]
    return Q(**{f"{prefix}{field}": region.pk})


def region_scope(user: AbstractBaseUser) -> Q:
    """Regions inside the user's jurisdiction (for choosing where an estate lies)."""
    if user.is_authenticated and user.is_superuser:
        return Q()
    profile = profile_of(user)
    if profile is None or profile.region is None:
        return NOTHING
    region = profile.region
    return (
        Q(pk=region.pk)
        | Q(parent_id=region.pk)
        | Q(parent__parent_id=region.pk)
        | Q(parent__parent__parent_id=region.pk)
    )


def may(user: AbstractBaseUser, what: str) -> bool:
    """Whether the user's role allows an action (`can_edit_stock`, `can_publish`)."""
    if user.is_authenticated and user.is_superuser:
        return True
    profile = profile_of(user)
    return bool(profile and getattr(profile, what))
