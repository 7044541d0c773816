"""办件状态推送 over real HTTP to a demo platform process: every step of a case reaches the
personal centre once and in order, through a platform that is down and a worker killed
between sending and marking."""

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from urllib.request import urlopen

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from exchange.synthetic import record
from geo.models import Region
from housing import case_push, services
from housing.models import Application, CasePush
from tests.conftest import ROOT, _free_port, _wait_for
from tests.disclosure.test_worker import wait_for
from tests.housing.test_review_path import person


class CasePlatform:
    """The demo platform with a cases file, stopped and started again on the same port."""

    def __init__(self, cases_file):
        self.cases_file, self.port = cases_file, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exchange.demo_platform",
                "--port",
                str(self.port),
                "--cases-file",
                str(self.cases_file),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        _wait_for(self.url + "/health", self.proc, "the demo platform")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def records(self, case_number: str) -> list[dict]:
        if not self.cases_file.exists():
            return []
        lines = self.cases_file.read_text(encoding="utf-8").splitlines()
        return [r for r in map(json.loads, lines) if r["case_number"] == case_number]


@pytest.fixture
def platform(tmp_path, settings):
    server = CasePlatform(tmp_path / "cases.jsonl")
    server.start()
    settings.ANJU_CASE_PUSH_URL = server.url
    settings.ANJU_DATA_PLATFORM_APP_ID = "anju-demo"
    settings.ANJU_DATA_PLATFORM_SECRET = "anju-demo-secret"
    settings.ANJU_DATA_PLATFORM_TIMEOUT = 3
    yield server
    if server.proc.poll() is None:
        server.stop()


@pytest.fixture
def quiet(db):
    """The demo city's own pushes count as delivered: the sweep here sees only this test's."""
    CasePush.objects.filter(delivered_at__isnull=True).update(delivered_at=timezone.now())


def submitted(seq: int) -> Application:
    county = Region.objects.get(adcode="341602")
    street = Region.objects.filter(parent=county).order_by("adcode").last()
    community = Region.objects.filter(parent=street).order_by("adcode").last()
    name, number = person(seq)
    application = Application(
        name=name,
        id_number=number,
        phone="13500000000",
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    return services.save_application(application, record("police", number)["members"], submit=True)


def steps(server: CasePlatform, application: Application) -> list[tuple[str, str]]:
    return [(r["step"], r["result"]) for r in server.records(application.number)]


def test_a_cases_steps_arrive_in_order_exactly_once(
    platform, quiet, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as asked:
        application = submitted(901)
    assert len(asked) == 1, "submitting asks for a push job on commit"
    with django_capture_on_commit_callbacks() as asked:
        services.decide(application.pk, decision="return", opinion="请补充材料", actor=None)
    assert len(asked) == 1
    application.refresh_from_db()
    services.save_application(
        application, record("police", application.id_number)["members"], submit=True
    )
    services.decide(application.pk, decision="pass", opinion="", actor=None)
    services.decide(application.pk, decision="pass", opinion="", actor=None)
    services.decide(application.pk, decision="reject", opinion="收入超标", actor=None)

    assert case_push.process_case(application.pk) == 6
    assert case_push.process_case(application.pk) == 0  # nothing is sent twice
    assert case_push.sweep(older_than_seconds=0) == 0
    assert steps(platform, application) == [
        ("accept", "办理中"),
        ("accept", "退回补正"),
        ("accept", "办理中"),
        ("first_review", "办理中"),
        ("data_check", "办理中"),
        ("rejected", "不予通过"),
    ]
    sent = platform.records(application.number)
    assert {r["id_number"] for r in sent} == {application.id_number}
    assert [r["step_name"] for r in sent][-2:] == ["联审（大数据比对）", "未通过"]
    pushes = CasePush.objects.filter(application=application)
    assert sorted(r["key"] for r in sent) == sorted(str(p.key) for p in pushes)
    assert all(p.delivered_at and p.attempts == 1 for p in pushes)


def test_no_code_path_can_forget_a_push_and_drafts_are_not_pushed(quiet):
    county = Region.objects.get(adcode="341602")
    street = Region.objects.filter(parent=county).order_by("adcode").last()
    name, number = person(905)
    draft = services.save_application(
        Application(
            name=name,
            id_number=number,
            phone="13500000000",
            county=county,
            street=street,
            community=Region.objects.filter(parent=street).first(),
        ),
        [],
        submit=False,
    )
    assert not CasePush.objects.filter(application=draft).exists()
    application = submitted(906)
    Application.objects.filter(pk=application.pk).update(stage="second_review")  # no service
    Application.objects.filter(pk=application.pk).update(phone="13500000001")  # not a step
    assert list(
        CasePush.objects.filter(application=application).values_list("stage", flat=True)
    ) == ["accept", "second_review"]


def test_a_platform_that_is_down_delays_pushes_then_the_sweep_delivers_them_once(platform, quiet):
    platform.stop()
    application = submitted(911)
    services.decide(application.pk, decision="return", opinion="请补充材料", actor=None)
    assert case_push.sweep(older_than_seconds=0) == 0
    first, second = CasePush.objects.filter(application=application)
    assert first.attempts == 1 and "无法访问" in first.last_error
    assert first.delivered_at is None and first.next_attempt_at > timezone.now()
    assert second.attempts == 0, "a later step waits for the earlier one"
    assert application.pk not in case_push.pending_case_ids(), "backoff: not tried again yet"
    case_push.sweep(older_than_seconds=0)
    first.refresh_from_db()
    assert first.attempts == 1

    platform.start()
    CasePush.objects.filter(application=application).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)  # the backoff has passed
    )
    assert case_push.sweep(older_than_seconds=0) == 2
    assert case_push.sweep(older_than_seconds=0) == 0
    assert steps(platform, application) == [("accept", "办理中"), ("accept", "退回补正")]
    first.refresh_from_db()
    assert first.attempts == 2 and first.delivered_at and first.last_error == ""


def test_a_worker_killed_after_sending_does_not_duplicate_the_push(platform, quiet, monkeypatch):
    application = submitted(921)

    def killed(push):
        raise RuntimeError("worker killed after the platform answered")

    monkeypatch.setattr(case_push, "_mark_delivered", killed)
    with pytest.raises(RuntimeError):
        case_push.process_case(application.pk)
    assert CasePush.objects.get(application=application).delivered_at is None
    assert len(platform.records(application.number)) == 1  # the platform has it already

    monkeypatch.undo()
    assert case_push.process_case(application.pk) == 1
    assert CasePush.objects.get(application=application).delivered_at is not None
    assert steps(platform, application) == [("accept", "办理中")]


def test_a_change_that_rolls_back_leaves_no_push(quiet, django_capture_on_commit_callbacks):
    application = submitted(931)
    before = CasePush.objects.filter(application=application).count()
    with (
        django_capture_on_commit_callbacks() as asked,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.decide(application.pk, decision="pass", opinion="", actor=None)
        raise RuntimeError("something after the decision failed")
    application.refresh_from_db()
    assert application.stage == "accept"
    assert CasePush.objects.filter(application=application).count() == before
    assert asked == [], "no push job is queued for a change that did not happen"


def test_the_personal_centre_lists_the_citizens_case(platform, quiet):
    application = submitted(941)
    services.decide(application.pk, decision="pass", opinion="", actor=None)
    case_push.process_case(application.pk)
    page = urlopen(f"{platform.url}/centre/?id={application.id_number}").read().decode()
    assert application.number in page
    assert "当前环节：初审" in page and "待受理" in page and "办理中" in page
    assert 'name="viewport"' in page and "<link" not in page and "<script" not in page
    other = urlopen(f"{platform.url}/centre/?id={person(942)[1]}").read().decode()
    assert application.number not in other and "暂无办件记录" in other


def test_the_platform_refuses_unsigned_or_malformed_pushes(platform):
    from exchange.case_push import CasePushClient, CaseStep, PushFailed

    client = CasePushClient(platform.url, "anju-demo", "wrong-secret")
    step = CaseStep(
        key="k",
        case_number="N1",
        id_number=person(951)[1],
        step="accept",
        step_name="待受理",
        result="办理中",
        occurred_at=timezone.now().isoformat(),
    )
    with pytest.raises(PushFailed, match="401"):
        client.send(step)
    client.secret = "anju-demo-secret"
    with pytest.raises(PushFailed, match="id_number"):
        client.send(CaseStep(**{**step.__dict__, "id_number": "123"}))
    assert platform.records("N1") == []


def test_each_change_queues_one_job_per_case_which_sends_its_steps(
    platform, quiet, django_capture_on_commit_callbacks
):
    from procrastinate.contrib.django.models import ProcrastinateJob

    from housing.tasks import push_case

    with django_capture_on_commit_callbacks(execute=True):
        application = submitted(961)
    with django_capture_on_commit_callbacks(execute=True):
        services.decide(application.pk, decision="pass", opinion="", actor=None)
    jobs = ProcrastinateJob.objects.filter(task_name="housing.tasks.push_case", status="todo")
    job = jobs.get(args={"application_id": application.pk})  # the waiting job takes both
    assert job.lock == job.queueing_lock == f"case-push-{application.pk}"
    push_case(application_id=application.pk)
    assert steps(platform, application) == [("accept", "办理中"), ("first_review", "办理中")]


def test_the_worker_pushes_a_committed_change(django_db_setup, django_db_blocker, tmp_path):
    """The real worker (procrastinate, as the app's database role) runs the job the change
    queued on commit. Outside a test transaction: the case is committed, then removed."""
    server = CasePlatform(tmp_path / "cases.jsonl")
    server.start()
    db = django_settings.DATABASES["default"]
    user = django_settings.ANJU_DB_APP_ROLE or db["USER"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_DEBUG": "true",
        "SECRET_KEY": "worker-test-key",
        "ANJU_CASE_PUSH_URL": server.url,
    }
    with django_db_blocker.unblock():
        application = submitted(971)  # autocommit: committed, its job deferred at once
        try:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                wait_for(
                    lambda: CasePush.objects.filter(
                        application=application, delivered_at__isnull=False
                    ).exists(),
                    60,
                    "the worker to push the step",
                )
            finally:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=20)
            assert steps(server, application) == [("accept", "办理中")]
        finally:
            server.stop()
            Application.objects.filter(pk=application.pk).delete()
            connection.close()
