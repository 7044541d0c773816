from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = _("档案")

    def ready(self) -> None:
        from archive import crypto  # noqa: F401  (registers the data-key check)
