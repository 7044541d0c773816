"""批量下载 of 一房一档 / 一户一档: a selection checked against the requester's jurisdiction, then
a background job writing one ZIP to disk, folder by folder, never holding it in memory.

Each unit or household gets a folder with its 索引.pdf (facts, events in time order, the files
with their SHA-256) and its stored files; `manifest.sha256` at the root lists every file in
`sha256sum -c` format. The ZIP is written to a `.part` and renamed when complete; a batch over
the limits stops cleanly, its partial file removed. Every document put in a ZIP is logged as
read by the requester (archive FileAccess, way "batch").
"""

import hashlib
import logging
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.models import Event, FileAccess
from geo.jurisdiction import estate_scope
from geo.models import Estate
from insights import batch_zip, dossiers
from insights.batch_zip import CHUNK, BatchError
from insights.models import BatchDownload

logger = logging.getLogger(__name__)

STATUS = BatchDownload.Status
SHOWN = 20  # faults named at once; a pasted list of a thousand wrong keys is not echoed whole


@dataclass(frozen=True)
class Selection:
    """What goes in one ZIP: units and households (ids), resolved within a jurisdiction."""

    estate_ids: tuple[int, ...] = ()
    unit_ids: tuple[int, ...] = ()
    household_ids: tuple[int, ...] = ()
    since: date | None = None
    until: date | None = None

    @property
    def folders(self) -> int:
        return len(self.unit_ids) + len(self.household_ids)

    def as_json(self) -> dict:
        return {
            "estates": list(self.estate_ids),
            "units": list(self.unit_ids),
            "households": list(self.household_ids),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Selection":
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            estate_ids=tuple(data.get("estates", [])),
            unit_ids=tuple(data.get("units", [])),
            household_ids=tuple(data.get("households", [])),
            since=day(data.get("since")),
            until=day(data.get("until")),
        )


# --- choosing -------------------------------------------------------------------------------


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _unit_lines(user: AbstractBaseUser, text: str) -> tuple[list[int], list[str]]:
    """Unit ids, or "项目 楼栋 房号" (also with / between), one per line, within the scope."""
    scope = dossiers.units_in_scope(user)
    by_id: dict[int, int] = {}  # line → unit id asked for
    by_text: dict[int, tuple[str, list[str], str]] = {}
    problems: list[str] = []
    lines = _lines(text)
    if len(lines) > settings.ANJU_BATCH_MAX_FOLDERS:
        return [], [_("房屋超过 %(n)s 行，请缩小范围。") % {"n": settings.ANJU_BATCH_MAX_FOLDERS}]
    for n, line in lines:
        if line.isascii() and line.isdigit():
            by_id[n] = int(line) if len(line) <= 12 else 0  # 0: no such unit
            continue
        parts = [p for p in re.split(r"[\s/／|]+", line) if p]
        if len(parts) < 3:
            problems.append(
                _("房屋第 %(n)s 行“%(line)s”：请写房屋编号，或“项目 楼栋 房号”三项。")
                % {"n": n, "line": line[:40]}
            )
            continue
        building = parts[-2]
        variants = [building, f"{building}号楼", f"{building}栋", building.removesuffix("号楼")]
        by_text[n] = (" ".join(parts[:-2]), variants, parts[-1])
    found_ids = set(
        scope.filter(pk__in=set(by_id.values())).values_list("pk", flat=True) if by_id else []
    )
    matches: dict[tuple[str, str, str], list[int]] = {}
    if by_text:
        condition = Q(pk__in=[])
        for estate, variants, number in by_text.values():
            condition |= Q(
                building__estate__name=estate, building__number__in=variants, number=number
            )
        for pk, estate, building, number in scope.filter(condition).values_list(
            "pk", "building__estate__name", "building__number", "number"
        ):
            matches.setdefault((estate, building, number), []).append(pk)
    unit_ids: list[int] = []
    for n, line in lines:
        if n in by_id:
            if by_id[n] in found_ids:
                unit_ids.append(by_id[n])
            else:
                problems.append(
                    _("房屋第 %(n)s 行：编号 %(id)s 不存在或不在您的管辖范围内。")
                    % {"n": n, "id": line[:20]}
                )
        elif n in by_text:
            estate, variants, number = by_text[n]
            hits = sorted({pk for b in variants for pk in matches.get((estate, b, number), [])})
            if len(hits) == 1:
                unit_ids.append(hits[0])
            elif not hits:
                problems.append(
                    _("房屋第 %(n)s 行“%(line)s”不存在或不在您的管辖范围内。")
                    % {"n": n, "line": line[:40]}
                )
            else:
                problems.append(
                    _("房屋第 %(n)s 行“%(line)s”对应多套房屋，请改写房屋编号。")
                    % {"n": n, "line": line[:40]}
                )
    return unit_ids, problems


def _household_lines(user: AbstractBaseUser, text: str) -> tuple[list[int], list[str]]:
    """Households by public key (公示编号), one per line, within the scope."""
    asked = [(n, line.upper()) for n, line in _lines(text)]
    if len(asked) > settings.ANJU_BATCH_MAX_FOLDERS:
        return [], [_("家庭超过 %(n)s 行，请缩小范围。") % {"n": settings.ANJU_BATCH_MAX_FOLDERS}]
    found = dict(
        dossiers.households_in_scope(user)
        .filter(public_key__in={key for _n, key in asked})
        .values_list("public_key", "pk")
    )
    problems = [
        _("家庭第 %(n)s 行：公示编号“%(key)s”不存在或不在您的管辖范围内。")
        % {"n": n, "key": key[:20]}
        for n, key in asked
        if key not in found
    ]
    return [found[key] for _n, key in asked if key in found], problems


def resolve(
    user: AbstractBaseUser,
    *,
    estate_ids: Iterable[int] = (),
    unit_lines: str = "",
    household_lines: str = "",
    since: date | None = None,
    until: date | None = None,
) -> Selection:
    """The folders a staff member asked for, all inside their jurisdiction, or a BatchError
    naming every estate, line or key that is unknown or outside it (nothing is half-chosen).

    A period alone means every unit and household of the jurisdiction with an archive event
    in it; with a choice, it narrows each folder's entries and files to the period."""
    problems: list[str] = []
    if since and until and since > until:
        problems.append(_("开始日期不能晚于结束日期。"))
    estate_ids = sorted(set(estate_ids))
    known = set(
        Estate.objects.filter(estate_scope(user), pk__in=estate_ids).values_list("pk", flat=True)
    )
    outside = [str(pk) for pk in estate_ids if pk not in known]
    if outside:
        problems.append(
            _("以下项目不存在或不在您的管辖范围内：%(ids)s。") % {"ids": "、".join(outside)}
        )
    units, faults = _unit_lines(user, unit_lines)
    problems += faults
    households, faults = _household_lines(user, household_lines)
    problems += faults
    if len(problems) > SHOWN:
        more = len(problems) - SHOWN
        problems = [*problems[:SHOWN], _("……另有 %(n)s 处问题。") % {"n": more}]
    if problems:
        raise BatchError(problems)
    scope_units = dossiers.units_in_scope(user)
    scope_households = dossiers.households_in_scope(user)
    unit_q = Q(pk__in=units) | Q(building__estate_id__in=estate_ids)
    household_q = Q(pk__in=households)
    if not (estate_ids or units or households):
        if not (since or until):
            raise BatchError(_("请至少选择一个项目、房屋、家庭或一个时间段。"))
        active = Event.objects.filter(dossiers.period_q(since, until))
        unit_q = Q(pk__in=active.filter(unit_id__isnull=False).values("unit_id"))
        household_q = Q(pk__in=active.filter(household_id__isnull=False).values("household_id"))
    unit_ids = tuple(
        scope_units.filter(unit_q)
        .order_by("building__estate__name", "building__number", "floor", "number", "pk")
        .values_list("pk", flat=True)
    )
    household_ids = tuple(
        scope_households.filter(household_q).order_by("public_key").values_list("pk", flat=True)
    )
    selection = Selection(tuple(estate_ids), unit_ids, household_ids, since, until)
    if selection.folders == 0:
        raise BatchError(_("所选范围内没有房屋或家庭档案。"))
    limit = settings.ANJU_BATCH_MAX_FOLDERS
    if selection.folders > limit:
        raise BatchError(
            _("所选范围共 %(n)s 个房屋和家庭，超过每次最多 %(limit)s 个的限制，请缩小范围。")
            % {"n": selection.folders, "limit": limit}
        )
    return selection


def request_batch(selection: Selection, *, actor: AbstractBaseUser) -> BatchDownload:
    """Record the request and queue its job in one transaction (both or neither)."""
    from insights.tasks import build_batch_zip  # the task module imports this one

    with transaction.atomic():
        batch = BatchDownload.objects.create(
            requested_by=actor, selection=selection.as_json(), total_folders=selection.folders
        )
        build_batch_zip.defer(batch_id=batch.pk)
    return batch


# --- writing --------------------------------------------------------------------------------


def zip_file(batch: BatchDownload) -> Path:
    return Path(settings.MEDIA_ROOT) / batch.zip_path


def is_expired(batch: BatchDownload, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return batch.status == STATUS.EXPIRED or (
        batch.status == STATUS.DONE and batch.expires_at is not None and batch.expires_at <= now
    )


def _folders(batch: BatchDownload, selection: Selection) -> list[tuple[str, str, int]]:
    """(kind, folder name, id) for every folder, checked again against the requester's
    jurisdiction now (it may have changed since the request)."""
    user = batch.requested_by
    units = list(
        dossiers.units_in_scope(user)
        .filter(pk__in=selection.unit_ids)
        .values_list("pk", "building__estate__name", "building__number", "number")
    )
    households = list(
        dossiers.households_in_scope(user)
        .filter(pk__in=selection.household_ids)
        .values_list("pk", "public_key")
    )
    if len(units) != len(set(selection.unit_ids)) or len(households) != len(
        set(selection.household_ids)
    ):
        raise BatchError(_("所选房屋或家庭已不在您的管辖范围内，请重新选择。"))
    unit_names = {pk: f"房屋_{batch_zip.safe_name(f'{e}_{b}_{n}', 80)}" for pk, e, b, n in units}
    household_names = {pk: f"家庭_{batch_zip.safe_name(key)}" for pk, key in households}
    used: set[str] = set()
    folders = []
    for kind, ids, names in (
        ("unit", selection.unit_ids, unit_names),
        ("household", selection.household_ids, household_names),
    ):
        for pk in ids:
            name = names[pk]
            if name in used:  # two estates of one name in different counties
                name = f"{name}_{pk}"
            used.add(name)
            folders.append((kind, name, pk))
    return folders


def build(batch_id: int) -> None:
    """The job: write the batch's ZIP (claimed once: a second run of the same job does nothing).

    Progress is saved about a hundred times whatever the size, so the page can show it."""
    if not BatchDownload.objects.filter(pk=batch_id, status=STATUS.QUEUED).update(
        status=STATUS.RUNNING
    ):
        return
    batch = BatchDownload.objects.select_related("requested_by").get(pk=batch_id)
    root = Path(settings.MEDIA_ROOT) / "batches"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{batch.pk}-{secrets.token_hex(8)}.zip"
    part = final.with_name(final.name + ".part")
    try:
        selection = Selection.from_json(batch.selection)
        folders = _folders(batch, selection)
        every = max(1, len(folders) // 100)
        with batch_zip.Writer(part, settings.ANJU_BATCH_MAX_BYTES) as writer:
            for done, (kind, name, pk) in enumerate(folders, 1):
                if kind == "unit":
                    dossier = dossiers.unit_dossier(pk, selection.since, selection.until)
                else:
                    dossier = dossiers.household_dossier(pk, selection.since, selection.until)
                batch_zip.add_folder(writer, name, dossier, selection.since, selection.until)
                if done % every == 0:
                    BatchDownload.objects.filter(pk=batch.pk).update(
                        done_folders=done, bytes_written=writer.written
                    )
            writer.seal()
            _finish(batch, part, final, writer)
    except BatchError as exc:
        _fail(batch.pk, str(exc))
    except Exception as exc:
        logger.exception("batch download %s failed", batch.pk)
        _fail(batch.pk, _("生成失败（%(kind)s），请稍后重试。") % {"kind": type(exc).__name__})
    finally:
        part.unlink(missing_ok=True)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _finish(batch: BatchDownload, part: Path, final: Path, writer: batch_zip.Writer) -> None:
    """Rename the complete ZIP, log every document as read by the requester, mark it done."""
    size = part.stat().st_size
    if size > settings.ANJU_BATCH_MAX_BYTES:
        raise BatchError(
            _("压缩包超过 %(limit)s 的大小限制，已停止生成，请缩小范围后重试。")
            % {"limit": batch_zip.size_text(settings.ANJU_BATCH_MAX_BYTES)}
        )
    digest = _sha256_of(part)
    where = reverse("archive-batch-download", args=[batch.pk])
    now = timezone.now()
    with transaction.atomic():  # the rename last: if it fails, nothing is recorded
        rows: list[FileAccess] = []
        for sha in writer.documents_read():
            rows.append(
                FileAccess(
                    user=batch.requested_by, document_id=sha, way=FileAccess.Way.BATCH, path=where
                )
            )
            if len(rows) == 1000:
                FileAccess.objects.bulk_create(rows)
                rows = []
        FileAccess.objects.bulk_create(rows)
        BatchDownload.objects.filter(pk=batch.pk).update(
            status=STATUS.DONE,
            done_folders=batch.total_folders,
            bytes_written=size,
            zip_path=str(final.relative_to(settings.MEDIA_ROOT)),
            zip_sha256=digest,
            finished_at=now,
            expires_at=now + timedelta(hours=settings.ANJU_BATCH_EXPIRY_HOURS),
        )
        os.replace(part, final)


def _fail(batch_id: int, message: str) -> None:
    BatchDownload.objects.filter(pk=batch_id).update(
        status=STATUS.FAILED, error=message[:2000], finished_at=timezone.now()
    )


# --- clean-up -------------------------------------------------------------------------------


def expire_batches(now: datetime | None = None) -> int:
    """Delete the ZIPs past their expiry (status → expired), and give up on jobs that have run
    longer than a ZIP is kept (a worker killed mid-way): their partial files go too."""
    now = now or timezone.now()
    expired = 0
    for batch in BatchDownload.objects.filter(status=STATUS.DONE, expires_at__lte=now):
        if BatchDownload.objects.filter(pk=batch.pk, status=STATUS.DONE).update(
            status=STATUS.EXPIRED, zip_path=""
        ):
            if batch.zip_path:
                zip_file(batch).unlink(missing_ok=True)
            expired += 1
    stale = now - timedelta(hours=settings.ANJU_BATCH_EXPIRY_HOURS)
    root = Path(settings.MEDIA_ROOT) / "batches"
    for pk in BatchDownload.objects.filter(status=STATUS.RUNNING, created_at__lt=stale).values_list(
        "pk", flat=True
    ):
        _fail(pk, _("生成中断（后台任务进程曾停止），请重新申请。"))
        for leftover in root.glob(f"{pk}-*.zip.part"):
            leftover.unlink(missing_ok=True)
    return expired
