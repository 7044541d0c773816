"""Demo 动态核查: one re-check of the demo city's tenants through the service, so the queue has
hits a clerk can work through, and one already judged a false positive.

Against the demo data platform when it answers (as `make run` starts it), else against the same
synthetic records computed here (exchange.synthetic, as the demo applications are). The demo
tenants' records come from their ID numbers alone: those whose taxed income per head is over
their county's limit become hits (income is the rule synthetic tenants break; the reserved
sequences 901–904 that break the others are for tests and applications).
"""

import urllib.request
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model

from exchange.sources import DataSource, SyntheticSource, default_source
from tenancy.models import RecheckHit
from tenancy.services import recheck

DEMO_CLERK = "demo-seed"


def _platform_or_synthetic() -> DataSource:
    """The configured platform if its health check answers within a second."""
    if settings.ANJU_DATA_SOURCE == "http":
        url = settings.ANJU_DATA_PLATFORM_URL.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(url, timeout=1):
                return default_source()
        except OSError:
            pass
    return SyntheticSource()


def load(today: date) -> str:
    """Run the re-check on the demo city and judge its first hit as a false positive."""
    source = _platform_or_synthetic()
    run = recheck.run_recheck(actor=None, source=source)
    if run.status != run.Status.FINISHED:
        # The platform went away mid-run (or is an older one without bulk queries): the run
        # is finished offline, resuming where it stopped.
        source = SyntheticSource()
        run = recheck.run_recheck(actor=None, source=source)
    clerk = get_user_model().objects.filter(username=DEMO_CLERK).first()
    first = RecheckHit.objects.filter(status=RecheckHit.Status.OPEN).order_by("pk").first()
    dismissed = 0
    if clerk is not None and first is not None and recheck.may_decide(clerk):
        recheck.dismiss(
            first.pk,
            reason="（演示）入户核实：该收入为一次性劳务报酬，家庭月均收入仍在标准以内。",
            actor=clerk,
        )
        dismissed = 1
    open_hits = RecheckHit.objects.filter(status=RecheckHit.Status.OPEN).count()
    return (
        f"动态核查 {run.done} 户（{source.name}）：{open_hits} 条待核实疑点，"
        f"{dismissed} 条已核实为误报"
    )
