"""保障对象: the household made from an approved application, once, with coded relations."""

from django.utils import timezone

from archive.services import record_event
from housing.models import Application, Household, HouseholdMember, Relation

# Relations as 户籍 and applicants write them, to the codes of GB/T 4761.
RELATION_WORDS = {
    Relation.SELF: ("本人", "户主", "申请人"),
    Relation.SPOUSE: ("配偶", "夫", "妻", "丈夫", "妻子"),
    Relation.SON: ("子", "儿子", "长子", "次子", "独生子", "养子", "继子"),
    Relation.DAUGHTER: ("女", "女儿", "长女", "次女", "独生女", "养女", "继女"),
    Relation.GRANDCHILD: ("孙子", "孙女", "外孙子", "外孙女", "外孙"),
    Relation.PARENT: ("父母", "父亲", "母亲", "父", "母", "公公", "婆婆", "岳父", "岳母"),
    Relation.GRANDPARENT: ("祖父", "祖母", "外祖父", "外祖母", "爷爷", "奶奶", "外公", "外婆"),
    Relation.SIBLING: ("兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹", "兄弟姐妹"),
    Relation.NON_RELATIVE: ("非亲属", "保姆", "租客"),
}
WORD_TO_CODE = {word: code for code, words in RELATION_WORDS.items() for word in words}


def relation_code(text: str, id_number: str = "") -> str:
    """The GB/T 4761 group for a written relation; "子女" by the ID's sex digit when known."""
    text = (text or "").strip()
    if text in WORD_TO_CODE:
        return WORD_TO_CODE[text]
    if text == "子女":
        if len(id_number) == 18 and id_number[16].isdigit():
            return Relation.SON if int(id_number[16]) % 2 else Relation.DAUGHTER
        return Relation.SON
    return Relation.OTHER_RELATIVE


def create_household(application: Application, *, at=None, actor=None) -> Household:
    """Called inside the approval's transaction: the household that waits, rents and is
    reviewed from now on. The applicant is always a member, coded 本人."""
    at = at or timezone.now()
    household = Household.objects.create(
        application=application,
        public_key=application.public_key,
        applicant=application.applicant,
        head_name=application.name,
        head_id_number=application.id_number,
        phone=application.phone,
        county_id=application.county_id,
        street_id=application.street_id,
        community_id=application.community_id,
        size=1,
        priorities=list(application.priorities),
        approved_at=at,
    )
    members = [
        HouseholdMember(
            household=household,
            name=m.name,
            relation=relation_code(m.relation, m.id_number),
            relation_text=m.relation,
            id_number=m.id_number,
        )
        for m in application.members.all()
    ]
    if not any(m.id_number == application.id_number for m in members):
        members.insert(
            0,
            HouseholdMember(
                household=household,
                name=application.name,
                relation=Relation.SELF,
                relation_text="本人",
                id_number=application.id_number,
            ),
        )
    HouseholdMember.objects.bulk_create(members)
    household.size = len(members)
    household.save(update_fields=["size"])
    record_event(
        "household.created",
        f"{application.number} 审批通过，成为保障对象（{household.size} 人）",
        actor=actor,
        household_id=household.pk,
        after={"application": application.pk, "public_key": household.public_key},
    )
    return household


def set_household_status(household: Household, status: str, *, reason: str, actor) -> None:
    """Status moves made by higher layers (allocation, tenancy) with their archive event."""
    before = household.status
    household.status = status
    household.save(update_fields=["status"])
    record_event(
        "household.status",
        f"保障对象 {household.public_key}：{Household.Status(before).label} → "
        f"{Household.Status(status).label}",
        actor=actor,
        household_id=household.pk,
        reason=reason,
        before={"status": before},
        after={"status": status},
    )
