"""Applications for public rental housing and their review, with the county rules as data."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from archive.fields import BlindIndexField, EncryptedCharField, EncryptedJSONField
from geo.models import Region

DEFAULT_CHAIN = [
    {"step": "accept", "label": "受理", "role": "community", "days": 2},
    {"step": "first_review", "label": "初审", "role": "street", "days": 5},
    {"step": "data_check", "label": "联审（大数据比对）", "role": "district", "days": 3},
    {"step": "second_review", "label": "复审", "role": "district", "days": 5},
    {"step": "publicity", "label": "公示", "role": "district", "days": 0},
]


def default_chain() -> list[dict]:
    return [dict(step) for step in DEFAULT_CHAIN]


class CountyPolicy(models.Model):
    """What a county decides for itself: its review chain and publicity period."""

    county = models.OneToOneField(
        Region, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="housing_policy"
    )
    publicity_working_days = models.PositiveSmallIntegerField(_("公示期（工作日）"), default=7)
    review_chain = models.JSONField(_("审核流程"), default=default_chain)

    class Meta:
        verbose_name = _("区县保障政策")
        verbose_name_plural = _("区县保障政策")
        constraints = [
            models.CheckConstraint(
                condition=Q(publicity_working_days__gte=7), name="publicity_at_least_7_days"
            )
        ]

    def __str__(self) -> str:
        return str(self.county)

    def step(self, key: str) -> dict | None:
        return next((s for s in self.review_chain if s["step"] == key), None)

    def next_step(self, key: str) -> str | None:
        keys = [s["step"] for s in self.review_chain]
        index = keys.index(key)
        return keys[index + 1] if index + 1 < len(keys) else None


class EligibilityRule(models.Model):
    """One criterion of a county's eligibility rules, applied to values found in the data."""

    class Criterion(models.TextChoices):
        INCOME_PER_HEAD = "income_per_head", _("家庭人均月收入")
        AREA_PER_HEAD = "area_per_head", _("人均自有住房面积")
        PROPERTY_COUNT = "property_count", _("自有住房套数")
        VEHICLE_VALUE = "vehicle_value", _("机动车价值合计")
        BUSINESS_COUNT = "business_count", _("登记企业数")
        RESIDENCE_YEARS = "residence_years", _("本地户籍年限")
        INSURED_YEARS = "insured_years", _("本地社保缴纳年限（就业年限）")

    class Operator(models.TextChoices):
        AT_MOST = "lte", _("不超过")
        AT_LEAST = "gte", _("不少于")

    county = models.ForeignKey(Region, verbose_name=_("区县"), on_delete=models.PROTECT)
    criterion = models.CharField(_("条件"), max_length=20, choices=Criterion.choices)
    operator = models.CharField(_("比较"), max_length=3, choices=Operator.choices)
    threshold = models.DecimalField(_("标准"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("准入条件")
        verbose_name_plural = _("准入条件")
        ordering = ["county", "criterion"]
        constraints = [
            models.UniqueConstraint(fields=["county", "criterion"], name="rule_per_criterion")
        ]

    def __str__(self) -> str:
        rule = f"{self.get_criterion_display()} {self.get_operator_display()} {self.threshold}"
        return f"{self.county} {rule}{self.unit}"


class Applicant(models.Model):
    """A resident who signs in with a phone number and a one-time code."""

    phone = EncryptedCharField(_("手机号"), max_length=11, index="phone_index")
    phone_index = BlindIndexField(source="phone", unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("申请人账户")
        verbose_name_plural = _("申请人账户")

    def __str__(self) -> str:
        return self.phone[:3] + "****" + self.phone[-4:]


class OneTimeCode(models.Model):
    """A six-digit code sent by SMS, for one purpose: signing in, or confirming a contract."""

    phone = EncryptedCharField(max_length=11, index="phone_index")
    phone_index = BlindIndexField(source="phone")
    purpose = models.CharField(max_length=40, default="sign-in")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        indexes = [models.Index(fields=["phone_index", "created_at"], name="otp_phone_idx")]

    def __str__(self) -> str:
        return f"code for {self.phone[:3]}****"


class SmsMessage(models.Model):
    """Messages the default SMS backend 'sent': the development inbox."""

    phone = EncryptedCharField(max_length=11, index="phone_index")
    phone_index = BlindIndexField(source="phone", db_index=True)
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = _("短信")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]}: {self.text}"


def public_key() -> str:
    """An opaque key for publicity lists: the application number is never published, so the
    public status lookup cannot be guessed from a notice."""
    return secrets.token_hex(4).upper()


class Application(models.Model):
    class Stage(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ACCEPT = "accept", _("待受理")
        FIRST_REVIEW = "first_review", _("初审")
        DATA_CHECK = "data_check", _("联审（大数据比对）")
        SECOND_REVIEW = "second_review", _("复审")
        PUBLICITY = "publicity", _("公示")
        APPROVED = "approved", _("审批通过")
        REJECTED = "rejected", _("未通过")

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上申请")
        COUNTER = "counter", _("窗口申请")

    class Priority(models.TextChoices):
        DIBAO = "dibao", _("低保/特困家庭")
        DISABILITY = "disability", _("残疾人家庭")
        ELDERLY = "elderly", _("老年人家庭")
        SPECIAL_JOB = "special_job", _("环卫、公交等特殊行业职工")

    number = models.CharField(_("申请编号"), max_length=20, unique=True)
    public_key = models.CharField(_("公示编号"), max_length=8, unique=True, default=public_key)
    applicant = models.ForeignKey(
        Applicant, on_delete=models.PROTECT, null=True, blank=True, related_name="applications"
    )
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices, default="online")
    name = models.CharField(_("申请人姓名"), max_length=50)
    id_number = EncryptedCharField(_("身份证号"), max_length=18, index="id_index")
    id_index = BlindIndexField(source="id_number")
    phone = EncryptedCharField(_("联系电话"), max_length=11)
    county = models.ForeignKey(
        Region, verbose_name=_("申请区县"), on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        Region, verbose_name=_("街道/乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    community = models.ForeignKey(
        Region, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    housing_situation = models.CharField(_("现住房情况"), max_length=100, blank=True)
    current_area = models.DecimalField(
        _("现住房面积（㎡）"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    monthly_income = models.DecimalField(
        _("家庭月收入（元）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    priorities = models.JSONField(_("优先条件"), default=list, blank=True)
    consent = models.BooleanField(_("同意查询部门数据"), default=False)
    prefilled = EncryptedJSONField(_("部门数据预填"), default=dict, blank=True)
    stage = models.CharField(_("办理环节"), max_length=15, choices=Stage.choices, default="draft")
    returned = models.BooleanField(_("退回补正"), default=False)
    stage_deadline = models.DateTimeField(_("本环节时限"), null=True, blank=True)
    rejection_reasons = models.TextField(_("未通过原因"), blank=True)
    review_outbox = models.ForeignKey(
        "disclosure.Outbox", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("保障申请")
        verbose_name_plural = _("保障申请")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["stage", "county"], name="application_queue_idx"),
            models.Index(fields=["id_index"], name="application_person_idx"),
            # 统计分析: applications submitted and decided per county and period.
            models.Index(fields=["county", "submitted_at"], name="application_submitted_idx"),
            models.Index(fields=["county", "decided_at"], name="application_decided_idx"),
        ]
        constraints = [
            # One case at a time per person: a new one only after the last was refused.
            models.UniqueConstraint(
                fields=["id_index"],
                condition=~Q(stage__in=["draft", "rejected"]),
                name="one_open_application",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def priority_labels(self) -> list[str]:
        labels = dict(self.Priority.choices)
        return [str(labels[p]) for p in self.priorities if p in labels]


class Member(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("与申请人关系"), max_length=20)
    id_number = EncryptedCharField(_("身份证号"), max_length=18, blank=True)

    class Meta:
        verbose_name = _("申请家庭成员")
        verbose_name_plural = _("申请家庭成员")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ReviewStep(models.Model):
    """One decision on the review chain: who, at which step, what, and why."""

    class Decision(models.TextChoices):
        SUBMIT = "submit", _("提交")
        PASS = "pass", _("通过")
        RETURN = "return", _("退回补正")
        REJECT = "reject", _("不予通过")
        APPROVE = "approve", _("公示无异议，审批通过")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(_("环节"), max_length=15)
    decision = models.CharField(_("结论"), max_length=8, choices=Decision.choices)
    opinion = models.TextField(_("意见"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["decided_at", "id"]
        # A case's decisions in order: the one before a decision is one index probe (审核时效).
        indexes = [
            models.Index(
                fields=["application", "decided_at", "id"], name="reviewstep_case_order_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.step} {self.decision}"

    @property
    def step_label(self) -> str:
        return (
            Application.Stage(self.step).label
            if self.step in Application.Stage.values
            else self.step
        )


class DataCheck(models.Model):
    """联审: every source queried, every rule applied, the table staff decide on."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="checks")
    performed_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    results = models.JSONField(default=list)
    passed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"{self.application_id} {'通过' if self.passed else '未通过'}"


class Relation(models.TextChoices):
    """家庭关系代码 after GB/T 4761-2008 (the two-digit groups), so exchanges with departments
    and the national standard speak the same codes."""

    SELF = "01", _("本人")
    SPOUSE = "10", _("配偶")
    SON = "20", _("子")
    DAUGHTER = "30", _("女")
    GRANDCHILD = "40", _("孙子女或外孙子女")
    PARENT = "50", _("父母")
    GRANDPARENT = "60", _("祖父母或外祖父母")
    SIBLING = "70", _("兄弟姐妹")
    OTHER_RELATIVE = "80", _("其他亲属")
    NON_RELATIVE = "99", _("非亲属")


class Household(models.Model):
    """保障对象: an approved household, created once from its application; waitlists, tenancy,
    credit and 一户一档 hang on it while the application keeps its own history."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("轮候中")
        ALLOCATED = "allocated", _("已配租")
        EXITED = "exited", _("已退出保障")

    # The application's key is the household's: archive events of the case (recorded under
    # household_id = application id) and of the household form one 一户一档.
    application = models.OneToOneField(
        Application,
        verbose_name=_("保障申请"),
        on_delete=models.PROTECT,
        related_name="household",
        primary_key=True,
    )
    public_key = models.CharField(_("公示编号"), max_length=8, unique=True)
    applicant = models.ForeignKey(
        Applicant, on_delete=models.PROTECT, null=True, blank=True, related_name="households"
    )
    head_name = models.CharField(_("申请人姓名"), max_length=50)
    head_id_number = EncryptedCharField(_("申请人身份证号"), max_length=18, index="head_id_index")
    head_id_index = BlindIndexField(source="head_id_number")
    phone = EncryptedCharField(_("联系电话"), max_length=11)
    county = models.ForeignKey(
        Region, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        Region, verbose_name=_("街道/乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    community = models.ForeignKey(
        Region, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    size = models.PositiveSmallIntegerField(_("家庭人口"))
    priorities = models.JSONField(_("优先条件"), default=list, blank=True)
    approved_at = models.DateTimeField(_("审批通过时间"))
    status = models.CharField(
        _("保障状态"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("保障对象")
        verbose_name_plural = _("保障对象")
        ordering = ["approved_at", "pk"]
        indexes = [
            models.Index(fields=["county", "status"], name="household_county_idx"),
            models.Index(fields=["head_id_index"], name="household_person_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=1), name="household_size_positive"),
            # One household per person under protection at a time.
            models.UniqueConstraint(
                fields=["head_id_index"],
                condition=~Q(status="exited"),
                name="one_active_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_key} {self.head_name}"

    @property
    def priority_labels(self) -> list[str]:
        labels = dict(Application.Priority.choices)
        return [str(labels[p]) for p in self.priorities if p in labels]


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("与申请人关系"), max_length=2, choices=Relation.choices)
    relation_text = models.CharField(_("关系（登记原文）"), max_length=20, blank=True)
    id_number = EncryptedCharField(_("身份证号"), max_length=18, blank=True)

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["relation", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_relation_display()}）"


class IdentityClaim(models.Model):
    """本人认领: a resident whose submission is blocked by their own ID number (a case from
    another phone holds it, or the platform registered another phone) asks the county to
    verify them in person instead of meeting a dead end."""

    class Reason(models.TextChoices):
        CLASH = "clash", _("该身份证号已有其他手机号提交的申请")
        PHONE = "phone", _("登录手机号与部门登记的手机号不一致")

    class Status(models.TextChoices):
        PENDING = "pending", _("待核实")
        ACCEPTED = "accepted", _("认领成立")
        REFUSED = "refused", _("认领不成立")

    claimant = models.ForeignKey(
        Applicant, verbose_name=_("认领人账户"), on_delete=models.PROTECT, related_name="claims"
    )
    application = models.ForeignKey(
        Application,
        verbose_name=_("认领人的申请"),
        on_delete=models.PROTECT,
        related_name="identity_claims",
    )
    other = models.ForeignKey(
        Application,
        verbose_name=_("占用该身份证号的申请"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    id_number = EncryptedCharField(_("身份证号"), max_length=18, index="id_index")
    id_index = BlindIndexField(source="id_number")
    reason = models.CharField(_("原因"), max_length=8, choices=Reason.choices)
    statement = models.TextField(_("情况说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    opinion = models.TextField(_("核实意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("身份认领")
        verbose_name_plural = _("身份认领")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="claim_queue_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["claimant", "id_index"],
                condition=Q(status="pending"),
                name="one_pending_claim",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.id_number[:6]}********"


class InboxMessage(models.Model):
    """站内信: a message to a resident's account, read on /my/messages/; the SMS that goes with
    it is only a nudge, so the full text and its link stay here."""

    applicant = models.ForeignKey(
        Applicant, verbose_name=_("收件人"), on_delete=models.CASCADE, related_name="messages"
    )
    subject = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内信")
        verbose_name_plural = _("站内信")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["applicant", "-created_at"], name="inbox_applicant_idx"),
            models.Index(
                fields=["applicant"], condition=Q(read_at__isnull=True), name="inbox_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class MessageTemplate(models.Model):
    """The words of one message the system sends residents (站内信 and SMS), as data a city's
    administrator edits; the shipped defaults live in data/message-templates.json."""

    class Channel(models.TextChoices):
        INBOX = "inbox", _("站内信和短信")
        SMS = "sms", _("仅短信")

    code = models.CharField(_("代码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    purpose = models.CharField(_("用途"), max_length=300, blank=True)
    channel = models.CharField(_("发送方式"), max_length=10, choices=Channel.choices)
    subject = models.CharField(_("站内信标题"), max_length=200, blank=True)
    body = models.TextField(_("站内信内容"), blank=True)
    sms = models.TextField(_("短信内容"), blank=True)
    # name -> {"label", "sample"}: what the code passes; nothing else may appear in the texts.
    placeholders = models.JSONField(_("可用占位符"), default=dict, blank=True)
    required = models.JSONField(_("必须包含的占位符"), default=list, blank=True)
    one_segment = models.BooleanField(_("限一条短信（70 字）"), default=False)
    customised = models.BooleanField(_("已由本市修改"), default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("修改时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CasePush(models.Model):
    """办件状态推送: one step of a case waiting for (or delivered to) the platform's personal
    centre. A trigger on housing_application writes it in the transaction that changed the step
    (migration 0011), so no code path can forget it; housing.case_push sends it."""

    key = models.UUIDField(_("幂等键"), unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(_("办理环节"), max_length=15, choices=Application.Stage.choices)
    returned = models.BooleanField(_("退回补正"))
    occurred_at = models.DateTimeField(_("发生时间"))
    attempts = models.PositiveIntegerField(_("推送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次推送时间"))
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True, default="")
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("办件状态推送")
        verbose_name_plural = _("办件状态推送")
        ordering = ["id"]
        indexes = [
            # The sweep: pushes due, oldest first; a case's pending pushes in order.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivered_at__isnull=True),
                name="casepush_due_idx",
            ),
            models.Index(
                fields=["application", "id"],
                condition=Q(delivered_at__isnull=True),
                name="casepush_case_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.stage} {self.key}"
