"""申请审核: each staff member sees the applications at their step, in their jurisdiction."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.services import record_access
from backoffice.claims import pending_count
from backoffice.views import staff_required
from disclosure.models import Objection
from exchange.models import Evidence
from geo.jurisdiction import application_scope, profile_of, region_scope
from geo.models import Region
from housing import services
from housing.forms import ApplicationForm, CounterMemberFormSet, DecisionForm
from housing.models import DEFAULT_CHAIN, Application, CountyPolicy


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


def _may_open(user, application: Application) -> bool:
    """Departments supervise every case in their area; streets and communities see the cases
    at their step or that they have handled."""
    profile = profile_of(user)
    if user.is_superuser or (profile and profile.role in ("city", "district")):
        return True
    return application.stage in my_steps(user) or application.steps.filter(actor=user).exists()


def _visible(user):
    return Application.objects.filter(application_scope(user)).exclude(stage="draft")


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """My work: applications waiting at my steps; overdue ones first."""
    steps = my_steps(request.user)
    waiting = (
        _visible(request.user)
        .filter(stage__in=steps, returned=False)
        .select_related("county", "community")
        .order_by("stage_deadline", "submitted_at")
    )
    show = request.GET.get("show")
    listing = (
        _visible(request.user).select_related("county", "community") if show == "all" else waiting
    )
    page = Paginator(listing, 30).get_page(request.GET.get("page"))
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
            "show": show,
            "steps": steps,
            "publicity": list(publicity),
            "pending_claims": pending_count(request.user),
        },
    )


@staff_required
def detail(request: HttpRequest, application_id: int) -> HttpResponse:
    application = get_object_or_404(
        _visible(request.user).select_related("county", "street", "community"), pk=application_id
    )
    if not _may_open(request.user, application):
        raise Http404
    record_access(request, "application", application.pk)
    mine = application.stage in my_steps(request.user) and not application.returned
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
