"""申请审核: each staff member sees the applications at their step, in their jurisdiction."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.services import record_access
from backoffice.claims import pending_count
from backoffice.views import staff_required
from disclosure.models import Objection
from exchange.models import Evidence
from geo.jurisdiction import application_scope, profile_of, region_scope
from geo.models import Region
from housing import licences, services
from housing.forms import ApplicationForm, CounterMemberFormSet, DecisionForm
from housing.models import DEFAULT_CHAIN, Application, CountyPolicy, ReviewStep
from housing.queues import waiting_q

DEPARTMENTS = ("city", "district")


def my_steps(user) -> set[str]:
    """The chain steps the user's role acts on, across the county policies."""
    profile = profile_of(user)
    chains = list(CountyPolicy.objects.values_list("review_chain", flat=True)) or [DEFAULT_CHAIN]
    return {
        step["step"]
        for chain in chains
        for step in chain
        if user.is_superuser or (profile is not None and step["role"] == profile.role)
    }


def _visible(user) -> QuerySet[Application]:
    return Application.objects.filter(application_scope(user)).exclude(stage="draft")


def supervises(user) -> bool:
    """Departments supervise every case in their area, whatever its step."""
    profile = profile_of(user)
    return user.is_superuser or (profile is not None and profile.role in DEPARTMENTS)


def openable(user, steps: set[str] | None = None) -> QuerySet[Application]:
    """The cases the user may open: every case in a department's area; for streets and
    communities those at their step or that they have handled. The list and the detail page
    both use it, so a listed case always opens."""
    cases = _visible(user)
    if supervises(user):
        return cases
    handled = ReviewStep.objects.filter(application=OuterRef("pk"), actor=user)
    return cases.filter(Q(stage__in=my_steps(user) if steps is None else steps) | Exists(handled))


def overdue_q(steps: set[str]) -> Q:
    return waiting_q(steps) & Q(stage_deadline__lt=timezone.now())


def returned_q(steps: set[str]) -> Q:
    """Cases returned at the user's steps, waiting for the applicant's correction."""
    return Q(stage__in=steps, returned=True)


# The queue's tabs (its ?show= value) and the filter each puts on the cases the user may open.
LISTS = {
    "": waiting_q,
    "overdue": overdue_q,
    "returned": returned_q,
    "all": lambda steps: Q(),
}


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """My work: applications waiting at my steps, earliest deadline first; or the overdue, the
    returned, or every case I may open."""
    steps = my_steps(request.user)
    show = request.GET.get("show", "")
    if show not in LISTS:
        show = ""
    listing = (
        openable(request.user, steps)
        .filter(LISTS[show](steps))
        .select_related("county", "community")
        .defer("county__boundary", "community__boundary")
    )
    order = ("-submitted_at", "-pk") if show == "all" else ("stage_deadline", "submitted_at", "pk")
    page = Paginator(listing.order_by(*order), 30).get_page(request.GET.get("page"))
    publicity = (
        _visible(request.user)
        .filter(stage="publicity", review_outbox__isnull=True)
        .order_by()
        .values_list("county__name", "county__pk")
        .distinct()
    )
    return render(
        request,
        "staff/review/queue.html",
        {
            "page": page,
            "page_query": f"show={show}" if show else "",
            "show": show,
            "steps": steps,
            "supervises": supervises(request.user),
            "publicity": list(publicity) if "publicity" in steps else [],
            "pending_claims": pending_count(request.user),
        },
    )


@staff_required
def detail(request: HttpRequest, application_id: int) -> HttpResponse:
    steps = my_steps(request.user)
    application = get_object_or_404(
        openable(request.user, steps).select_related("county", "street", "community"),
        pk=application_id,
    )
    record_access(request, "application", application.pk)
    mine = application.stage in steps and not application.returned
    publication = services.publication_of(application)
    objections = (
        Objection.objects.filter(
            publication__series=publication.series, item_key=application.public_key
        )
        if publication
        else []
    )
    return render(
        request,
        "staff/review/detail.html",
        {
            "application": application,
            "mine": mine,
            "form": DecisionForm(initial={"expected_step": application.stage}),
            "check": application.checks.first(),
            "evidence": Evidence.objects.filter(
                subject_type="application", subject_id=application.pk
            ).only("department", "source", "fetched_at", "payload_hash")[:16],
            "steps": application.steps.select_related("actor"),
            "licences": licences.used_by(application),
            "policy": services.policy_for(application.county),
            "publication": publication,
            "objections": objections,
        },
    )


@staff_required
@require_POST
def decide(request: HttpRequest, application_id: int) -> HttpResponse:
    application = get_object_or_404(_visible(request.user), pk=application_id)
    if application.stage not in my_steps(request.user):
        raise PermissionDenied(_("该环节不由您的岗位办理。"))
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审核结论。"))
    else:
        try:
            services.decide(application.pk, actor=request.user, **form.cleaned_data)
        except services.NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("审核结论已记录。"))
    return redirect("review-detail", application_id=application.pk)


@staff_required
@require_POST
def data_check(request: HttpRequest, application_id: int) -> HttpResponse:
    application = get_object_or_404(_visible(request.user), pk=application_id)
    if application.stage not in my_steps(request.user):
        raise PermissionDenied(_("该环节不由您的岗位办理。"))
    try:
        check = services.run_data_check(application.pk, actor=request.user)
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("比对完成：全部符合。") if check.passed else _("比对完成：有不符合项，见下表。"),
        )
    return redirect("review-detail", application_id=application.pk)


@staff_required
@require_POST
def start_publicity(request: HttpRequest, county_id: int) -> HttpResponse:
    county = get_object_or_404(Region, pk=county_id, level=Region.Level.DISTRICT)
    if not _visible(request.user).filter(county=county).exists() or "publicity" not in my_steps(
        request.user
    ):
        raise PermissionDenied(_("只有本县（区）住房保障部门可以发起公示。"))
    try:
        count = services.start_publicity(county, actor=request.user)
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("已提交公示：%(n)s 户，发布后将出现在“公示公告”中。") % {"n": count}
        )
    return redirect("review-queue")


class CounterForm(ApplicationForm):
    phone = forms.RegexField(label=_("联系电话"), regex=r"^1[3-9]\d{9}$")

    class Meta(ApplicationForm.Meta):
        fields = ["phone", *ApplicationForm.Meta.fields]

    def limit_to(self, user) -> None:
        """Only places inside the clerk's jurisdiction can be chosen."""
        self.scope = Region.objects.filter(region_scope(user)).values_list("pk", flat=True)

    def clean(self):
        data = super().clean()
        community = data.get("community")
        if community is not None and community.pk not in set(getattr(self, "scope", [])):
            self.add_error("community", _("该社区不在您的管辖范围内"))
        return data


@staff_required
def counter(request: HttpRequest) -> HttpResponse:
    """Paper applications entered at the counter (community, street or county desks) for
    places inside the clerk's jurisdiction, submitted at once."""
    profile = profile_of(request.user)
    if not request.user.is_superuser and (
        profile is None or profile.role not in ("community", "street", "district")
    ):
        raise PermissionDenied(_("只有社区、街道和县（区）窗口可以录入申请。"))
    form = CounterForm(request.POST or None, instance=Application(channel="counter"))
    form.limit_to(request.user)
    members = CounterMemberFormSet(request.POST or None, prefix="m")
    if request.method == "POST" and form.is_valid() and members.is_valid():
        rows = [m.cleaned_data for m in members if m.cleaned_data.get("name")]
        try:
            application = services.save_application(
                form.save(commit=False), rows, submit=True, actor=request.user
            )
        except services.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已录入并提交：%(n)s") % {"n": application.number})
            return redirect("review-detail", application_id=application.pk)
    return render(request, "staff/review/counter.html", {"form": form, "members": members})
