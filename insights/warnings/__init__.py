"""自动预警: rules as data (rules.py), one query per rule (finders.py), the hourly refresh that
keeps one live warning per rule and subject (refresh.py), staff actions (services.py) and the
daily 站内信 digest (digest.py)."""
