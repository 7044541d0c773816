"""County allocation rules are edited here (checked like the loader); rounds, waitlists and
offers are read-only: they change only through the services of 配租管理."""

from django import forms
from django.contrib import admin

from allocation.models import AllocationPolicy, Offer, Round, WaitlistEntry
from allocation.rules import FIELDS, policy_errors
from archive.admin import ReadOnly


class AllocationPolicyForm(forms.ModelForm):
    class Meta:
        model = AllocationPolicy
        fields = ["county", *sorted(FIELDS)]

    def clean(self):
        data = super().clean()
        conf = {k: v for k, v in data.items() if k != "county"}
        for problem in policy_errors(conf):
            self.add_error(None, problem)
        return data


@admin.register(AllocationPolicy)
class AllocationPolicyAdmin(admin.ModelAdmin):
    form = AllocationPolicyForm
    list_display = ["county", "round_method", "waiting_limit_months", "refusal_limit"]


@admin.register(Round)
class RoundAdmin(ReadOnly):
    list_display = ["name", "county", "status", "method", "lottery_date", "created_at"]
    list_filter = ["status", "county"]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnly):
    list_display = ["household", "county", "status", "priority_rank", "queued_at", "refusals"]
    list_filter = ["county", "status"]
    list_select_related = ["household", "county"]


@admin.register(Offer)
class OfferAdmin(ReadOnly):
    list_display = ["household", "unit", "status", "channel", "created_at", "expires_at"]
    list_filter = ["status"]
    list_select_related = ["household", "unit__building__estate"]
