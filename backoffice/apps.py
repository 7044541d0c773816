from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("业务后台")

    def ready(self) -> None:
        from backoffice import staff_sessions  # noqa: F401  (stamps the staff sign-in time)
