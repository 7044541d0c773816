"""Forms for applicants and counter staff: Chinese labels and errors next to the field."""

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from exchange.idcard import validate_id_number
from geo.models import Region
from housing.models import Application, EligibilityRule


class PhoneForm(forms.Form):
    phone = forms.RegexField(
        label=_("手机号"),
        regex=r"^1[3-9]\d{9}$",
        max_length=11,
        error_messages={"invalid": _("请输入 11 位手机号码")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )


class CodeForm(PhoneForm):
    code = forms.RegexField(
        label=_("短信验证码"),
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"invalid": _("验证码为 6 位数字")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def _grouped(level: str) -> list:
    choices: dict[str, list] = {}
    for pk, name, parent in (
        Region.objects.filter(level=level)
        .values_list("pk", "name", "parent__name")
        .order_by("adcode")
    ):
        choices.setdefault(parent, []).append((pk, name))
    return [("", "——"), *choices.items()]


class ApplicationForm(forms.ModelForm):
    priorities = forms.MultipleChoiceField(
        label=_("优先条件（如有）"),
        choices=Application.Priority.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Application
        fields = [
            "name",
            "id_number",
            "county",
            "street",
            "community",
            "housing_situation",
            "current_area",
            "employer",
            "monthly_income",
            "priorities",
            "consent",
        ]
        labels = {
            "consent": _(
                "我同意住房保障部门向公安、民政、不动产、人社、公积金、税务、市场监管、残联等部门查询本家庭信息，用于资格审核。"
            )
        }
        widgets = {"id_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 18})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = Region.objects.filter(level="district").defer("boundary")
        self.fields["street"].choices = _grouped(Region.Level.STREET)
        self.fields["community"].choices = _grouped(Region.Level.COMMUNITY)
        self.fields["id_number"].help_text = _("18 位，最后一位可能是 X")

    def clean_id_number(self) -> str:
        number = self.cleaned_data["id_number"].strip().upper()
        if error := validate_id_number(number):
            raise forms.ValidationError(error)
        return number

    def clean(self):
        data = super().clean()
        county, street, community = data.get("county"), data.get("street"), data.get("community")
        if street and county and street.parent_id != county.pk:
            self.add_error("street", _("该街道/乡镇不属于所选区县"))
        if community and street and community.parent_id != street.pk:
            self.add_error("community", _("该社区不属于所选街道/乡镇"))
        return data


class MemberForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    relation = forms.CharField(label=_("关系"), max_length=20, required=False)
    id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False)

    def clean_id_number(self) -> str:
        number = self.cleaned_data["id_number"].strip().upper()
        if number and (error := validate_id_number(number)):
            raise forms.ValidationError(error)
        return number


MemberFormSet = formset_factory(MemberForm, extra=0, max_num=12)
# At the counter the clerk types the household in: empty rows to fill.
CounterMemberFormSet = formset_factory(MemberForm, extra=6, max_num=12)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[("pass", _("通过")), ("return", _("退回补正")), ("reject", _("不予通过"))],
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(
        label=_("审核意见"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    expected_step = forms.CharField(widget=forms.HiddenInput)


class SelfCheckForm(forms.Form):
    """The public self-check: a visitor types the facts, the county's rules answer."""

    county = forms.ModelChoiceField(label=_("申请区县"), queryset=Region.objects.none())
    members = forms.IntegerField(label=_("家庭人口"), min_value=1, max_value=20)
    monthly_income = forms.DecimalField(label=_("家庭月收入（元）"), min_value=0, max_digits=10)
    property_area = forms.DecimalField(
        label=_("家庭自有住房面积合计（㎡，无则填 0）"), min_value=0, max_digits=8
    )
    property_count = forms.IntegerField(label=_("自有住房套数"), min_value=0, max_value=50)
    vehicle_value = forms.DecimalField(
        label=_("机动车价值合计（元，无则填 0）"), min_value=0, max_digits=12
    )
    business_count = forms.IntegerField(
        label=_("本人或家庭成员登记的企业数"), min_value=0, max_value=50
    )
    residence_years = forms.IntegerField(label=_("本地户籍年限"), min_value=0, max_value=120)
    insured_years = forms.DecimalField(
        label=_("本地社保缴纳年限"), min_value=0, max_value=60, max_digits=4, decimal_places=1
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        counties = EligibilityRule.objects.values_list("county", flat=True)
        self.fields["county"].queryset = Region.objects.filter(pk__in=counties).defer("boundary")
