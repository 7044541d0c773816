"""系统管理's front page: what the signed-in staff member may administer, and where."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backoffice.models import StaffProfile
from backoffice.system import scope
from backoffice.system.calendar_services import is_city_admin
from backoffice.views import staff_required


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """Open to all staff: non-administrators learn who administers their account."""
    admin = scope.is_admin(request.user)
    return render(
        request,
        "staff/system/home.html",
        {
            "section": "home",
            "is_admin": admin,
            "accounts": (
                StaffProfile.objects.filter(scope.account_scope(request.user)).count()
                if admin
                else None
            ),
            "counties": list(scope.counties_in_area(request.user)) if admin else [],
            "is_city_admin": is_city_admin(request.user),
        },
    )
