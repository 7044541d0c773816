"""资产管理: estates, buildings and units in the user's jurisdiction, their geodata in and out.

Every object is fetched through `visible_to(user)`, so anything outside the jurisdiction is a
404; every change goes through geo.services, which writes the archive event.
"""

import shutil
import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.selectors import estate_timeline, unit_timeline
from archive.services import record_access
from backoffice.forms import BuildingBatchForm, EstateForm, UnitStatusForm
from backoffice.views import staff_required
from geo import crs, services
from geo.jurisdiction import may, profile_of, region_scope
from geo.models import Estate, Region, Unit
from geo.stock_export import FORMATS, export_stock, template_workbook
from geo.stock_import import StockFileError, plan_stock_file

PAGE = 30
UPLOAD_SUFFIXES = {".geojson", ".json", ".zip", ".gpkg", ".kml", ".xlsx", ".csv"}


def _require(request: HttpRequest, what: str) -> None:
    if not may(request.user, what):
        raise PermissionDenied(_("您的角色不能进行此操作。"))


def _districts_in_scope(user):
    return Region.objects.filter(region_scope(user), level=Region.Level.DISTRICT)


# --- estates ---------------------------------------------------------------------------------


@staff_required
def estate_list(request: HttpRequest) -> HttpResponse:
    estates = (
        Estate.objects.visible_to(request.user)
        .select_related("district", "operator")
        .defer("district__boundary", "boundary")
        .annotate(
            unit_count=Count("buildings__units"),
            vacant_count=Count("buildings__units", filter=Q(buildings__units__status="vacant")),
        )
        .order_by("district__adcode", "name")
    )
    q = request.GET.get("q", "").strip()
    if q:
        estates = estates.filter(Q(name__contains=q) | Q(address__contains=q))
    district = request.GET.get("district", "")
    if district:
        estates = estates.filter(district__adcode=district)
    published = request.GET.get("published", "")
    if published in ("1", "0"):
        estates = estates.filter(published=published == "1")
    page = Paginator(estates, PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "staff/assets/estate_list.html",
        {
            "page": page,
            "page_query": params.urlencode(),
            "q": q,
            "district": district,
            "published": published,
            "districts": _districts_in_scope(request.user).defer("boundary"),
            "can_edit": may(request.user, "can_edit_stock"),
            "export_formats": FORMATS,
            "crs_choices": crs.CRS_CHOICES,
        },
    )


@staff_required
def estate_detail(request: HttpRequest, estate_id: int) -> HttpResponse:
    estate = get_object_or_404(
        Estate.objects.visible_to(request.user).select_related("district", "street", "operator"),
        pk=estate_id,
    )
    record_access(request, "estate", estate.pk)
    buildings = list(
        estate.buildings.annotate(
            unit_count=Count("units"),
            vacant_count=Count("units", filter=Q(units__status="vacant")),
        ).order_by("number")
    )
    vacant = sum(b.vacant_count for b in buildings)
    can_publish = may(request.user, "can_publish")
    return render(
        request,
        "staff/assets/estate_detail.html",
        {
            "estate": estate,
            "buildings": buildings,
            "vacant": vacant,
            "events": estate_timeline(estate.pk),
            "can_edit": may(request.user, "can_edit_stock"),
            "can_publish": can_publish,
            # 房源发布 lists an estate's vacant units on the portal: only a public estate has any
            # to list (the service refuses the others too).
            "can_release": can_publish and estate.published and vacant > 0,
        },
    )


@staff_required
def estate_edit(request: HttpRequest, estate_id: int | None = None) -> HttpResponse:
    estate = (
        get_object_or_404(Estate.objects.visible_to(request.user), pk=estate_id)
        if estate_id
        else Estate()
    )
    _require(request, "can_edit_stock")
    if estate_id is None and profile_of(request.user) and profile_of(request.user).operator_id:
        raise PermissionDenied(_("新项目由住房保障部门登记。"))
    form = EstateForm(request.POST or None, instance=estate, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.save_estate(form.save(commit=False), actor=request.user)
        messages.success(request, _("项目已保存。"))
        return redirect("asset-estate", estate_id=form.instance.pk)
    return render(request, "staff/assets/estate_form.html", {"form": form, "estate": estate})


@staff_required
@require_POST
def estate_publish(request: HttpRequest, estate_id: int) -> HttpResponse:
    estate = get_object_or_404(Estate.objects.visible_to(request.user), pk=estate_id)
    _require(request, "can_publish")
    publish = request.POST.get("published") == "1"
    services.set_estate_published(estate.pk, publish, actor=request.user)
    messages.success(request, _("项目已公开。") if publish else _("项目已撤回，不再公开显示。"))
    return redirect("asset-estate", estate_id=estate.pk)


@staff_required
def building_batch(request: HttpRequest, estate_id: int) -> HttpResponse:
    """Create a building with all its units at once: floors, units per floor, layouts."""
    estate = get_object_or_404(Estate.objects.visible_to(request.user), pk=estate_id)
    _require(request, "can_edit_stock")
    form = BuildingBatchForm(request.POST or None)
    # The footprint's map opens at the estate, not at the whole city.
    form.fields["footprint"].widget.attrs.update(
        default_lon=estate.location.x, default_lat=estate.location.y, default_zoom=17
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            building = services.create_building_with_units(
                estate,
                number=d["number"],
                floors=(d["floor_from"], d["floor_to"]),
                layouts=form.layouts(),
                rent_per_m2=d["rent_per_m2"],
                elevator=d["elevator"],
                footprint=d.get("footprint"),
                actor=request.user,
            )
        except services.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            count = building.units.count()
            messages.success(
                request,
                _("已新建 %(b)s，共 %(n)s 套房屋（暂不分配）。")
                % {"b": building.number, "n": count},
            )
            return redirect("asset-estate", estate_id=estate.pk)
    return render(request, "staff/assets/building_batch.html", {"form": form, "estate": estate})


# --- units -----------------------------------------------------------------------------------


class UnitFilter(forms.Form):
    estate = forms.IntegerField(required=False, widget=forms.HiddenInput)
    building = forms.IntegerField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *Unit.Status.choices]
    )
    rooms = forms.IntegerField(label=_("室"), required=False, min_value=0, max_value=10)
    number = forms.CharField(label=_("房号"), required=False, max_length=20)


@staff_required
def unit_list(request: HttpRequest) -> HttpResponse:
    units = (
        Unit.objects.visible_to(request.user)
        .select_related("building__estate")
        .defer("building__footprint", "building__estate__boundary")
        .order_by("building__estate__name", "building__number", "floor", "number")
    )
    form = UnitFilter(request.GET or None)
    if form.is_valid():
        d = form.cleaned_data
        for key, lookup in [
            ("estate", "building__estate_id"),
            ("building", "building_id"),
            ("status", "status"),
            ("rooms", "rooms"),
            ("number", "number"),
        ]:
            if d.get(key) not in (None, ""):
                units = units.filter(**{lookup: d[key]})
    params = request.GET.copy()
    params.pop("page", None)
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/assets/unit_list.html",
        {"form": form, "page": page, "page_query": params.urlencode()},
    )


@staff_required
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A unit with its timeline (一房一档) and, for those who keep the stock, a status change."""
    unit = get_object_or_404(
        Unit.objects.visible_to(request.user).select_related("building__estate"), pk=unit_id
    )
    record_access(request, "unit", unit.pk)
    form = UnitStatusForm(
        request.POST or None, initial={"expected": unit.status, "status": unit.status}
    )
    if request.method == "POST":
        _require(request, "can_edit_stock")
        if form.is_valid():
            try:
                services.change_unit_status(
                    unit.pk,
                    expected=form.cleaned_data["expected"],
                    new=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except (services.StaleState, services.NotAllowed) as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("房屋状态已更新。"))
            return redirect("asset-unit", unit_id=unit.pk)
    return render(
        request,
        "staff/assets/unit_detail.html",
        {
            "unit": unit,
            "form": form,
            "events": unit_timeline(unit.pk),
            "can_edit": may(request.user, "can_edit_stock"),
        },
    )


# --- import and export -----------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("文件"),
        help_text=_("GeoJSON、Shapefile（zip 压缩）、GeoPackage、KML，或带经度/纬度列的 XLSX、CSV"),
    )
    crs = forms.ChoiceField(label=_("坐标系"), choices=crs.CRS_CHOICES, initial="wgs84")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in UPLOAD_SUFFIXES:
            raise forms.ValidationError(_("不支持该文件类型。"))
        limit = settings.ANJU_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件有 %(size).1f MB，超过上限 %(limit).0f MB：请拆分后分批导入。")
                % {"size": upload.size / 2**20, "limit": limit / 2**20}
            )
        return upload


def _import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _expired(path: Path) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    return age > settings.ANJU_IMPORT_PLAN_MAX_AGE_SECONDS


def remove_stale_plans() -> int:
    """Checked files whose confirmation never came (a closed tab, a clerk gone home) are kept
    between the preview and the commit only; each new import removes those past their age."""
    removed = 0
    for path in _import_dir().iterdir():
        if path.is_file() and _expired(path):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _plan(request: HttpRequest, path: Path, declared: str):
    return plan_stock_file(
        path,
        declared,
        visible_estates=Estate.objects.visible_to(request.user),
        districts_in_scope=_districts_in_scope(request.user),
    )


@staff_required
def stock_import(request: HttpRequest) -> HttpResponse:
    """Upload, then a dry run listing every problem; nothing is written until confirmed."""
    _require(request, "can_edit_stock")
    remove_stale_plans()
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        token = uuid.uuid4().hex
        stored = _import_dir() / f"{request.user.pk}-{token}{Path(upload.name).suffix.lower()}"
        with stored.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        plan = None
        try:
            plan = _plan(request, stored, form.cleaned_data["crs"])
        except StockFileError as exc:
            form.add_error("file", str(exc))
        finally:
            if plan is None or not plan.ok:  # only a plan waiting for its commit is kept
                stored.unlink(missing_ok=True)
        if plan is not None:
            context |= {
                "plan": plan,
                "token": stored.name,
                "crs": form.cleaned_data["crs"],
                "filename": upload.name,
            }
    return render(request, "staff/assets/import.html", context)


@staff_required
@require_POST
def stock_import_commit(request: HttpRequest) -> HttpResponse:
    """Write the checked file, all or nothing (checked again: the stock may have changed)."""
    _require(request, "can_edit_stock")
    remove_stale_plans()
    name = Path(request.POST.get("token", "")).name
    if not name.startswith(f"{request.user.pk}-"):
        raise PermissionDenied
    declared = request.POST.get("crs", "wgs84")
    if declared not in dict(crs.CRS_CHOICES):
        raise PermissionDenied(_("不支持的坐标系。"))
    stored = _import_dir() / name
    if not stored.is_file():
        messages.error(request, _("上传的文件已失效，请重新上传。"))
        return redirect("asset-import")
    try:
        plan = _plan(request, stored, declared)
        result = services.import_stock(plan, actor=request.user)
    except (StockFileError, services.NotAllowed) as exc:
        messages.error(request, str(exc))
        return redirect("asset-import")
    finally:
        stored.unlink(missing_ok=True)
    messages.success(
        request,
        _(
            "导入完成：新项目 %(estates)s 个，新楼栋 %(buildings)s 栋，新房屋 %(created)s 套，"
            "更新房屋 %(updated)s 套。"
        )
        % result,
    )
    return redirect("assets")


@staff_required
def stock_export(request: HttpRequest) -> FileResponse:
    """The stock of the jurisdiction (or one estate) as a file in the chosen format."""
    fmt = request.GET.get("format", "xlsx")
    target = request.GET.get("crs", "wgs84")
    if fmt not in FORMATS or target not in dict(crs.CRS_CHOICES):
        raise PermissionDenied(_("不支持的格式或坐标系。"))
    units = Unit.objects.visible_to(request.user)
    if request.GET.get("estate"):
        estate = request.GET["estate"]
        if not (estate.isascii() and estate.isdigit() and len(estate) <= 18):
            raise Http404
        units = units.filter(building__estate_id=int(estate))
    path = export_stock(units, fmt, target)
    content_type, suffix = FORMATS[fmt][1:]
    response = FileResponse(
        _DeletingFile(path),
        as_attachment=True,
        filename=f"房源-{target}{suffix}",
        content_type=content_type,
    )
    return response


class _DeletingFile:
    """A file object that removes its temporary directory once the response has streamed it."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = path.open("rb")

    def read(self, size: int = -1) -> bytes:
        return self.handle.read(size)

    def close(self) -> None:
        self.handle.close()
        shutil.rmtree(self.path.parent, ignore_errors=True)


@staff_required
def stock_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type=FORMATS["xlsx"][1])
    response["Content-Disposition"] = "attachment; filename*=UTF-8''stock-template.xlsx"
    template_workbook().save(response)
    return response
