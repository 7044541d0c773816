"""Atom feeds of new publications: all, per kind, per county."""

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from disclosure.models import Kind, Publication
from disclosure.selectors import NoticeFilter, notices
from geo.models import Region

FEED_SIZE = 50


class NoticeFeed(Feed):
    feed_type = Atom1Feed
    author_name = "安居公租房信息公开平台"

    def get_object(self, request: HttpRequest, kind: str = "", county: str = ""):
        if kind and kind not in Kind.values:
            raise Http404
        region = None
        if county:
            region = Region.objects.filter(adcode=county, level=Region.Level.DISTRICT).first()
            if region is None:
                raise Http404
        return {"kind": kind, "county": county, "region": region}

    def title(self, obj) -> str:
        parts = [
            obj["region"].name if obj["region"] else "",
            Kind(obj["kind"]).label if obj["kind"] else "公示公告",
        ]
        return "".join(str(p) for p in parts if p)

    def subtitle(self, obj) -> str:
        return "公租房审核公示、轮候名单、配租结果、失信名单与房源发布"

    def link(self, obj) -> str:
        return reverse("notices")

    def feed_url(self, obj) -> str:
        if obj["kind"]:
            return reverse("notice-feed-kind", args=[obj["kind"]])
        if obj["county"]:
            return reverse("notice-feed-county", args=[obj["county"]])
        return reverse("notice-feed")

    def items(self, obj) -> list[Publication]:
        return list(notices(NoticeFilter(kind=obj["kind"], county=obj["county"]))[:FEED_SIZE])

    def item_title(self, item: Publication) -> str:
        suffix = f"（更正，第 {item.version} 版）" if item.version > 1 else ""
        return f"{item.title}{suffix}"

    def item_description(self, item: Publication) -> str:
        return f"{item.get_kind_display()} · {item.region.name} · 内容哈希 {item.content_hash}"

    def item_link(self, item: Publication) -> str:
        return reverse("notice-version", args=[item.series_id, item.version])

    def item_guid(self, item: Publication) -> str:
        return f"urn:anju:publication:{item.content_hash}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Publication):
        return item.published_at

    def item_updateddate(self, item: Publication):
        return item.published_at

    def item_categories(self, item: Publication) -> list[str]:
        return [item.get_kind_display(), item.region.name]
