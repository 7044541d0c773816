"""The demo's 年审 and 续租 cases are made through the services and cover every queue."""

import pytest
from django.utils import timezone

from tenancy import demo_reviews
from tenancy.models import AnnualReview, Contract, Renewal

pytestmark = pytest.mark.django_db


def test_the_demo_fills_the_queues(offer):  # `offer` gives the home county a lease template
    summary = demo_reviews.load(timezone.localdate())  # load_demo may have run it already
    assert "年审" in summary and ("续租" in summary or "已存在" in summary)
    assert demo_reviews.load(timezone.localdate()) == "年审与续租演示数据已存在"
    statuses = set(AnnualReview.objects.values_list("status", flat=True))
    assert {"open", "submitted", "missed"} <= statuses
    assert Renewal.objects.filter(status=Renewal.Status.PENDING).exists()
    approved = Renewal.objects.filter(status=Renewal.Status.APPROVED).first()
    assert approved.new_contract.status == Contract.Status.AWAITING_TENANT
    assert approved.new_contract.renews_id == approved.contract_id
