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


def place_scope(user: AbstractBaseUser, prefix: str = "", county: str = "district") -> Q:
    """Rows placed by county/street/community fields inside the user's region subtree; all for
    superusers, nothing for a profile without a region. `county` names the county field."""
    if user.is_authenticated and user.is_superuser:
        return Q()
    profile = profile_of(user)
    if profile is None or profile.region is None:
        return Q(**{f"{prefix}pk__in": []})
    region = profile.region
    field = {
        Region.Level.CITY: f"{county}__parent_id",
        Region.Level.DISTRICT: f"{county}_id",
        Region.Level.STREET: "street_id",
        Region.Level.COMMUNITY: "community_id",
    }[region.level]
    return Q(**{f"{prefix}{field}": region.pk})


def estate_scope(user: AbstractBaseUser, prefix: str = "") -> Q:
    """Estates in the user's region subtree, or of the user's operator; all for superusers."""
    profile = profile_of(user)
    if profile is not None and profile.operator_id and not user.is_superuser:
        return Q(**{f"{prefix}operator_id": profile.operator_id})
    return place_scope(user, prefix)


def application_scope(user: AbstractBaseUser, prefix: str = "") -> Q:
    """Applications (or rows reached through `prefix`) in the user's region subtree; operators
    review none."""
    return place_scope(user, prefix, county="county")


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
