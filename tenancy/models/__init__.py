"""The tenancy app's models, one module per part of the lifecycle (each re-exported here)."""

from tenancy.models.contracts import (
    LIVE,
    Contract,
    LeaseTemplate,
    TenancyPolicy,
    default_subsidy_tiers,  # named by migration 0001
)
from tenancy.models.rent import ArrearsWarning, Bill, Payment, Reminder

__all__ = [
    "LIVE",
    "ArrearsWarning",
    "Bill",
    "Contract",
    "LeaseTemplate",
    "Payment",
    "Reminder",
    "TenancyPolicy",
    "default_subsidy_tiers",
]
