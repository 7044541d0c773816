"""gunicorn settings for `make run` and the served tests.

The access log names paths, never query strings or referrers: a status lookup carries an
application number with ID digits, a search may carry a name, and logs travel further than the
database does.
"""

accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus'
