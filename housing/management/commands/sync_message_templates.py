"""manage.py sync_message_templates [--commit]: the message templates a release adds.

New codes in data/message-templates.json are created; templates the city never changed follow
the shipped words; a template the city changed keeps its words (only its placeholder list and
name follow the release). A dry run by default.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from housing import messages
from housing.models import MessageTemplate


class Command(BaseCommand):
    help = "按 data/message-templates.json 补充新增的消息模板。默认只检查；加 --commit 写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--commit", action="store_true")

    def handle(self, *args, commit: bool, **options) -> None:
        shipped = messages.shipped()
        for code, tpl in shipped.items():
            try:
                messages.check(tpl)
            except messages.TemplateError as exc:
                raise CommandError(f"{messages.SHIPPED_FILE}：模板 {code}：{exc}") from exc
        known = set(MessageTemplate.objects.values_list("code", flat=True))
        new = sorted(set(shipped) - known)
        self.stdout.write(
            f"{len(shipped)} 个模板，其中新增 {len(new)} 个：{'、'.join(new) or '无'}"
        )
        if not commit:
            self.stdout.write("仅检查，未写入；加 --commit 写入。")
            return
        with transaction.atomic():
            created, refreshed = messages.sync()
        self.stdout.write(f"已新增 {created} 个，更新 {refreshed} 个（本市修改过的文字不变）。")
