"""系统管理 in /staff/: staff accounts and county rules, run by account administrators."""
