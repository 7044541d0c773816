"""The tenancy app's admin pages, one module per part of the lifecycle (each imported here)."""

from tenancy import violation_admin  # noqa: F401  违规类型 (issue 13)
