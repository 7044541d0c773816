"""Forms of 配租管理: what staff type for a round, its announcement, draw, choosing and a
refusal. Whether the values make sense for the round is the services' to say."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocation.models import AllocationPolicy, Round
from allocation.services import rounds
from housing.models import Application


class DescribedForm(forms.Form):
    """Inputs point at their help text (`help-<name>` in the templates) for screen readers."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs.setdefault("aria-describedby", f"help-{name}")


class UnitIdsField(forms.Field):
    """The ticked unit ids; which of them may go into the round is the service's to say."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        try:
            return [int(v) for v in value or []]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("所选房源无效，请重新选择。")) from None


class RoundForm(DescribedForm):
    name = forms.CharField(label=_("批次名称"), max_length=100)
    method = forms.ChoiceField(
        label=_("选房顺序"),
        choices=AllocationPolicy.RoundMethod.choices,
        widget=forms.RadioSelect,
    )
    invitation = forms.ChoiceField(
        label=_("参加家庭"), choices=Round.Invitation.choices, widget=forms.RadioSelect
    )
    invite_count = forms.IntegerField(
        label=_("邀请户数"),
        min_value=1,
        required=False,
        help_text=_("选择“轮候名单前若干户”时填写：按轮候顺序邀请户型相符的家庭。"),
    )
    priority_group = forms.ChoiceField(
        label=_("优先群体"),
        choices=[("", _("全部优先群体")), *Application.Priority.choices],
        required=False,
        help_text=_("选择“优先轮候群体”时可只邀请其中一类。"),
    )
    units = UnitIdsField(required=False)


class AnnounceForm(DescribedForm):
    """The declared entropy source; the service decides what a lottery round must have."""

    lottery_name = forms.CharField(
        label=_("随机数来源"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("例如：中国福利彩票双色球第 2026140 期")}),
    )
    lottery_date = forms.DateField(
        label=_("开奖日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=_("须在今天以后：公告时无人能知道开奖号码。"),
    )
    lottery_sources = forms.IntegerField(
        label=_("随机数组数"),
        min_value=1,
        max_value=rounds.MAX_SOURCES,
        initial=2,
        required=False,
        help_text=_("开奖号码分几组录入（例如双色球：红球一组、蓝球一组）。"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        tomorrow = timezone.localdate() + timedelta(days=1)
        self.fields["lottery_date"].widget.attrs["min"] = tomorrow.isoformat()


class DrawForm(forms.Form):
    seeds = forms.CharField(
        label=_("开奖号码（每组一行）"),
        widget=forms.Textarea,
        error_messages={"required": _("请输入开奖号码，每组一行。")},
    )


class OpenForm(DescribedForm):
    starts_at = forms.DateTimeField(
        label=_("选房开始时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("不填则立即开始；各户按顺序依次获得选房时段。"),
    )


class RefuseForm(forms.Form):
    reason = forms.CharField(label=_("放弃理由"), max_length=500, required=False)
    justified = forms.BooleanField(label=_("理由正当（不计拒绝次数）"), required=False)
