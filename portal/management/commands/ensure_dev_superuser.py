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
        self.stdout.write(f"开发用管理员：用户名 {username}  密码 {password}  （/admin/）")
