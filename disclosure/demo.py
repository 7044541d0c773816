"""Demo publications and pages, made through the same services staff use, clearly marked."""

from django.db import transaction

from disclosure import services
from disclosure.models import Kind, Page
from geo.models import Estate, Region

PAGES = [
    (
        Page.Section.POLICY,
        "national-rules",
        "《公共租赁住房管理办法》要点（演示）",
        "【演示内容】以下为全国性规定的摘要，具体以本地正式文件为准。\n\n"
        "## 保障对象\n\n- 城镇中等偏下收入住房困难家庭、新就业无房职工"
        "和在城镇稳定就业的外来务工人员。\n\n"
        "## 公示\n\n- 申请审核结果和轮候名单应当向社会公开；"
        "经公示无异议或异议不成立的，登记为轮候对象。\n\n"
        "## 租赁\n\n- 合同期限一般不超过 5 年；租金标准应低于同地段同类型住房的市场租金水平。",
    ),
    (
        Page.Section.GUIDE,
        "how-to-apply",
        "公租房申请办事指南（演示）",
        "【演示内容】\n\n## 申请条件\n\n符合本县（区）公布的收入、住房和户籍或就业条件的家庭。\n\n"
        "## 办理流程\n\n1. 提出申请（网上或社区窗口）\n2. 社区、街道初审\n3. 部门数据联审\n"
        "4. 县（区）住房保障部门复审\n5. 公示（不少于 7 个工作日）\n6. 审批并进入轮候\n\n"
        "## 无需提交的证明\n\n户籍、婚姻、不动产、社保、公积金、低保等信息由系统向有关部门核查。",
    ),
    (
        Page.Section.CONTACT,
        "hotline",
        "咨询投诉电话（演示）",
        "【演示内容】工作日 8:30–12:00，14:30–17:30。\n\n| 事项 | 电话 |\n| --- | --- |\n"
        "| 申请咨询 | 0000-0000000（演示） |\n| 投诉举报 | 0000-0000001（演示） |",
    ),
]


def seed_demo_disclosure(estates: int = 3) -> int:
    """Pages, a notice and vacancy releases for a few estates; returns publications queued."""
    queued = 0
    with transaction.atomic():
        for i, (section, slug, title, body) in enumerate(PAGES):
            Page.objects.update_or_create(
                slug=slug,
                defaults={"section": section, "title": title, "body": body, "ordering": i},
            )
        city = Region.objects.filter(level=Region.Level.CITY).order_by("adcode").first()
        if city is not None:
            services.enqueue_publication(
                kind=Kind.GENERAL_NOTICE,
                region=city,
                title="关于开展公租房年度资格复核的通知（演示）",
                body="【演示内容】本站数据为程序生成的演示数据。请在租户家庭于规定期限内配合完成年度复核。",
            )
            queued += 1
        for estate in Estate.objects.published().filter(is_demo=True).order_by("pk")[:estates]:
            try:
                services.release_vacancies(estate, actor=None)
                queued += 1
            except services.PublishError:
                continue
    for outbox_id in services.pending_outbox_ids():
        services.process_outbox(outbox_id)
    return queued
