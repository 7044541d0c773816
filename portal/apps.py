from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "公众门户"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal.db_roles import grant_app_role

        post_migrate.connect(grant_app_role, dispatch_uid="anju-grant-app-role")
