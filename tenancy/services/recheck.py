"""动态核查: re-query every department for every tenant household, in batches of bulk queries,
and compare the answers with the county's eligibility rules (housing.rules, as the data check
of an application does). A broken rule becomes a hit with its evidence for the county to judge;
nothing here touches a lease or a unit.

A run walks the households with an active lease in household order and commits each batch
with its progress, so a platform that fails mid-run leaves a run marked interrupted whose
cursor the next run resumes from. One open hit per household and rule (a database constraint):
a rule still broken refreshes its open hit; a hit the county judged stays judged while the
department's answer is unchanged.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from archive.models import Event
from archive.services import record_event, record_events
from exchange.sources import Answer, DataSource, SourceUnavailable, default_source
from exchange.synthetic import DEPARTMENTS
from geo.jurisdiction import estate_scope, profile_of
from housing import rules
from housing.errors import NotAllowed
from housing.models import EligibilityRule
from tenancy.models import Contract, RecheckHit, RecheckRun

BATCH = 500
# Bulk requests in flight at once: enough to keep the platform busy, few enough not to crowd it.
WORKERS = 3
# Any constant both sides agree on: the session lock that keeps runs one at a time.
LOCK_KEY = 1_3_0001
SCOPE = "contract__unit__building__estate__"

# The department fields each criterion is read from (shown to staff, kept as evidence).
FIELDS = {
    "income_per_head": ("monthly_income",),
    "area_per_head": ("properties",),
    "property_count": ("properties",),
    "vehicle_value": ("vehicles",),
    "business_count": ("businesses",),
    "residence_years": ("hukou_since",),
    "insured_years": ("insured_months",),
}
# Which violation kind a concealment found by the re-check is filed as (violation kinds are data).
CASE_KIND = "false_info"
Status = RecheckHit.Status


@dataclass
class Tenant:
    contract_id: int
    household_id: int
    county_id: int
    unit_id: int
    estate_id: int
    id_number: str


# --- the run -------------------------------------------------------------------------------


def tenants_after(cursor: int, limit: int) -> list[Tenant]:
    """The next households with an active lease, in household order after `cursor`."""
    rows = (
        Contract.objects.filter(status=Contract.Status.ACTIVE, household_id__gt=cursor)
        .order_by("household_id")
        .values_list(
            "pk",
            "household_id",
            "household__county_id",
            "unit_id",
            "unit__building__estate_id",
            "household__head_id_number",
        )[:limit]
    )
    return [Tenant(*row) for row in rows]


def run_recheck(
    *,
    actor,
    source: DataSource | None = None,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> RecheckRun:
    """Re-check every tenant household (or resume the interrupted run) and return the run.

    `actor` is the staff member, or None for the scheduled job. A department that cannot be
    reached stops the run as interrupted with its message; what was committed stays.
    `progress(done, total)` is called after each batch (the command's progress bar).
    """
    source = source or default_source()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise NotAllowed("另一次动态核查正在进行，请等它结束后再试。")
    try:
        run = _start(actor, source)
        if progress:
            progress(run.done, run.total)
        # The next batch is asked for while this one is compared and written: the platform
        # and the database work at the same time.
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:

            def ask(tenants: list[Tenant]) -> dict:
                numbers = list({t.id_number for t in tenants})
                return {d: pool.submit(source.fetch_many, d, numbers) for d in DEPARTMENTS}

            tenants = tenants_after(run.last_household, batch)
            futures = ask(tenants) if tenants else {}
            while tenants:
                try:
                    answers = {d: f.result() for d, f in futures.items()}
                except SourceUnavailable as exc:
                    for future in futures.values():
                        future.cancel()
                    return _interrupt(run, str(exc), actor)
                following = tenants_after(tenants[-1].household_id, batch)
                futures = ask(following) if following else {}
                try:
                    run = _record_batch(run, tenants, answers)
                except BaseException:
                    for future in futures.values():
                        future.cancel()
                    raise
                if progress:
                    progress(run.done, run.total)
                tenants = following
            return _finish(run, actor)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _start(actor, source: DataSource) -> RecheckRun:
    """A new run; it carries on from the last run if that one was interrupted (or left
    running by a process that died: the session lock is ours, so nobody else runs it)."""
    with transaction.atomic():
        now = timezone.now()
        RecheckRun.objects.filter(status=RecheckRun.Status.RUNNING).update(
            status=RecheckRun.Status.INTERRUPTED,
            finished_at=now,
            error="核查进程意外结束",
        )
        last = RecheckRun.objects.order_by("-started_at", "-pk").first()
        resume = last if last and last.status == RecheckRun.Status.INTERRUPTED else None
        total = (
            resume.total
            if resume
            else Contract.objects.filter(status=Contract.Status.ACTIVE)
            .values("household_id")
            .distinct()
            .count()
        )
        return RecheckRun.objects.create(
            started_at=now,
            resumed_from=resume,
            source=source.name[:200],
            total=total,
            done=resume.done if resume else 0,
            last_household=resume.last_household if resume else 0,
            started_by=actor if actor is not None and actor.is_authenticated else None,
        )


def _summary(run: RecheckRun) -> str:
    return (
        f"已核查 {run.done}/{run.total} 户，新增疑点 {run.hits_new} 条，"
        f"仍存在 {run.hits_refreshed} 条，已恢复符合 {run.hits_cleared} 条"
    )


def _finish(run: RecheckRun, actor) -> RecheckRun:
    with transaction.atomic():
        RecheckRun.objects.filter(pk=run.pk).update(
            status=RecheckRun.Status.FINISHED, finished_at=timezone.now()
        )
        run.refresh_from_db()
        record_event(
            "recheck.finished",
            f"动态核查完成：{_summary(run)}",
            actor=actor,
            after={"run": run.pk, "resumed_from": run.resumed_from_id, "done": run.done},
        )
    return run


def _interrupt(run: RecheckRun, error: str, actor) -> RecheckRun:
    with transaction.atomic():
        RecheckRun.objects.filter(pk=run.pk).update(
            status=RecheckRun.Status.INTERRUPTED, finished_at=timezone.now(), error=error
        )
        run.refresh_from_db()
        record_event(
            "recheck.interrupted",
            f"动态核查中断：{error}；{_summary(run)}，下次核查从中断处继续",
            actor=actor,
            after={"run": run.pk, "last_household": run.last_household, "error": error},
        )
    return run


def failures(
    county_rules: list[EligibilityRule], answers: dict[str, Answer], unmet: dict | None = None
) -> tuple[list[rules.Finding], set[str]]:
    """The household's broken rules, and the criteria it now meets (a missing answer is
    neither: an empty record is no evidence against a tenant). `unmet` caches findings'
    labels across the households of a batch."""
    unmet = {} if unmet is None else unmet
    members = max(len(answers["police"].payload.get("members") or []), 1)
    facts = rules.facts_from_answers(answers, members)
    broken, met = [], set()
    for rule in county_rules:
        value = facts.get(rule.criterion)
        if value is None:
            continue
        if rules.passes(rule, value):
            met.add(rule.criterion)
        else:
            department = rules.SOURCE_OF[rule.criterion]
            source = answers[department].source
            key = (rule.pk, rule.operator, rule.threshold, rule.unit, source)
            if key not in unmet:
                # apply_rules' finding without a value: its labels are looked up once per
                # rule, not once per household (gettext is slow in a loop of 100,000).
                unmet[key] = rules.apply_rules([rule], {}, {department: source})[0]
            broken.append(replace(unmet[key], found=value))
    return broken, met


def _evidence(finding: rules.Finding, answers: dict[str, Answer]) -> tuple[str, dict, str]:
    department = rules.SOURCE_OF[finding.criterion]
    answer = answers[department]
    police = answers["police"].payload
    fields = {f: answer.payload.get(f) for f in FIELDS[finding.criterion]}
    evidence = {
        "department": department,
        "department_label": DEPARTMENTS[department],
        "source": answer.source,
        "fetched_at": answer.fetched_at.isoformat(),
        "fields": fields,
        # Per-head figures divide by the household as 户籍 registers it.
        "members": len(police.get("members") or []) or 1,
        "payload_hash": answer.payload_hash,
    }
    return department, evidence, answer.payload_hash


def _record_batch(
    run: RecheckRun, tenants: list[Tenant], answers: dict[str, dict[str, Answer]]
) -> RecheckRun:
    """One batch's hits and the run's progress, in one transaction."""
    now = timezone.now()
    county_rules = _rules_by_county({t.county_id for t in tenants})
    found: dict[tuple[int, str], tuple[Tenant, rules.Finding, str, dict, str]] = {}
    met: set[tuple[int, str]] = set()
    unmet: dict = {}
    for tenant in tenants:
        mine = {d: answers[d].get(tenant.id_number) for d in DEPARTMENTS}
        if any(a is None for a in mine.values()):
            continue  # the platform refused the ID number: nothing to compare
        broken, passed = failures(county_rules.get(tenant.county_id, []), mine, unmet)
        met |= {(tenant.household_id, c) for c in passed}
        for finding in broken:
            department, evidence, digest = _evidence(finding, mine)
            found[(tenant.household_id, finding.criterion)] = (
                tenant,
                finding,
                department,
                evidence,
                digest,
            )
    with transaction.atomic():
        households = [t.household_id for t in tenants]
        existing = list(
            RecheckHit.objects.select_for_update()
            .filter(household_id__in=households)
            .exclude(status=Status.CLEARED)
            .only(
                "pk",
                "household_id",
                "criterion",
                "status",
                "payload_hash",
                "seen_count",
                "finding",
            )
        )
        open_hits = {(h.household_id, h.criterion): h for h in existing if h.status == Status.OPEN}
        judged = {
            (h.household_id, h.criterion, h.payload_hash)
            for h in existing
            if h.status != Status.OPEN
        }
        new, refreshed = [], []
        for key, (tenant, finding, department, evidence, digest) in found.items():
            hit = open_hits.get(key)
            if hit is not None:
                # A new answer, or the same answer read against a changed county rule.
                changed = hit.payload_hash != digest or hit.finding != finding.as_dict()
                if changed:
                    hit.finding, hit.evidence, hit.payload_hash = (
                        finding.as_dict(),
                        evidence,
                        digest,
                    )
                refreshed.append((hit, changed))
            elif (*key, digest) not in judged:
                new.append(
                    RecheckHit(
                        household_id=tenant.household_id,
                        contract_id=tenant.contract_id,
                        county_id=tenant.county_id,
                        criterion=finding.criterion,
                        department=department,
                        finding=finding.as_dict(),
                        evidence=evidence,
                        payload_hash=digest,
                        first_run_id=run.pk,
                        last_run_id=run.pk,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                )
        cleared = [h for key, h in open_hits.items() if key in met and key not in found]
        RecheckHit.objects.bulk_create(new)
        # Most open hits are seen again on the same answer: one UPDATE for all of them.
        same = [h.pk for h, changed in refreshed if not changed]
        RecheckHit.objects.filter(pk__in=same).update(
            last_run_id=run.pk, last_seen_at=now, seen_count=F("seen_count") + 1
        )
        for hit, changed in refreshed:
            if changed:
                hit.last_run_id, hit.last_seen_at = run.pk, now
                hit.seen_count += 1
                hit.save(
                    update_fields=[
                        "last_run",
                        "last_seen_at",
                        "seen_count",
                        "finding",
                        "evidence",
                        "payload_hash",
                    ]
                )
        RecheckHit.objects.filter(pk__in=[h.pk for h in cleared]).update(
            status=Status.CLEARED, resolved_at=now, reason="复查时部门数据已符合条件"
        )
        places = {t.household_id: t for t in tenants}
        record_events(
            [_hit_event(hit, places[hit.household_id], "recheck.hit") for hit in new]
            + [_hit_event(hit, places[hit.household_id], "recheck.cleared") for hit in cleared]
        )
        RecheckRun.objects.filter(pk=run.pk).update(
            done=F("done") + len(tenants),
            last_household=max(households),
            hits_new=F("hits_new") + len(new),
            hits_refreshed=F("hits_refreshed") + len(refreshed),
            hits_cleared=F("hits_cleared") + len(cleared),
        )
    run.refresh_from_db()
    return run


def _rules_by_county(counties: set[int]) -> dict[int, list[EligibilityRule]]:
    result: dict[int, list[EligibilityRule]] = {}
    for rule in EligibilityRule.objects.filter(county_id__in=counties).order_by("criterion"):
        result.setdefault(rule.county_id, []).append(rule)
    return result


def describe(finding: dict) -> str:
    """The finding in one Chinese sentence for staff and the archive, e.g.
    家庭人均月收入 4500.00元，不符合标准（不超过 1800.00元）."""
    return (
        f"{finding['label']} {finding['found']}{finding['unit']}，"
        f"不符合标准（{finding['operator']} {finding['threshold']}{finding['unit']}）"
    )


def _hit_event(hit: RecheckHit, tenant: Tenant, action: str) -> Event:
    if action == "recheck.hit":
        summary = f"动态核查疑点：{describe(hit.finding)}（{DEPARTMENTS[hit.department]}）"
    else:
        summary = f"动态核查疑点解除：{hit.finding['label']} 复查时已符合条件"
    return Event(
        action=action,
        summary=summary[:300],
        actor=None,
        household_id=tenant.household_id,
        unit_id=tenant.unit_id,
        estate_id=tenant.estate_id,
        after={"hit": hit.pk, "criterion": hit.criterion, "payload_hash": hit.payload_hash},
    )


# --- the county's decisions on a hit ---------------------------------------------------------


def hits_for(user):
    """Hits in the user's jurisdiction (the estate of the lease, as for rent)."""
    return RecheckHit.objects.filter(estate_scope(user, SCOPE))


def may_decide(user) -> bool:
    """The county (or city) housing department judges eligibility; others follow the queue."""
    if user.is_authenticated and user.is_superuser:
        return True
    profile = profile_of(user)
    return bool(profile and profile.role in ("city", "district"))


def _locked_open(hit_id: int, actor, reason: str) -> RecheckHit:
    if not may_decide(actor):
        raise NotAllowed("只有市、县（区）住房保障部门可以处理动态核查疑点。")
    if not reason.strip():
        raise NotAllowed("请填写处理意见（理由）。")
    hit = (
        hits_for(actor)
        .select_for_update(of=("self",))
        .select_related("contract__unit__building")
        .filter(pk=hit_id)
        .first()
    )
    if hit is None:
        raise NotAllowed("没有找到该疑点（或不在您的管辖范围内）。")
    if hit.status != Status.OPEN:
        raise NotAllowed(f"该疑点已处理（{hit.get_status_display()}），不能再次处理。")
    return hit


def _close(hit: RecheckHit, status: str, actor, reason: str, follow_up: str, text: str) -> None:
    now = timezone.now()
    RecheckHit.objects.filter(pk=hit.pk, status=Status.OPEN).update(
        status=status, resolved_at=now, resolved_by=actor, reason=reason, follow_up=follow_up
    )
    hit.refresh_from_db()
    record_event(
        f"recheck.{status}",
        f"{text}：{describe(hit.finding)}",
        actor=actor,
        household_id=hit.household_id,
        unit_id=hit.contract.unit_id,
        estate_id=hit.contract.unit.building.estate_id,
        after={"hit": hit.pk, "status": status, "follow_up": follow_up},
        reason=reason,
    )


@transaction.atomic
def dismiss(hit_id: int, *, reason: str, actor) -> RecheckHit:
    """核实无误（误报）: the household still qualifies; the same answer will not be raised again."""
    hit = _locked_open(hit_id, actor, reason)
    _close(hit, Status.DISMISSED, actor, reason.strip(), "", "动态核查疑点核实为误报")
    return hit


@transaction.atomic
def start_exit(hit_id: int, *, reason: str, actor) -> RecheckHit:
    """启动退出: the household no longer qualifies; the exit process takes it from here."""
    from tenancy.services import exits

    hit = _locked_open(hit_id, actor, reason)
    case = exits.start(
        hit.contract_id, reason="ineligible", actor=actor, source_ref=f"recheck:{hit.pk}"
    )
    follow_up = f"exit:{getattr(case, 'pk', '')}"
    _close(hit, Status.EXIT_STARTED, actor, reason.strip(), follow_up, "动态核查疑点启动退出")
    return hit


@transaction.atomic
def open_case(hit_id: int, *, reason: str, actor) -> RecheckHit:
    """违规立案: the household concealed what it had; a violation case investigates it."""
    from tenancy.services import violations

    hit = _locked_open(hit_id, actor, reason)
    case = violations.open_case(
        kind_code=CASE_KIND,
        unit_id=hit.contract.unit_id,
        contract_id=hit.contract_id,
        household_id=hit.household_id,
        source="recheck",
        source_ref=f"recheck:{hit.pk}",
        summary=f"动态核查：{describe(hit.finding)}。{reason.strip()}",
        evidence={
            "finding": hit.finding,
            "department": hit.department,
            "payload_hash": hit.payload_hash,
            "fields": hit.evidence.get("fields", {}),
        },
        actor=actor,
    )
    follow_up = f"violation:{case.pk}"
    _close(hit, Status.CASE_OPENED, actor, reason.strip(), follow_up, "动态核查疑点违规立案")
    return hit


def latest_run() -> RecheckRun | None:
    return RecheckRun.objects.order_by("-started_at", "-pk").first()
