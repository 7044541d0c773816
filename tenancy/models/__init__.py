"""The tenancy app's models, one module per part of the lifecycle (each re-exported here)."""

from tenancy.models.contracts import (
    LIVE,
    Contract,
    LeaseTemplate,
    TenancyPolicy,
    default_subsidy_tiers,  # named by migration 0001
)
from tenancy.models.evaluation import EvaluationRules, OperatorScore
from tenancy.models.exits import Exit
from tenancy.models.recheck import RecheckHit, RecheckRun
from tenancy.models.rent import ArrearsWarning, Bill, Payment, Reminder
from tenancy.models.repairs import Repair, RepairCategory, RepairPhoto
from tenancy.models.reviews import (
    AnnualReview,
    Renewal,
    RenewalNotice,
    ReviewPolicy,
    default_review_reminder_days,  # named by migration 0004
)
from tenancy.models.violations import (
    CaseRecord,
    Complaint,
    Inspection,
    UtilityReading,
    ViolationCase,
    ViolationKind,
)

__all__ = [
    "LIVE",
    "AnnualReview",
    "ArrearsWarning",
    "Bill",
    "CaseRecord",
    "Complaint",
    "Contract",
    "EvaluationRules",
    "Exit",
    "Inspection",
    "LeaseTemplate",
    "OperatorScore",
    "Payment",
    "RecheckHit",
    "RecheckRun",
    "Reminder",
    "Renewal",
    "RenewalNotice",
    "Repair",
    "RepairCategory",
    "RepairPhoto",
    "ReviewPolicy",
    "TenancyPolicy",
    "UtilityReading",
    "ViolationCase",
    "ViolationKind",
    "default_review_reminder_days",
    "default_subsidy_tiers",
]
