"""Back-office forms: Chinese labels and errors, geometry checked before anything is saved."""

from decimal import Decimal

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.gis import forms as gis_forms
from django.utils.translation import gettext_lazy as _

from geo.jurisdiction import region_scope
from geo.models import Estate, Operator, Region, Unit
from geo.services import Layout
from geo.widgets import LocalMapWidget


class StaffLoginForm(AuthenticationForm):
    """Django's sign-in with our wording; django-axes, the first authentication backend,
    refuses a locked username and address before any password is checked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。"),
    }


class EstateForm(forms.ModelForm):
    facilities_text = forms.CharField(
        label=_("配套设施"), required=False, help_text=_("用顿号或逗号分隔，例如：幼儿园、停车场")
    )

    class Meta:
        model = Estate
        fields = [
            "name",
            "address",
            "district",
            "street",
            "community",
            "operator",
            "year_built",
            "description",
            "boundary",
            "location",
        ]
        widgets = {
            "boundary": LocalMapWidget(attrs={"geom_type": "POLYGON"}),
            "location": LocalMapWidget(attrs={"geom_type": "POINT"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = Region.objects.filter(region_scope(user)).defer("boundary")
        self.fields["district"].queryset = regions.filter(level=Region.Level.DISTRICT)
        self.fields["street"].queryset = regions.filter(level=Region.Level.STREET)
        self.fields["community"].queryset = regions.filter(level=Region.Level.COMMUNITY)
        profile = getattr(user, "staff_profile", None)
        if profile is not None and profile.operator_id:
            # An operator keeps its own estates; where they lie is the department's call.
            # (Disabled fields still validate their value against the queryset.)
            for name in ("district", "street", "community"):
                self.fields[name].queryset = Region.objects.filter(
                    pk=getattr(self.instance, f"{name}_id")
                ).defer("boundary")
                self.fields[name].disabled = True
            self.fields["operator"].queryset = Operator.objects.filter(pk=profile.operator_id)
            self.fields["operator"].disabled = True
        if not (profile is not None and profile.operator_id):
            self.fields["operator"].queryset = Operator.objects.all()
        self.fields["location"].help_text = _("在地图上点选项目入口或中心位置")
        self.fields["boundary"].help_text = _("在地图上绘制用地边界（可选）")
        if self.instance.pk:
            self.initial["facilities_text"] = "、".join(self.instance.facilities or [])

    def clean(self):
        data = super().clean()
        district, street, community = (
            data.get("district"),
            data.get("street"),
            data.get("community"),
        )
        location, boundary = data.get("location"), data.get("boundary")
        if street and district and street.parent_id != district.pk:
            self.add_error("street", _("该街道不属于所选区县。"))
        if community and street and community.parent_id != street.pk:
            self.add_error("community", _("该社区不属于所选街道。"))
        if boundary is not None and not boundary.valid:
            self.add_error(
                "boundary",
                _("边界图形无效（%(reason)s），请重新绘制。") % {"reason": boundary.valid_reason},
            )
        in_district = (
            district is None
            or location is None
            or Region.objects.filter(pk=district.pk, boundary__intersects=location).exists()
        )
        if not in_district:
            self.add_error("location", _("位置不在所选区县范围内。"))
        near_site = location is None or boundary is None or not boundary.valid
        if not near_site and not boundary.buffer(0.0005).contains(location):
            self.add_error("location", _("位置应在用地边界内或紧邻边界。"))
        text = data.get("facilities_text") or ""
        self.instance.facilities = [
            item.strip()
            for item in text.replace("，", "、").replace(",", "、").split("、")
            if item.strip()
        ]
        return data


class UnitStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("新状态"),
        choices=[
            (Unit.Status.VACANT, _("空置（可分配）")),
            (Unit.Status.REPAIR, _("维修中")),
            (Unit.Status.WITHHELD, _("暂不分配")),
        ],
    )
    reason = forms.CharField(
        label=_("原因"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500
    )
    expected = forms.CharField(widget=forms.HiddenInput)


ORIENTATIONS = Unit.Orientation.choices
MAX_POSITIONS = 8


class BuildingBatchForm(forms.Form):
    """One building and its units: floors, units per floor, and the layout at each position."""

    number = forms.CharField(label=_("楼号"), max_length=20)
    floor_from = forms.IntegerField(label=_("起始楼层"), min_value=1, max_value=200, initial=1)
    floor_to = forms.IntegerField(label=_("最高楼层"), min_value=1, max_value=200, initial=18)
    per_floor = forms.IntegerField(
        label=_("每层户数"), min_value=1, max_value=MAX_POSITIONS, initial=6
    )
    elevator = forms.BooleanField(label=_("有电梯"), required=False, initial=True)
    rent_per_m2 = forms.DecimalField(
        label=_("租金标准（元/㎡·月）"),
        min_value=Decimal("0.1"),
        max_digits=6,
        decimal_places=2,
        initial=Decimal("10"),
    )
    footprint = gis_forms.PolygonField(
        label=_("楼栋轮廓"), required=False, srid=4326, widget=LocalMapWidget()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for pos in range(1, MAX_POSITIONS + 1):
            self.fields[f"p{pos}_rooms"] = forms.IntegerField(
                label=_("%(n)s号位 室") % {"n": pos},
                min_value=0,
                max_value=6,
                initial=2 if pos in (1, 6) else 1,
                required=False,
            )
            self.fields[f"p{pos}_area"] = forms.DecimalField(
                label=_("%(n)s号位 面积㎡") % {"n": pos},
                min_value=Decimal("5"),
                max_value=Decimal("300"),
                max_digits=6,
                decimal_places=2,
                initial=Decimal("55") if pos in (1, 6) else Decimal("40"),
                required=False,
            )
            self.fields[f"p{pos}_orientation"] = forms.ChoiceField(
                label=_("%(n)s号位 朝向") % {"n": pos},
                choices=ORIENTATIONS,
                initial="SN" if pos in (1, 6) else "S",
                required=False,
            )

    MAIN = ("number", "floor_from", "floor_to", "per_floor", "elevator", "rent_per_m2", "footprint")

    @property
    def main_fields(self) -> list:
        return [self[name] for name in self.MAIN]

    def position_rows(self) -> list[list]:
        return [
            [self[f"p{pos}_rooms"], self[f"p{pos}_area"], self[f"p{pos}_orientation"]]
            for pos in range(1, MAX_POSITIONS + 1)
        ]

    def clean(self):
        data = super().clean()
        low, high = data.get("floor_from"), data.get("floor_to")
        if low and high and low > high:
            self.add_error("floor_to", _("最高楼层不能低于起始楼层。"))
        for pos in range(1, (data.get("per_floor") or 0) + 1):
            for part in ("rooms", "area"):
                if data.get(f"p{pos}_{part}") in (None, ""):
                    self.add_error(
                        f"p{pos}_{part}", _("第 %(n)s 号位的户型需要填写。") % {"n": pos}
                    )
        return data

    def layouts(self) -> list[Layout]:
        d = self.cleaned_data
        return [
            Layout(
                rooms=d[f"p{pos}_rooms"],
                halls=1,
                baths=1,
                area=d[f"p{pos}_area"],
                orientation=d[f"p{pos}_orientation"] or "S",
                accessible_on_ground_floor=d["elevator"],
            )
            for pos in range(1, d["per_floor"] + 1)
        ]
