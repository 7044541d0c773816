"""The renewal state machine, driven at random (hypothesis stateful testing): only
pending → approved | rejected | withdrawn happen, every other move is refused with a reason,
and the database always agrees with a one-line model of it."""

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from housing.errors import NotAllowed
from tenancy.models import LIVE, Contract, Renewal
from tenancy.services import renewals
from tests.personas import make_staff
from tests.tenancy.test_renewals_support import Departments, answers, ending_lease

pytestmark = pytest.mark.django_db


def test_only_legal_renewal_transitions_happen(offer):
    contract = ending_lease(60)
    clerk = make_staff("s-district", "district", region=contract.household.county)
    applicant = contract.household.applicant

    class Machine(RuleBasedStateMachine):
        @initialize()
        def fresh(self):
            drafted = list(
                Renewal.objects.filter(contract=contract).values_list("new_contract", flat=True)
            )
            Renewal.objects.filter(contract=contract).delete()
            Contract.objects.filter(pk__in=[pk for pk in drafted if pk]).delete()
            self.latest: str | None = None  # the model: the latest request's state

        def _latest(self) -> Renewal:
            return Renewal.objects.filter(contract=contract).order_by("-pk").first()

        def _expect(self, allowed: bool, action) -> None:
            if allowed:
                action()
            else:
                with pytest.raises(NotAllowed):
                    action()

        @rule(months=st.sampled_from([12, 24, 99]))
        def apply(self, months):
            allowed = self.latest not in ("pending", "approved") and months <= 36
            self._expect(
                allowed,
                lambda: renewals.apply(
                    contract.pk,
                    applicant=applicant,
                    months=months,
                    answers=answers(contract.household),
                    source=Departments(),
                ),
            )
            if allowed:
                self.latest = "pending"

        @rule()
        def withdraw(self):
            latest = self._latest()
            if latest is None:
                return
            allowed = self.latest == "pending"
            self._expect(allowed, lambda: renewals.withdraw(latest.pk, applicant=applicant))
            if allowed:
                self.latest = "withdrawn"

        @rule(approve=st.booleans(), reasons=st.sampled_from(["", "收入超标"]))
        def decide(self, approve, reasons):
            latest = self._latest()
            if latest is None:
                return
            allowed = self.latest == "pending" and (approve or reasons)
            self._expect(
                allowed,
                lambda: renewals.decide(latest.pk, approve=approve, reasons=reasons, actor=clerk),
            )
            if allowed:
                self.latest = "approved" if approve else "rejected"

        @invariant()
        def database_agrees(self):
            latest = self._latest()
            assert (latest.status if latest else None) == self.latest
            pending = Renewal.objects.filter(contract=contract, status=Renewal.Status.PENDING)
            assert pending.count() <= 1
            drafted = Contract.objects.filter(renews=contract, status__in=LIVE).count()
            assert drafted == (1 if self.latest == "approved" else 0)

    Machine.TestCase.settings = settings(
        max_examples=8, stateful_step_count=6, database=None, deadline=None
    )
    Machine.TestCase().runTest()
