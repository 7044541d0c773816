"""The archive chain's head, published once a day: whoever keeps these notices can later show
that the archive was not rewritten after the day it was published (archive.chain;
docs/decisions/0006-archive-chain.md). Only numbers and a hash: no personal data."""

from datetime import UTC, datetime

from django.db import connection, transaction
from django.dispatch import receiver
from django.utils import timezone

from archive.chain import LOCK, head, published_heads, seal_pending
from disclosure.models import Kind, Outbox, Publication
from disclosure.services import enqueue_publication
from geo.models import Region

BODY = (
    "本公告公布当日档案存证链的链头。公租房管理中的每一条档案记录（申请审核、轮候配租、合同、"
    "维修、信用等事项的办理留痕）都按封存顺序计算 SHA-256 摘要，每一环的摘要都包含前一环的摘要，"
    "所以链头摘要由此前的全部记录共同决定：任何一条历史记录被改动、删除或补插，重新计算出的摘要"
    "都会与本公告不符。请保存本公告或其 JSON 原文；日后审计或复核时，可依据主管部门出具的档案"
    "导出文件，按公开的计算方法逐环重算，核对第 N 环的摘要是否与本公告一致。"
)


def _city() -> Region | None:
    return Region.objects.filter(level=Region.Level.CITY).order_by("adcode").first()


def _latest(city: Region) -> Publication | None:
    return (
        Publication.objects.current()
        .filter(kind=Kind.ARCHIVE_HEAD, region=city)
        .order_by("-published_at", "-id")
        .first()
    )


def publish_head(now: datetime | None = None) -> Outbox | None:
    """Seal what is pending, then publish today's head as the next version of the one series.

    Nothing is published when today's head is out or on its way, or the chain has not grown.
    """
    seal_pending()
    today = timezone.localdate(now or timezone.now())
    with transaction.atomic():
        with connection.cursor() as cursor:  # the head must not move while it is published
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        city = _city()
        tip = head()
        if city is None or tip.sealed_at is None:
            return None
        if Outbox.objects.filter(kind=Kind.ARCHIVE_HEAD, processed_at__isnull=True).exists():
            return None
        last = _latest(city)
        published = (last.data or {}).get("archive_head", {}) if last else {}
        if published.get("date") == today.isoformat() or published.get("position") == tip.position:
            return None
        return enqueue_publication(
            kind=Kind.ARCHIVE_HEAD,
            region=city,
            title=f"档案存证链头（{today:%Y年%m月%d日}，第 {tip.position} 环）",
            body=BODY,
            data={
                "archive_head": {
                    "date": today.isoformat(),
                    "position": tip.position,
                    "digest": tip.digest,
                    "events": tip.position,
                    "sealed_at": tip.sealed_at.astimezone(UTC).isoformat(),
                }
            },
            supersedes=last,
            reason="每日存证" if last else "",
            actor=None,
        )


@receiver(published_heads)
def published(sender, **kwargs) -> list[tuple[int, str, str]]:
    """Every head ever published (each version of the series), for archive.chain.verify()."""
    versions = (
        Publication.objects.filter(kind=Kind.ARCHIVE_HEAD)
        .order_by("published_at", "id")
        .values_list("data", "series_id", "version")
    )
    heads = []
    for data, series, version in versions.iterator():
        h = (data or {}).get("archive_head")
        if h:
            where = f"{h['date']} 公布的存证链头（公开事项 {series} 第 {version} 版）"
            heads.append((h["position"], h["digest"], where))
    return heads
