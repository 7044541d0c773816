"""manage.py run_worker: publish what is waiting, then run the job queue's worker.

Started by `make run` beside the web server. Catching up first means a worker killed mid-way
(its job left behind as "doing") costs nothing: the outbox row is still pending and is
published here, exactly once.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from disclosure.services import pending_outbox_ids, process_outbox


class Command(BaseCommand):
    help = "先发布待发布的公开内容，然后运行后台任务进程（procrastinate worker）。"

    def handle(self, *args, **options) -> None:
        waiting = pending_outbox_ids()
        for outbox_id in waiting:
            process_outbox(outbox_id)
        if waiting:
            self.stdout.write(f"已补发 {len(waiting)} 项待发布内容。")
        call_command("procrastinate", "worker")
