"""Forms for applicants and counter staff: Chinese labels and errors next to the field."""

from django import forms
from django.forms import formset_factory
from django.forms.forms import NON_FIELD_ERRORS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from exchange.idcard import validate_id_number
from geo.models import Region
from housing.form_messages import HouseholdRows, NamedErrors
from housing.models import Application, EligibilityRule
from housing.places import PlaceTree


class PlaceSelect(forms.Select):
    """Place names are data: each option says it is Chinese, so an English page (and a screen
    reader) treats it as a name, not as untranslated text."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value):
            option["attrs"]["lang"] = "zh-Hans"
        return option


class PhoneForm(NamedErrors, forms.Form):
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


def _pk(value) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


class ApplicationForm(NamedErrors, forms.ModelForm):
    """The application; its place is chosen county → street → community, each list narrowed
    by the choice above (by the server on "更新选项", or by places.js as one chooses).

    A subclass may set `scope` (region pks) before rendering to offer only those places."""

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
            "county": _("申请区县"),
            "street": _("街道/乡镇"),
            "community": _("社区/村"),
            "consent": _(
                "我同意住房保障部门向公安、民政、不动产、人社、公积金、税务、市场监管、残联等部门查询本家庭信息，用于资格审核。"
            ),
        }
        widgets = {
            "id_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 18}),
            "county": PlaceSelect,
            "street": PlaceSelect,
            "community": PlaceSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, level in (
            ("county", Region.Level.DISTRICT),
            ("street", Region.Level.STREET),
            ("community", Region.Level.COMMUNITY),
        ):
            self.fields[name].queryset = Region.objects.filter(level=level).defer("boundary")
        # Callables: the lists are made when the form is shown, after a subclass set `scope`.
        self.fields["county"].choices = lambda: self.place_tree().county_choices()
        self.fields["street"].choices = lambda: self.place_tree().street_choices(
            self.chosen("county")
        )
        self.fields["community"].choices = lambda: self.place_tree().community_choices(
            self.chosen("county"), self.chosen("street")
        )
        self.fields["id_number"].help_text = _("18 位，最后一位可能是 X")

    def place_tree(self) -> PlaceTree:
        if getattr(self, "_tree", None) is None:
            self._tree = PlaceTree.load(getattr(self, "scope", None))
        return self._tree

    def chosen(self, name: str) -> int | None:
        """The county or street the form holds (posted, or from the draft), if any."""
        return _pk(self[name].value())

    def note(self, field: str | None, message: str) -> None:
        """Show a finding from outside the form (the departments' answer) by its field, also on
        the unbound form the prefill returns, where add_error cannot be used."""
        if self.is_bound:
            self.add_error(field, message)
            return
        key = field or NON_FIELD_ERRORS
        kind = "nonfield" if field is None else None
        self.errors.setdefault(key, self.error_class(error_class=kind, renderer=self.renderer))
        self.errors[key].append(message)

    def clean_id_number(self) -> str:
        number = self.cleaned_data["id_number"].strip().upper()
        if error := validate_id_number(number):
            raise forms.ValidationError(error)
        return number

    def clean(self):
        data = super().clean()
        county, street, community = data.get("county"), data.get("street"), data.get("community")
        if street and county and street.parent_id != county.pk:
            self.add_error(
                "street",
                gettext("所选“街道/乡镇”不在%(county)s：请在%(county)s的街道/乡镇中重新选择。")
                % {"county": county.name},
            )
        if community and street and community.parent_id != street.pk:
            self.add_error(
                "community",
                gettext("所选“社区/村”不在%(street)s：请在%(street)s的社区/村中重新选择。")
                % {"street": street.name},
            )
        return data


class MemberForm(NamedErrors, forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    relation = forms.CharField(label=_("关系"), max_length=20, required=False)
    id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False)

    def clean_id_number(self) -> str:
        number = self.cleaned_data["id_number"].strip().upper()
        if number and (error := validate_id_number(number)):
            raise forms.ValidationError(error)
        return number


MemberFormSet = formset_factory(MemberForm, formset=HouseholdRows, extra=0, max_num=12)
# At the counter the clerk types the household in: empty rows to fill.
CounterMemberFormSet = formset_factory(MemberForm, formset=HouseholdRows, extra=6, max_num=12)


class DecisionForm(NamedErrors, forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[("pass", _("通过")), ("return", _("退回补正")), ("reject", _("不予通过"))],
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(
        label=_("审核意见"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    expected_step = forms.CharField(widget=forms.HiddenInput)
    concealed = forms.BooleanField(
        label=_("不予通过的原因是隐瞒或虚报（同时拟认定失信，告知申请人并开始异议期）"),
        required=False,
    )


class SelfCheckForm(NamedErrors, forms.Form):
    """The public self-check: a visitor types the facts, the county's rules answer."""

    county = forms.ModelChoiceField(
        label=_("申请区县"),
        queryset=Region.objects.none(),
        empty_label=_("请选择区县"),
        widget=PlaceSelect,
    )
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
