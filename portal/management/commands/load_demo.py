"""manage.py load_demo [--seed N] [--units N] [--contracts N] [--if-empty]: a synthetic city on
the real regions, with applications, waitlists, rounds, leases and rent made through every
app's services (so it lives at the top of the layering)."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from shapely import wkb
from tqdm import tqdm

from geo.demo.plan import County, plan_city
from geo.demo.write import write_plan
from geo.models import Estate, Region, Unit
from housing.models import Application
from portal import demo_national as national

DATA_DIR = Path(settings.BASE_DIR) / "data"


class Command(BaseCommand):
    help = "生成演示城市：在已导入的区县内生成虚构的街道、社区、项目、楼栋、房屋和周边设施。"

    def add_arguments(self, parser: CommandParser) -> None:
        from tenancy.demo import DEFAULT_EXISTING

        parser.add_argument("--seed", type=int, default=1, help="随机种子：相同种子生成相同数据")
        parser.add_argument(
            "--units",
            type=int,
            default=8000,
            help="房屋总套数（约数）；超过 200 万套时生成一个城市再复制为多个城市（全国规模）",
        )
        parser.add_argument("--if-empty", action="store_true", help="已有项目时什么也不做")
        parser.add_argument(
            "--contracts",
            type=int,
            default=DEFAULT_EXISTING,
            help="补录多少户存量租户的合同与一年租金（其余已入住房屋不关联合同）",
        )
        parser.add_argument(
            "--regions",
            type=Path,
            default=DATA_DIR / "bozhou-regions.geojson",
            help="还没有区县时先导入的区划文件",
        )
        parser.add_argument("--config", type=Path, default=DATA_DIR / "demo-city.json")

    def handle(
        self,
        *args,
        seed: int,
        units: int,
        if_empty: bool,
        regions: Path,
        config: Path,
        contracts: int,
        **options,
    ) -> None:
        if units < 10:
            raise CommandError("--units 至少为 10。")
        if if_empty and Estate.objects.exists():
            self.stdout.write("已有项目数据，跳过演示数据。")
            return
        if not Region.objects.filter(level=Region.Level.DISTRICT).exists():
            call_command("load_regions", str(regions), commit=True, stdout=self.stdout)
        conf = json.loads(config.read_text(encoding="utf-8"))
        counties = self._counties(conf)
        city = Region.objects.filter(level=Region.Level.CITY).first()
        try:
            planned, cities = (
                national.plan(units) if units > national.NATIONAL_UNITS else (units, 1)
            )
        except ValueError as exc:
            raise CommandError(f"--units 过大：{exc}") from exc
        plan = plan_city(
            counties,
            seed=seed,
            units=planned,
            city_name=city.name if city else "",
            area_code=conf.get("area_code", ""),
        )
        show = options["verbosity"] > 0
        with tqdm(total=plan.unit_total, unit="套", desc="写入房屋", disable=not show) as bar:
            counts = write_plan(plan, progress=bar.update)
        from allocation.demo import seed_demo_allocation
        from disclosure.demo import seed_demo_disclosure
        from housing.demo import seed_demo_applications
        from tenancy.demo import seed_demo_tenancy

        counts["publications"] = seed_demo_disclosure()
        counts["applications"] = seed_demo_applications()
        counts["rounds"] = seed_demo_allocation(actor=_demo_clerk())
        counts |= seed_demo_tenancy(_demo_clerk(), existing=contracts)
        counts |= _seed_credit()
        aftercare = _seed_aftercare()
        _publish_waiting()
        self.stdout.write(
            self.style.SUCCESS(
                "演示数据已生成：{regions} 个街道/社区，{estates} 个项目，{buildings} 栋楼，"
                "{units} 套房屋，{pois} 个周边设施，{publications} 份公示公告，"
                "{applications} 份申请，{rounds} 个配租批次，{contracts} 份租赁合同，"
                "{bills} 份租金账单，{payments} 笔缴费，{credit_records} 条失信记录"
                "（{credit_repaired} 条已修复）。".format(**counts)
            )
        )
        self.stdout.write("配后管理演示：" + "；".join(aftercare) + "。")
        if cities > 1:
            self._copy_cities(cities - 1, plan.unit_total * (cities - 1), show)
        self._introduce_tenant()

    def _copy_cities(self, copies: int, total: int, show: bool) -> None:
        """National size: the planned city copied as more cities by set-based SQL."""
        with tqdm(total=total, unit="套", desc="复制城市", disable=not show) as bar:
            counts = national.copy_cities(copies, progress=bar.update)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                "全国规模：另复制 {copies} 个城市，{regions} 个区划，{estates} 个项目，"
                "{buildings} 栋楼，{units} 套房屋，{pois} 个周边设施。".format(
                    copies=copies, **counts
                )
            )
        )

    def _introduce_tenant(self) -> None:
        """Who to sign in as to try the tenant's side (a synthetic household of the demo)."""
        from tenancy.models import Contract

        waiting = (
            Contract.objects.filter(
                status=Contract.Status.AWAITING_TENANT, household__applicant__isnull=False
            )
            .select_related("household")
            .first()
        )
        unlinked = (
            Unit.objects.filter(status=Unit.Status.OCCUPIED)
            .exclude(contracts__status=Contract.Status.ACTIVE)
            .count()
        )
        if unlinked:
            self.stdout.write(
                f"另有 {unlinked} 套已入住的演示房屋未补录租赁合同（--contracts 决定补录多少），"
                "它们没有账单。"
            )
        blocked = Application.objects.filter(
            stage=Application.Stage.DRAFT, applicant__phone=CREDIT_BLOCKED_PHONE
        ).exists()
        if blocked:
            self.stdout.write(
                f"演示失信：手机 {CREDIT_BLOCKED_PHONE} 登录后提交草稿申请，"
                "会因严重失信记录被拦截。"
            )
        if waiting is not None:
            self.stdout.write(
                f"演示承租人：手机 {waiting.household.phone} 在 /apply/login/ 登录（验证码见 "
                f"/dev/sms/），在“我的申请”阅读并签署合同 {waiting.number}。"
            )

    def _counties(self, conf: dict) -> list[County]:
        result = []
        for region in Region.objects.filter(level=Region.Level.DISTRICT).order_by("adcode"):
            c = conf.get("counties", {}).get(region.adcode, {})
            result.append(
                County(
                    adcode=region.adcode,
                    name=region.name,
                    geometry=wkb.loads(bytes(region.boundary.wkb)),
                    centre=tuple(c["centre"]) if "centre" in c else None,
                    share=c.get("share", 1.0),
                    spread_km=c.get("spread_km", 2.0),
                    urban=c.get("urban", False),
                )
            )
        if not result:
            raise CommandError("数据库中没有区县，无法生成演示数据。")
        return result


def _demo_clerk():
    """The city housing bureau's account that demo decisions are recorded under; it cannot
    sign in (no usable password)."""
    from django.contrib.auth import get_user_model

    from backoffice.models import StaffProfile

    user, created = get_user_model().objects.get_or_create(
        username="demo-seed", defaults={"first_name": "演示数据"}
    )
    if created:
        user.set_unusable_password()
        user.save()
    city = Region.objects.filter(level=Region.Level.CITY).order_by("adcode").first()
    StaffProfile.objects.get_or_create(user=user, defaults={"role": "city", "region": city})
    return user


CREDIT_BLOCKED_PHONE = "13955500001"


def _seed_credit() -> dict:
    """The credit demo needs people, which credit (below housing) cannot look up: demo
    households (not the one left to sign a lease), a few people without one, and a drafted
    application whose applicant has a severe record in effect."""
    from datetime import date

    from credit.demo import Person, seed_demo_credit
    from credit.models import Proposal
    from exchange.idcard import make_id_number
    from exchange.synthetic import person_name
    from housing.models import Household
    from tenancy.models import LIVE, Contract

    if Proposal.objects.filter(source_ref__startswith="DEMO-").exists():
        return {"credit_records": 0, "credit_repaired": 0, "credit_pending": 0}  # loaded once

    waiting = Contract.objects.filter(status=Contract.Status.AWAITING_TENANT).values("household_id")
    tenants = Contract.objects.filter(status__in=LIVE).values("household_id")
    households = Household.objects.exclude(pk__in=waiting).select_related("county")
    # Mostly applicants' households (most records arise in applications), then the newest
    # tenants: the oldest leases stay clean for whoever tries the tenant's side.
    households = [
        *households.exclude(pk__in=tenants).order_by("pk")[:40],
        *households.filter(pk__in=tenants).order_by("-pk")[:20],
    ]
    people = [Person(h.head_name, h.head_id_number, h.county, h.pk) for h in households]
    county = Region.objects.get(adcode="341602")
    for n in range(110 - len(people)):
        number = make_id_number(county.adcode, date(1970 + n % 25, 1 + n % 12, 5), 700 + n)
        people.append(Person(person_name(number), number, county))
    return seed_demo_credit(people, actor=_demo_clerk(), blocked=_blocked_draft(county))


def _blocked_draft(county: Region):
    """A draft ready to submit, whose applicant a county found to have lied before."""
    from datetime import date

    from credit.demo import Person
    from exchange.idcard import make_id_number
    from exchange.synthetic import person_name, record
    from housing import services
    from housing.models import Applicant

    number = make_id_number(county.adcode, date(1979, 6, 1), 960)
    street = Region.objects.filter(parent=county).order_by("adcode").first()
    community = Region.objects.filter(parent=street).order_by("adcode").first()
    applicant, _ = Applicant.objects.get_or_create(phone=CREDIT_BLOCKED_PHONE)
    application = Application(
        applicant=applicant,
        name=person_name(number),
        id_number=number,
        phone=CREDIT_BLOCKED_PHONE,
        county=county,
        street=street,
        community=community,
        housing_situation="租住私房",
        current_area=28,
        employer="（演示）某公司",
        consent=True,
    )
    services.save_application(application, record("police", number)["members"], submit=False)
    return Person(application.name, number, county)


def _seed_aftercare() -> list[str]:
    """配后管理 cases in every queue, each made through its services: reviews and renewals
    first (they shorten a few leases), then re-check hits, repairs, violations, and exits with
    a quarter of operator scores last (they read the others)."""
    from django.utils import timezone

    from tenancy import demo_exits, demo_recheck, demo_repairs, demo_reviews, demo_violations

    today = timezone.localdate()
    steps = (demo_reviews, demo_recheck, demo_repairs, demo_violations, demo_exits)
    return [step.load(today) for step in steps]


def _publish_waiting() -> None:
    """What the worker would do at once: every queued publication (vacancy releases of the
    demo's exits, notices), then the lists that changed while one was on its way."""
    from credit.publication import publish_changed
    from disclosure.services import pending_outbox_ids, process_outbox

    while True:
        for outbox_id in pending_outbox_ids():
            process_outbox(outbox_id)
        if not publish_changed():
            return
