"""Who may run allocation in a county: its housing department, the city's, or a superuser."""

from django.contrib.auth.models import AbstractBaseUser

from geo.models import Region


def may_allocate(user: AbstractBaseUser | None, county: Region) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    profile = getattr(user, "staff_profile", None)
    if profile is None or profile.region_id is None:
        return False
    if profile.role == "district":
        return profile.region_id == county.pk
    return profile.role == "city" and profile.region_id == county.parent_id
