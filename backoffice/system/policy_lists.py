"""The county rules that are lists (priority groups, unit sizes by household, subsidy tiers,
reminder days), edited as rows of plain inputs with blank rows to add: no JavaScript needed.

Every error names the row and the column, and a form with any error writes nothing.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from housing.models import Application

PRIORITY_LABELS = dict(Application.Priority.choices)
MAX_ROWS = 30
INCOME_KIND = "income"
CENT = Decimal("0.01")


class ReasonForm(forms.Form):
    """Every section of the policy page: which section, and why it changes (the history)."""

    section = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("修改原因（记入历史）"),
        max_length=300,
        error_messages={"required": _("修改原因：请写明修改原因。")},
    )


def _row_label(index: int, column: str) -> str:
    return f"第 {index + 1} 行 {column}"


class RowsForm(ReasonForm):
    """A list as rows: `columns` are (name, label, field factory); blank rows are skipped."""

    key = ""  # the policy field the list is saved in
    columns: list = []
    blank_rows = 2
    fixed_rows: int | None = None  # a list of known length (the priority groups) shows these

    def __init__(self, *args, county, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rows = list((self.initial or {}).get(self.key) or [])
        if self.fixed_rows is not None:
            count = self.fixed_rows
        elif self.is_bound:
            try:
                count = int(self.data.get("rows", 0))
            except (TypeError, ValueError):
                count = 0
            count = max(0, min(count, MAX_ROWS))
        else:
            count = min(len(rows) + self.blank_rows, MAX_ROWS)
        self.fields["rows"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
        self.initial["rows"] = count
        self.row_count = count
        for i in range(count):
            values = self.row_initial(rows[i]) if i < len(rows) else {}
            for name, label, make in self.columns:
                field = make(_row_label(i, label))
                field.required = False
                field.widget.attrs["aria-label"] = _row_label(i, label)
                self.fields[f"r{i}-{name}"] = field
                if name in values:
                    self.initial[f"r{i}-{name}"] = values[name]

    def row_initial(self, item) -> dict:
        return dict(item) if isinstance(item, dict) else {}

    def header(self) -> list[str]:
        return [str(label) for _name, label, _make in self.columns]

    def table(self) -> list[list[tuple[str, object]]]:
        """Each row's (column label, bound field), for the template."""
        return [
            [(str(label), self[f"r{i}-{name}"]) for name, label, _make in self.columns]
            for i in range(self.row_count)
        ]

    def row_errors(self) -> list[str]:
        """The rows' errors, in row order (each names its row and column)."""
        return [
            str(e)
            for name, errors in self.errors.items()
            if name.startswith("r") and "-" in name
            for e in errors
        ]

    def clean(self) -> dict:
        data = super().clean()
        items = []
        for i in range(self.row_count):
            row = {name: data.get(f"r{i}-{name}") for name, _label, _make in self.columns}
            if all(v in (None, "") for v in row.values()):
                continue
            if any(f"r{i}-{name}" in self.errors for name, _l, _m in self.columns):
                continue
            item = self.clean_row(i, row)
            if item is not None:
                items.append((i, item))
        if not self.errors:
            self.check_list(items)
        self.items = [item for _i, item in items]
        return data

    def clean_row(self, index: int, row: dict):
        raise NotImplementedError

    def check_list(self, items: list) -> None:
        """Rules across rows (order, duplicates); errors go on the row at fault."""

    def error(self, index: int, name: str, message: str) -> None:
        label = next(str(lb) for n, lb, _m in self.columns if n == name)
        self.add_error(f"r{index}-{name}", f"{_row_label(index, label)}：{message}")

    def values(self) -> dict:
        return {self.key: self.items}


def _whole(low: int, high: int):
    def make(label: str) -> forms.Field:
        return forms.IntegerField(
            min_value=low,
            max_value=high,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            error_messages={
                "invalid": f"{label}：请填写整数。",
                "min_value": f"{label}：不得小于 {low}。",
                "max_value": f"{label}：不得大于 {high}。",
            },
        )

    return make


def _choice(choices):
    def make(label: str) -> forms.Field:
        return forms.ChoiceField(
            choices=[("", "—"), *choices],
            error_messages={"invalid_choice": f"{label}：请从列表中选择。"},
        )

    return make


def _amount(label: str) -> forms.Field:
    return forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class PriorityGroupsForm(RowsForm):
    """优先轮候群体, in order: the first listed is served first."""

    key = "priority_groups"
    columns = [("group", _("优先群体"), _choice(Application.Priority.choices))]
    fixed_rows = len(Application.Priority.choices)

    def row_initial(self, item) -> dict:
        return {"group": item}

    def clean_row(self, index: int, row: dict):
        return row["group"]

    def check_list(self, items: list) -> None:
        seen: dict[str, int] = {}
        for index, group in items:
            if group in seen:
                self.error(
                    index,
                    "group",
                    f"“{PRIORITY_LABELS[group]}”已在第 {seen[group] + 1} 行列出。",
                )
            seen.setdefault(group, index)


class SizeRulesForm(RowsForm):
    """户型配租标准: household sizes up to a bound → the rooms a unit may have."""

    key = "size_rules"
    columns = [
        ("members_up_to", _("家庭人口不超过（人，末行留空为不限）"), _whole(1, 20)),
        ("min_rooms", _("最少居室"), _whole(1, 10)),
        ("max_rooms", _("最多居室"), _whole(1, 10)),
    ]

    def clean_row(self, index: int, row: dict):
        for name in ("min_rooms", "max_rooms"):
            if row[name] is None:
                self.error(index, name, "请填写。")
                return None
        if row["min_rooms"] > row["max_rooms"]:
            self.error(index, "max_rooms", "不得小于最少居室。")
            return None
        return {
            "members_up_to": row["members_up_to"],
            "min_rooms": row["min_rooms"],
            "max_rooms": row["max_rooms"],
        }

    def check_list(self, items: list) -> None:
        if not items:
            self.add_error(None, "户型配租标准：至少填写一行。")
            return
        last = None
        for position, (index, rule) in enumerate(items):
            bound = rule["members_up_to"]
            final = position == len(items) - 1
            if bound is None and not final:
                self.error(index, "members_up_to", "只有最后一行可以留空（不限）。")
                return
            if bound is not None and final:
                self.error(index, "members_up_to", "最后一行须留空，适用于更多人口的家庭。")
                return
            if bound is not None and last is not None and bound <= last:
                self.error(index, "members_up_to", f"须大于上一行的 {last} 人。")
                return
            last = bound


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() else None


class SubsidyTiersForm(RowsForm):
    """租金补贴档次 (tenancy.subsidy): the first tier that applies to a household wins."""

    key = "subsidy_tiers"
    columns = [
        (
            "kind",
            _("适用对象"),
            _choice(
                [(f"priority:{v}", label) for v, label in Application.Priority.choices]
                + [(INCOME_KIND, _("按人均月收入"))]
            ),
        ),
        ("income_below", _("人均月收入低于（元，收入档）"), _amount),
        ("tenant_share", _("承租人负担比例（群体档，0–1）"), _amount),
        ("subsidy_share", _("补贴比例（收入档，0–1）"), _amount),
    ]

    def row_initial(self, item) -> dict:
        if not isinstance(item, dict):
            return {}
        if "priority" in item:
            return {
                "kind": f"priority:{item['priority']}",
                "tenant_share": item.get("tenant_share"),
            }
        if "income_per_head_below" in item:
            return {
                "kind": INCOME_KIND,
                "income_below": item.get("income_per_head_below"),
                "subsidy_share": item.get("subsidy_share"),
            }
        return {}

    def _share(self, index: int, row: dict, name: str) -> str | None:
        value = _decimal(row[name] or "")
        if not row[name]:
            self.error(index, name, "请填写。")
        elif value is None:
            self.error(index, name, "请填写数字，如 0.30。")
        elif not Decimal(0) <= value <= Decimal(1):
            self.error(index, name, "须在 0 到 1 之间。")
        elif value != value.quantize(CENT):
            self.error(index, name, "最多两位小数。")
        else:
            return str(value.quantize(CENT))
        return None

    def clean_row(self, index: int, row: dict):
        kind = row["kind"]
        if not kind:
            self.error(index, "kind", "请选择适用对象。")
            return None
        if kind.startswith("priority:"):
            for name in ("income_below", "subsidy_share"):
                if row[name]:
                    self.error(index, name, "群体档不填此项，请留空。")
                    return None
            share = self._share(index, row, "tenant_share")
            return None if share is None else {"priority": kind[9:], "tenant_share": share}
        if row["tenant_share"]:
            self.error(index, "tenant_share", "收入档不填此项，请留空。")
            return None
        bound = _decimal(row["income_below"] or "")
        if not row["income_below"]:
            self.error(index, "income_below", "请填写。")
            return None
        if bound is None or bound <= 0 or bound >= Decimal("1000000"):
            self.error(index, "income_below", "请填写大于 0 的金额（元）。")
            return None
        if bound != bound.quantize(CENT):
            self.error(index, "income_below", "最多两位小数。")
            return None
        share = self._share(index, row, "subsidy_share")
        if share is None:
            return None
        text = str(bound.quantize(CENT)) if bound != bound.to_integral() else str(int(bound))
        return {"income_per_head_below": text, "subsidy_share": share}

    def check_list(self, items: list) -> None:
        groups: dict[str, int] = {}
        bound, bound_row = None, None
        for index, tier in items:
            if "priority" in tier:
                if tier["priority"] in groups:
                    label = PRIORITY_LABELS[tier["priority"]]
                    self.error(
                        index, "kind", f"“{label}”已在第 {groups[tier['priority']] + 1} 行。"
                    )
                groups.setdefault(tier["priority"], index)
                continue
            below = Decimal(tier["income_per_head_below"])
            if bound is not None and below <= bound:
                self.error(
                    index,
                    "income_below",
                    f"须高于第 {bound_row + 1} 行的 {bound} 元（先列的档先适用，否则本档用不到）。",
                )
            bound, bound_row = below, index


class DaysListField(forms.CharField):
    """Whole numbers of days written as “3, 7, 15” (Chinese commas too); errors name the item."""

    def __init__(self, *, label: str, low: int, high: int, descending: bool = False) -> None:
        super().__init__(label=label, required=False, max_length=200)
        self.low, self.high, self.descending = low, high, descending
        self.help_text = _("多个天数用逗号分隔，如 3, 7, 15；留空为不提醒。")

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def clean(self, value) -> list[int]:
        text = super().clean(value) or ""
        parts = [p.strip() for p in text.replace("，", ",").replace("、", ",").split(",")]
        days: list[int] = []
        for n, part in enumerate(parts, start=1):
            if not part:
                continue
            if not part.isdigit():
                raise forms.ValidationError(f"{self.label}：第 {n} 项“{part}”不是整数天数。")
            day = int(part)
            if not self.low <= day <= self.high:
                raise forms.ValidationError(
                    f"{self.label}：第 {n} 项 {day} 须在 {self.low} 到 {self.high} 之间。"
                )
            if day in days:
                raise forms.ValidationError(f"{self.label}：第 {n} 项 {day} 重复。")
            days.append(day)
        if len(days) > 10:
            raise forms.ValidationError(f"{self.label}：最多 10 个提醒日。")
        return sorted(days, reverse=self.descending)


# The sections the policy page adds for the lists, in the order they show.
FORMS = {
    "priority_groups": PriorityGroupsForm,
    "size_rules": SizeRulesForm,
    "subsidy_tiers": SubsidyTiersForm,
}


def describe(name: str, value) -> object:
    """A list as people read it on the history page (other values unchanged)."""
    if not isinstance(value, list):
        return value
    if name == "priority_groups":
        return " → ".join(str(PRIORITY_LABELS.get(g, g)) for g in value) or "（无）"
    if name == "size_rules":
        return "；".join(
            (
                f"{r.get('members_up_to')} 人及以下"
                if r.get("members_up_to") is not None
                else "更多人口"
            )
            + f" {r.get('min_rooms')}–{r.get('max_rooms')} 居室"
            for r in value
            if isinstance(r, dict)
        )
    if name == "subsidy_tiers":
        parts = []
        for tier in value:
            if not isinstance(tier, dict):
                continue
            if "priority" in tier:
                label = PRIORITY_LABELS.get(tier["priority"], tier["priority"])
                parts.append(f"{label}：承租人负担 {tier.get('tenant_share')}")
            else:
                parts.append(
                    f"人均月收入低于 {tier.get('income_per_head_below')} 元："
                    f"补贴 {tier.get('subsidy_share')}"
                )
        return "；".join(parts) or "（无）"
    return "、".join(str(v) for v in value) or "（无）"
