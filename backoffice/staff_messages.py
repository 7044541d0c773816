"""站内信 for staff (/staff/messages/): the daily warning digest and anything else the system
tells a staff member; one's own messages only, marked read on request."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backoffice.views import staff_required
from insights.models import StaffMessage

PAGE = 30


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    mine = StaffMessage.objects.filter(recipient=request.user).order_by("-created_at", "-pk")
    page = Paginator(mine, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/messages/inbox.html",
        {"page": page, "unread": mine.filter(read_at__isnull=True).count()},
    )


@require_POST
@staff_required
def mark_read(request: HttpRequest) -> HttpResponse:
    n = StaffMessage.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    messages.success(request, _("已将 %(n)s 封站内信标为已读。") % {"n": n})
    return redirect("staff-messages")
