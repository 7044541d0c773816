"""轮候配租: county rules, waitlists, allocation rounds with their committed participants and
RFC 3797 draw, choosing slots and offers.

A round's participant list and units are frozen by the database once it is announced, and its
draw is written once (see the migration's triggers); offers are unique per unit and per
household while pending (partial unique indexes), so no race can double-book.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from geo.models import Region, Unit
from housing.models import Application, Household


def default_priority_groups() -> list[str]:
    return ["dibao", "disability", "elderly", "special_job"]


def default_size_rules() -> list[dict]:
    # Household size → the rooms a unit may have (1–2 persons → one-room units …).
    return [
        {"members_up_to": 2, "min_rooms": 1, "max_rooms": 1},
        {"members_up_to": 4, "min_rooms": 1, "max_rooms": 2},
        {"members_up_to": None, "min_rooms": 2, "max_rooms": 3},
    ]


class AllocationPolicy(models.Model):
    """What a county decides for its waitlist and rounds: order, limits, sizes, refusals."""

    class RoundMethod(models.TextChoices):
        LOTTERY = "lottery", _("公开摇号确定选房顺序")
        WAITLIST = "waitlist", _("按轮候顺序选房")

    class Consequence(models.TextChoices):
        BACK_OF_LIST = "back_of_list", _("重新排到轮候名单末尾")
        SUSPEND = "suspend", _("暂停配租资格")

    county = models.OneToOneField(
        Region,
        verbose_name=_("区县"),
        on_delete=models.PROTECT,
        related_name="allocation_policy",
    )
    priority_groups = models.JSONField(
        _("优先轮候群体（按先后）"), default=default_priority_groups, blank=True
    )
    round_method = models.CharField(
        _("默认选房顺序"), max_length=10, choices=RoundMethod.choices, default="lottery"
    )
    waiting_limit_months = models.PositiveSmallIntegerField(_("轮候期限（月）"), default=24)
    size_rules = models.JSONField(_("户型配租标准"), default=default_size_rules)
    offer_working_days = models.PositiveSmallIntegerField(_("确认期限（工作日）"), default=5)
    slot_minutes = models.PositiveSmallIntegerField(_("每户选房时段（分钟）"), default=30)
    refusal_limit = models.PositiveSmallIntegerField(_("无正当理由拒绝次数上限"), default=2)
    refusal_consequence = models.CharField(
        _("达到上限的后果"), max_length=12, choices=Consequence.choices, default="back_of_list"
    )
    suspend_days = models.PositiveSmallIntegerField(_("暂停天数"), default=365)

    class Meta:
        verbose_name = _("区县配租规则")
        verbose_name_plural = _("区县配租规则")
        constraints = [
            models.CheckConstraint(condition=Q(refusal_limit__gte=1), name="refusal_limit_min"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=1), name="slot_minutes_min"),
            models.CheckConstraint(condition=Q(offer_working_days__gte=1), name="offer_days_min"),
        ]

    def __str__(self) -> str:
        return str(self.county)

    def rooms_for(self, size: int) -> tuple[int, int]:
        """The smallest and largest number of rooms a household of this size may be offered."""
        for rule in self.size_rules:
            if rule.get("members_up_to") is None or size <= rule["members_up_to"]:
                return rule["min_rooms"], rule["max_rooms"]
        return 1, 10

    def priority_rank(self, priorities: list[str]) -> int:
        """0 for the first group listed, 1 for the next …; households in no group come last."""
        ranks = [self.priority_groups.index(p) for p in priorities if p in self.priority_groups]
        return min(ranks) if ranks else len(self.priority_groups)


class WaitlistEntry(models.Model):
    """A household's place in its county's waitlist; the order is (rank, queued_at, id)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("轮候中")
        SUSPENDED = "suspended", _("暂停配租")
        ALLOCATED = "allocated", _("已配租")
        REMOVED = "removed", _("已移出")

    household = models.OneToOneField(
        Household, on_delete=models.PROTECT, related_name="waitlist_entry", primary_key=True
    )
    county = models.ForeignKey(
        Region, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+"
    )
    priority_rank = models.PositiveSmallIntegerField(_("优先序"))
    queued_at = models.DateTimeField(_("排队时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    refusals = models.PositiveSmallIntegerField(_("拒绝次数"), default=0)
    suspended_until = models.DateTimeField(_("暂停至"), null=True, blank=True)
    entered_at = models.DateTimeField(_("进入轮候"), auto_now_add=True)

    class Meta:
        verbose_name = _("轮候家庭")
        verbose_name_plural = _("轮候家庭")
        ordering = ["county", "priority_rank", "queued_at", "household_id"]
        indexes = [
            models.Index(
                fields=["county", "priority_rank", "queued_at", "household"],
                condition=Q(status="waiting"),
                name="waitlist_order_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.household_id}"


class WaitlistState(models.Model):
    """When a county's waitlist last changed and was last published: the daily batch."""

    county = models.OneToOneField(Region, on_delete=models.PROTECT, primary_key=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    outbox = models.ForeignKey(
        "disclosure.Outbox", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return str(self.county)


class Round(models.Model):
    """配租批次: units of one county offered to invited households in a committed order."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ANNOUNCED = "announced", _("已公告，待摇号")
        DRAWN = "drawn", _("已摇号")
        CHOOSING = "choosing", _("选房中")
        CLOSED = "closed", _("已结束")

    class Invitation(models.TextChoices):
        HEAD = "head", _("轮候名单前若干户")
        PRIORITY = "priority", _("优先轮候群体")
        ALL = "all", _("全部轮候家庭")

    county = models.ForeignKey(
        Region, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("批次名称"), max_length=100)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default="draft")
    method = models.CharField(
        _("选房顺序"), max_length=10, choices=AllocationPolicy.RoundMethod.choices
    )
    invitation = models.CharField(
        _("参加家庭"), max_length=10, choices=Invitation.choices, default="head"
    )
    invite_count = models.PositiveIntegerField(_("邀请户数"), null=True, blank=True)
    # With the "priority" invitation: one group only (低保 …), or every group when blank.
    priority_group = models.CharField(
        _("优先群体"), max_length=12, blank=True, choices=Application.Priority.choices
    )
    units = models.ManyToManyField(Unit, through="RoundUnit", related_name="rounds")
    # Committed when announced (never changed after: see the trigger).
    participants_sha256 = models.CharField(_("参加名单哈希"), max_length=64, blank=True)
    lottery_name = models.CharField(_("随机数来源"), max_length=100, blank=True)
    lottery_date = models.DateField(_("开奖日期"), null=True, blank=True)
    lottery_sources = models.PositiveSmallIntegerField(_("随机数组数"), null=True, blank=True)
    announced_at = models.DateTimeField(_("公告时间"), null=True, blank=True)
    # Written once by the draw.
    seeds = models.JSONField(_("开奖号码"), null=True, blank=True)
    draw_order = models.JSONField(_("摇号顺序"), null=True, blank=True)
    drawn_at = models.DateTimeField(_("摇号时间"), null=True, blank=True)
    choosing_starts_at = models.DateTimeField(_("选房开始"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    announce_outbox = models.ForeignKey(
        "disclosure.Outbox", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    draw_outbox = models.ForeignKey(
        "disclosure.Outbox", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    result_outbox = models.ForeignKey(
        "disclosure.Outbox", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("配租批次")
        verbose_name_plural = _("配租批次")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["county", "status"], name="round_county_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | ~Q(participants_sha256=""),
                name="round_committed_when_announced",
            ),
            models.CheckConstraint(
                condition=~Q(method="lottery")
                | Q(status="draft")
                | Q(lottery_date__isnull=False, lottery_sources__gte=1),
                name="round_lottery_declared",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoundUnit(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="round_units")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "unit"], name="round_unit_unique")]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.unit_id}"


class Participant(models.Model):
    """A household invited to a round, at its place in the committed list."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="participants")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(_("名单序号"))
    public_key = models.CharField(_("公示编号"), max_length=8)

    class Meta:
        ordering = ["round", "position"]
        constraints = [
            models.UniqueConstraint(fields=["round", "household"], name="participant_once"),
            models.UniqueConstraint(fields=["round", "position"], name="participant_position"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}#{self.position} {self.public_key}"


class Slot(models.Model):
    """A household's turn to choose: its rank in the round's order and its time window."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("待选房")
        CHOSEN = "chosen", _("已选房")
        PASSED = "passed", _("放弃本轮")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="slots")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="slots")
    rank = models.PositiveIntegerField(_("选房顺序"))
    opens_at = models.DateTimeField(_("选房时段开始"))
    closes_at = models.DateTimeField(_("选房时段结束"))
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.WAITING
    )

    class Meta:
        ordering = ["round", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["round", "household"], name="slot_once"),
            models.UniqueConstraint(fields=["round", "rank"], name="slot_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}#{self.rank}"


class Offer(models.Model):
    """配租: a unit offered to a household, pending until accepted, refused or expired."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待确认")
        ACCEPTED = "accepted", _("已确认")
        REFUSED = "refused", _("已拒绝")
        EXPIRED = "expired", _("逾期未确认")

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上选房")
        COUNTER = "counter", _("现场选房")

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="offers")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="offers")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="offers")
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    channel = models.CharField(_("方式"), max_length=8, choices=Channel.choices)
    created_at = models.DateTimeField(_("选房时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("确认截止"))
    decided_at = models.DateTimeField(_("确认/拒绝时间"), null=True, blank=True)
    reason = models.TextField(_("拒绝理由"), blank=True)
    justified = models.BooleanField(_("理由正当"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("配租")
        verbose_name_plural = _("配租")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="pending"), name="offer_pending_idx"
            )
        ]
        constraints = [
            # Invariant 4: one pending offer per unit and per household, whatever the race.
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(status="pending"),
                name="one_pending_offer_per_unit",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status="pending"),
                name="one_pending_offer_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} → {self.unit_id} {self.get_status_display()}"
