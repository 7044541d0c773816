"""A development superuser with a random password, printed on every start; refused unless DEBUG."""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "仅开发环境（DEBUG 开启）：创建开发用超级用户并打印其登录信息。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--password-file",
            type=Path,
            default=Path(settings.BASE_DIR) / ".local" / "dev-superuser-password",
        )

    def handle(self, *args, username: str, password_file: Path, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("DEBUG 未开启：生产环境不会创建默认管理员，请用 createsuperuser。")
        if password_file.exists():
            password = password_file.read_text(encoding="utf-8").strip()
        else:
            password = secrets.token_urlsafe(12)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n", encoding="utf-8")
            password_file.chmod(0o600)
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=username)
        if not (user.is_superuser and user.check_password(password)):
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
        self.stdout.write(f"开发用管理员：用户名 {username}  密码 {password}  （/admin/、/staff/）")
        staff = self._demo_staff(password)
        if staff:
            self.stdout.write(f"开发用工作人员（密码同上，/staff/）：{'、'.join(staff)}")

    def _demo_staff(self, password: str) -> list[str]:
        """One account per role on the demo city, so every back-office view can be tried."""
        from django.db.models import Count

        from backoffice.models import StaffProfile
        from geo.models import Estate, Operator, Region

        Role = StaffProfile.Role
        city = Region.objects.filter(level=Region.Level.CITY).order_by("adcode").first()
        district = Region.objects.filter(level=Region.Level.DISTRICT).order_by("adcode").first()
        street = (
            Region.objects.filter(parent=district).order_by("adcode").first() if district else None
        )
        community = (
            Region.objects.filter(parent=street).order_by("adcode").first() if street else None
        )
        operator = Operator.objects.order_by("name").first()
        # The demo's applications sit in the first community; its estates mostly elsewhere, so
        # the grid worker who inspects tenancies gets the community with the most estates.
        busiest = (
            Estate.objects.exclude(community=None)
            .values("community")
            .annotate(n=Count("pk"))
            .order_by("-n", "community")
            .first()
        )
        grid = Region.objects.get(pk=busiest["community"]) if busiest else None
        plan = [
            ("city", Role.CITY, city, None),
            ("district", Role.DISTRICT, district, None),
            ("street", Role.STREET, street, None),
            ("community", Role.COMMUNITY, community, None),
            ("operator", Role.OPERATOR, None, operator),
            ("grid", Role.COMMUNITY, grid, None),
        ]
        User = get_user_model()
        made = []
        for name, role, region, op in plan:
            if region is None and op is None:
                continue
            user, _ = User.objects.get_or_create(username=f"demo-{name}")
            user.set_password(password)
            user.save()
            # The city's and the county's demo staff also administer accounts and rules.
            admin = name in ("city", "district")
            StaffProfile.objects.update_or_create(
                user=user,
                defaults={"role": role, "region": region, "operator": op, "is_admin": admin},
            )
            made.append(f"demo-{name}（{role.label}）")
        return made
