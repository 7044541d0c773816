"""County allocation rules as data: the loader and the admin refuse bad rules by field, and a
loaded rule changes how households are ranked and offered."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from allocation.admin import AllocationPolicyForm
from allocation.models import AllocationPolicy
from geo.models import Region

pytestmark = pytest.mark.django_db


def test_shipped_rules_are_valid_and_differ_by_county():
    call_command("load_allocation_rules", "data/allocation-rules.json", commit=True, verbosity=0)
    mengcheng = AllocationPolicy.objects.get(county__adcode="341622")
    guoyang = AllocationPolicy.objects.get(county__adcode="341621")
    assert mengcheng.round_method == "waitlist" and mengcheng.refusal_limit == 3
    assert guoyang.refusal_consequence == "suspend"
    assert mengcheng.priority_rank(["special_job"]) < mengcheng.priority_rank(["elderly"])
    assert mengcheng.priority_rank([]) == len(mengcheng.priority_groups)


def test_bad_rules_are_named_by_county_and_field_and_nothing_is_written(tmp_path):
    before = list(AllocationPolicy.objects.values_list("county_id", "refusal_limit"))
    bad = tmp_path / "rules.json"
    bad.write_text(
        '{"counties": {"341602": {"refusal_limit": 0, "priority_groups": ["rich"],'
        ' "size_rules": [{"members_up_to": 2, "min_rooms": 3, "max_rooms": 1}]},'
        ' "341621": {"refusal_limit": 5}}}',
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(CommandError, match="未写入"):
        call_command("load_allocation_rules", str(bad), commit=True, stderr=err)
    text = err.getvalue()
    assert "区县 341602 refusal_limit" in text
    assert "区县 341602 priority_groups" in text
    assert "size_rules 第 1 条" in text
    assert list(AllocationPolicy.objects.values_list("county_id", "refusal_limit")) == before


def test_size_bands_decide_the_rooms_a_household_may_take():
    policy = AllocationPolicy(
        county=Region.objects.get(adcode="341602"),
        size_rules=[
            {"members_up_to": 2, "min_rooms": 1, "max_rooms": 1},
            {"members_up_to": None, "min_rooms": 2, "max_rooms": 3},
        ],
    )
    assert policy.rooms_for(1) == policy.rooms_for(2) == (1, 1)
    assert policy.rooms_for(3) == policy.rooms_for(9) == (2, 3)


def test_the_admin_form_checks_rules_like_the_loader():
    county = Region.objects.get(adcode="341623")
    data = {
        "county": county.pk,
        "priority_groups": '["dibao"]',
        "round_method": "lottery",
        "waiting_limit_months": 24,
        "size_rules": '[{"members_up_to": 3, "min_rooms": 1, "max_rooms": 2}]',
        "offer_working_days": 5,
        "slot_minutes": 30,
        "refusal_limit": 2,
        "refusal_consequence": "back_of_list",
        "suspend_days": 365,
    }
    form = AllocationPolicyForm(data, instance=AllocationPolicy.objects.get(county=county))
    assert not form.is_valid()
    assert "最后一条须不限人数" in str(form.errors)
