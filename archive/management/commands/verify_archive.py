"""Walk the archive's hash chain and name the first broken link (exit status 1 if any).

Run it after a restore, before handing an export to an auditor, or whenever the published head
is in doubt; `--seal-first` seals what is pending so the check reaches the newest events.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from archive import chain
from archive.models import EventSeal


class Command(BaseCommand):
    help = "逐环核验档案存证链：重算每个事件的摘要，指出第一处断裂（被改动、删除或补插的事件）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--seal-first", action="store_true", help="先封存尚未存证的事件，再核验"
        )

    def handle(self, *args, seal_first: bool = False, verbosity: int = 1, **options):
        if seal_first:
            sealed = chain.seal_pending()
            if verbosity:
                self.stdout.write(f"已封存 {sealed} 个新事件。")
        with tqdm(
            total=EventSeal.objects.count(), desc="核验存证链", unit="环", disable=verbosity < 1
        ) as bar:
            result = chain.verify(progress=bar.update)
        if result.broken is not None:
            raise CommandError(
                f"存证链断裂：{result.broken.message}此前 {result.checked} 环核验无误。",
                returncode=1,
            )
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(
                    f"存证链完整：共 {result.checked} 环，链头摘要 {result.head.digest}。"
                )
            )
