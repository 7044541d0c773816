from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = _("信息公开")

    def ready(self) -> None:
        from disclosure import archive_head, calendar  # noqa: F401  (registers the calendar
        # check, and answers archive.chain's question for the heads published so far)
