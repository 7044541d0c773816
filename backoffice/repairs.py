"""运营管理 · 维修: the repair queue of the estates in the user's jurisdiction, a repair's page
with its photos and timeline, and the operator's steps (assign, schedule, close).

Operators work on site, so every page is usable on a phone. Reads go through
tenancy.services.repairs.repairs_for (estate_scope), so a repair outside it is a 404; the steps
are tenancy.services.repairs, which check the role and the status and write the archive events.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.services import record_access
from backoffice.exports import FORMATS, table_download
from backoffice.filters import parse_id, query_without, visible_estates
from backoffice.pending import Task
from backoffice.views import staff_required
from geo.jurisdiction import profile_of
from geo.models import Unit
from housing.errors import NotAllowed
from tenancy.models import Repair, RepairCategory, RepairPhoto
from tenancy.repair_selectors import is_overdue, overdue_q, timeline
from tenancy.repair_views import PhotosField, limits_text, photo_response, read_photos, too_big
from tenancy.services import repairs

PAGE = 30
OPEN = "open"
AWAITING = "awaiting"  # closed, the tenant has still to confirm
STATUS_CHOICES = [
    (OPEN, _("未完工")),
    *Repair.Status.choices,
    (AWAITING, _("待承租人确认")),
    ("all", _("全部")),
]
AWAITING_Q = Q(status=Repair.Status.CLOSED, tenant_confirms=True)


def _flagged(qs, now):
    return qs.annotate(late=ExpressionWrapper(overdue_q(now), output_field=BooleanField()))


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """Repairs to work through, filtered in the URL (status, overdue, estate, category, number);
    open ones most urgent first."""
    now = timezone.now()
    rows = _flagged(
        repairs.repairs_for(request.user).select_related(
            "category", "estate", "unit__building", "household"
        ),
        now,
    )
    status = request.GET.get("status", OPEN)
    if status == OPEN:
        rows = rows.filter(status__in=Repair.OPEN).order_by("complete_by", "pk")
    elif status == AWAITING:
        rows = rows.filter(AWAITING_Q).order_by("closed_at", "pk")
    elif status in Repair.Status.values:
        rows = rows.filter(status=status).order_by("-reported_at", "-pk")
    else:
        status = "all"
        rows = rows.order_by("-reported_at", "-pk")
    overdue = request.GET.get("overdue") == "1"
    if overdue:
        rows = rows.filter(overdue_q(now))
    estate = parse_id(request.GET.get("estate", ""))
    if estate:
        rows = rows.filter(estate_id=estate)
    categories = list(RepairCategory.objects.all())
    category = request.GET.get("category", "")
    if category in {c.code for c in categories}:
        rows = rows.filter(category__code=category)
    else:
        category = ""
    q = request.GET.get("q", "").strip()[:40]
    if q:
        rows = rows.filter(Q(number__icontains=q) | Q(household__head_name__contains=q))
    fmt = request.GET.get("format", "")
    if fmt in FORMATS:
        header = ["工单编号", "类别", "项目", "房屋", "承租人", "状态", "超时", "报修时间"]
        header += ["派单时间", "预约上门", "完工时间", "确认时间", "维修人员", "问题描述"]
        return table_download(fmt, "维修工单", [str(_(h)) for h in header], _rows(rows))
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/repairs/queue.html",
        {
            "page": page,
            "page_query": query_without(request),
            "query": query_without(request),
            "status": status,
            "statuses": STATUS_CHOICES,
            "overdue": overdue,
            "estate": estate,
            "estates": visible_estates(request.user),
            "category": category,
            "categories": categories,
            "q": q,
            "may_handle": repairs.may_handle(request.user),
        },
    )


def _when(value) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else ""


def _rows(rows):
    for r in rows.iterator(chunk_size=2000):
        yield [
            r.number,
            r.category.name,
            r.estate.name,
            f"{r.unit.building.number} {r.unit.number}",
            r.household.head_name if r.household else "",
            r.get_status_display(),
            str(_("是")) if r.late else "",
            _when(r.reported_at),
            _when(r.assigned_at),
            _when(r.scheduled_for),
            _when(r.closed_at),
            _when(r.confirmed_at),
            r.assignee_name,
            r.description,
        ]


# --- one repair --------------------------------------------------------------------------------


class AssignForm(forms.Form):
    assignee_name = forms.CharField(label=_("维修人员或班组"), max_length=60, required=False)
    assignee = forms.ModelChoiceField(
        label=_("或指定工作人员"), queryset=get_user_model().objects.none(), required=False
    )

    def __init__(self, *args, repair: Repair, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True)
        if repair.estate.operator_id:
            users = users.filter(staff_profile__operator_id=repair.estate.operator_id)
        else:
            users = users.none()
        self.fields["assignee"].queryset = users.order_by("username")

    def clean(self):
        data = super().clean()
        if not data.get("assignee_name", "").strip() and not data.get("assignee"):
            raise forms.ValidationError(_("请填写维修人员或班组，或选择负责的工作人员。"))
        return data


class ScheduleForm(forms.Form):
    visit_at = forms.DateTimeField(
        label=_("预约上门时间"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("完工说明"),
        max_length=repairs.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写完工说明：做了什么、换了什么。")},
    )
    photos = PhotosField(label=_("完工照片（可选）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].help_text = limits_text()


def _repair(request: HttpRequest, repair_id: int) -> Repair:
    return get_object_or_404(
        repairs.repairs_for(request.user).select_related(
            "category", "estate__operator", "unit__building", "household", "contract"
        ),
        pk=repair_id,
    )


def _detail(request: HttpRequest, repair: Repair, status: int = 200, **forms_) -> HttpResponse:
    handles = repairs.may_handle(request.user)
    return render(
        request,
        "staff/repairs/detail.html",
        {
            "repair": repair,
            "late": is_overdue(repair, timezone.now()),
            "photos": repair.photos.order_by("added_at", "pk"),
            "events": timeline(repair),
            "may_handle": handles,
            "assign_form": forms_.get("assign") or AssignForm(repair=repair),
            "schedule_form": forms_.get("schedule")
            or ScheduleForm(initial={"visit_at": repair.scheduled_for}),
            "close_form": forms_.get("close") or CloseForm(),
        },
        status=status,
    )


@staff_required
def detail(request: HttpRequest, repair_id: int) -> HttpResponse:
    repair = _repair(request, repair_id)
    record_access(request, "repair", repair.pk)
    return _detail(request, repair)


def _step(request: HttpRequest, repair: Repair, form_key: str, form, act) -> HttpResponse:
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except NotAllowed as exc:
            field = "photos" if isinstance(exc, repairs.PhotosNotAllowed) else None
            form.add_error(field, str(exc))
        else:
            return redirect("repair-detail", repair_id=repair.pk)
    return _detail(request, repair, status=400, **{form_key: form})


@staff_required
@require_POST
def assign(request: HttpRequest, repair_id: int) -> HttpResponse:
    repair = _repair(request, repair_id)
    form = AssignForm(request.POST, repair=repair)

    def act(data):
        repairs.assign(
            repair.pk,
            actor=request.user,
            assignee_name=data["assignee_name"],
            assignee=data["assignee"],
        )
        messages.success(request, _("已派单。"))

    return _step(request, repair, "assign", form, act)


@staff_required
@require_POST
def schedule(request: HttpRequest, repair_id: int) -> HttpResponse:
    repair = _repair(request, repair_id)

    def act(data):
        repairs.schedule(repair.pk, actor=request.user, visit_at=data["visit_at"])
        messages.success(request, _("已预约上门时间，已通知承租人。"))

    return _step(request, repair, "schedule", ScheduleForm(request.POST), act)


@staff_required
@require_POST
def close(request: HttpRequest, repair_id: int) -> HttpResponse:
    repair = _repair(request, repair_id)
    if too_big(request):
        messages.error(request, _("上传内容过大，没有保存：") + limits_text())
        return redirect("repair-detail", repair_id=repair.pk)
    form = CloseForm(request.POST, request.FILES)

    def act(data):
        repairs.close(
            repair.pk,
            actor=request.user,
            note=data["note"],
            photos=read_photos(data["photos"]),
        )
        messages.success(request, _("已完工。"))

    return _step(request, repair, "close", form, act)


@staff_required
def photo(request: HttpRequest, repair_id: int, photo_id: int) -> HttpResponse:
    repair = _repair(request, repair_id)
    found = get_object_or_404(
        RepairPhoto.objects.select_related("document"), pk=photo_id, repair=repair
    )
    return photo_response(request, found)


# --- staff open a repair ------------------------------------------------------------------------


class NewRepairForm(forms.Form):
    estate = forms.ModelChoiceField(label=_("项目"), queryset=None)
    building = forms.CharField(label=_("楼号"), max_length=20)
    unit = forms.CharField(label=_("房号"), max_length=20)
    category = forms.ModelChoiceField(
        label=_("维修类别"),
        queryset=RepairCategory.objects.filter(active=True),
        to_field_name="code",
        empty_label=None,
    )
    description = forms.CharField(
        label=_("问题描述"),
        max_length=repairs.DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = PhotosField(label=_("照片（可选）"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["estate"].queryset = visible_estates(user)
        self.fields["photos"].help_text = limits_text()

    def clean(self):
        data = super().clean()
        if data.get("estate") and data.get("building") and data.get("unit"):
            unit = (
                Unit.objects.visible_to(self.user)
                .filter(
                    building__estate=data["estate"],
                    building__number=data["building"].strip(),
                    number=data["unit"].strip(),
                )
                .first()
            )
            if unit is None:
                self.add_error(
                    "unit",
                    _("%(estate)s 没有 %(building)s 楼 %(unit)s 这套房屋。")
                    % {
                        "estate": data["estate"].name,
                        "building": data["building"],
                        "unit": data["unit"],
                    },
                )
            data["unit_obj"] = unit
        return data


@staff_required
def new(request: HttpRequest) -> HttpResponse:
    """Staff open a repair for any unit they can see, vacant ones too (it becomes 维修中)."""
    if request.method == "POST" and too_big(request):
        messages.error(request, _("上传内容过大，没有保存：") + limits_text())
        return redirect("repair-new")
    form = NewRepairForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            repair = repairs.report_by_staff(
                unit_id=data["unit_obj"].pk,
                category=data["category"].code,
                description=data["description"],
                actor=request.user,
                photos=read_photos(data["photos"]),
            )
        except NotAllowed as exc:
            field = "photos" if isinstance(exc, repairs.PhotosNotAllowed) else None
            form.add_error(field, str(exc))
        else:
            messages.success(request, _("已登记维修工单 %(n)s。") % {"n": repair.number})
            return redirect("repair-detail", repair_id=repair.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/repairs/new.html", {"form": form}, status=status)


# --- the staff home ------------------------------------------------------------------------------


def pending_tasks(user) -> list[Task]:
    """Repairs waiting for a dispatcher, overdue ones, and closed ones the tenant has not yet
    confirmed, counted with the queue's own filters (one query)."""
    if not (user.is_authenticated and (user.is_superuser or profile_of(user) is not None)):
        return []
    now = timezone.now()
    counts = (
        repairs.repairs_for(user)
        .order_by()
        .aggregate(
            waiting=Count("pk", filter=Q(status=Repair.Status.REPORTED)),
            late=Count("pk", filter=overdue_q(now)),
            unconfirmed=Count("pk", filter=AWAITING_Q),
        )
    )
    url = reverse("repairs")
    return [
        Task(_("待派单的维修"), counts["waiting"], f"{url}?status={Repair.Status.REPORTED}"),
        Task(_("已超时的维修"), counts["late"], f"{url}?overdue=1", urgent=True),
        Task(
            _("已完工、待承租人确认的维修"),
            counts["unconfirmed"],
            f"{url}?status={AWAITING}",
        ),
    ]
