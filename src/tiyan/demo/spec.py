"""The demo world as data: a car-dealer group, a hotel group, their people and journeys."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name_zh: str
    name_en: str
    kind: str
    parent: str | None
    quality: float = 0.0  # how much better (+) or worse (-) the experience is here


DEALERS = (
    # code, zh, en, region, quality
    ("gz-tianhe", "广州天河店", "Guangzhou Tianhe", "auto-south", 0.30),
    ("gz-panyu", "广州番禺店", "Guangzhou Panyu", "auto-south", 0.0),
    ("sz-nanshan", "深圳南山店", "Shenzhen Nanshan", "auto-south", 0.15),
    ("sh-pudong", "上海浦东店", "Shanghai Pudong", "auto-east", -0.10),
    ("hz-xihu", "杭州西湖店", "Hangzhou Xihu", "auto-east", 0.20),
    ("nj-gulou", "南京鼓楼店", "Nanjing Gulou", "auto-east", -0.45),
)
HOTELS = (
    ("htl-sh-bund", "上海外滩店", "Shanghai Bund", 0.25),
    ("htl-bj-cbd", "北京国贸店", "Beijing CBD", 0.0),
    ("htl-cd-tfs", "成都天府店", "Chengdu Tianfu", -0.25),
)
# How big each store is against the group's typical one: its customers and its visits a month
SIZE = {"gz-tianhe": 1.35, "gz-panyu": 0.8, "sz-nanshan": 1.1, "sh-pudong": 1.5, "hz-xihu": 0.65,
        "nj-gulou": 0.9, "htl-sh-bund": 1.3, "htl-bj-cbd": 1.0, "htl-cd-tfs": 0.7}
# Visits a month against the yearly average, by business and local calendar month (1–12): car
# sales peak before Spring Festival and in the autumn; hotels in summer and the October holiday,
# quiet around Spring Festival. After-sales visits follow each owner's service cycle instead
# (visits due at Spring Festival are partly brought forward to January).
SEASON = {
    "car-sales": (1.3, 0.6, 0.9, 1.0, 1.0, 0.9, 0.85, 0.9, 1.15, 1.2, 1.0, 1.2),
    "hotel-stay": (0.75, 0.7, 0.9, 1.0, 1.05, 1.0, 1.25, 1.3, 1.0, 1.3, 0.9, 0.85),
}
# unit -> the text-analysis taxonomy for comments about its subtree (unit attribute "industry")
INDUSTRIES = {"auto": "car_aftersales", "hotel": "hotel"}


def units() -> list[UnitSpec]:
    out = [
        UnitSpec("demo", "演示控股集团", "Demo Holdings", "group", None),
        UnitSpec("auto", "华南汽车服务集团", "South China Auto Services", "company", "demo"),
        UnitSpec("auto-south", "华南区", "South region", "region", "auto"),
        UnitSpec("auto-east", "华东区", "East region", "region", "auto"),
        UnitSpec("hotel", "悦途酒店集团", "Yuetu Hotels", "company", "demo"),
    ]
    for code, zh, en, region, quality in DEALERS:
        out.append(UnitSpec(code, zh, en, "store", region, quality))
        out.append(UnitSpec(f"{code}-as", f"{zh}售后服务部", f"{en} after-sales", "department",
                            code, quality))
        out.append(UnitSpec(f"{code}-sales", f"{zh}销售部", f"{en} sales", "department", code,
                            quality))
    for code, zh, en, quality in HOTELS:
        out.append(UnitSpec(code, f"悦途酒店{zh}", f"Yuetu {en}", "store", "hotel", quality))
    return out


ADVISORS_PER_DEALER = 5
CONSULTANTS_PER_DEALER = 3
FRONT_DESK_PER_HOTEL = 4
# (dealer, advisor index) -> effect: a few staff who are clearly better or worse
STAFF_EFFECTS = {
    ("gz-tianhe", 0): 0.65, ("hz-xihu", 2): 0.55, ("sz-nanshan", 1): 0.50,
    ("nj-gulou", 3): -0.75, ("sh-pudong", 4): -0.65, ("gz-panyu", 2): -0.55,
}

DEMO_PASSWORD = "tiyan-demo-2026"


@dataclass(frozen=True)
class UserSpec:
    email: str
    name: str
    role: str
    unit: str
    staff_of: tuple[str, int] | None = None  # (dealer, advisor index) for frontline staff


USERS = (
    UserSpec("admin@demo.tiyan.dev", "系统管理员", "admin", "demo"),
    UserSpec("cx@demo.tiyan.dev", "体验经理 周敏", "cx_manager", "auto"),
    UserSpec("south@demo.tiyan.dev", "华南区经理 陈立", "unit_manager", "auto-south"),
    UserSpec("tianhe@demo.tiyan.dev", "天河店经理 黄伟", "unit_manager", "gz-tianhe"),
    UserSpec("gulou@demo.tiyan.dev", "鼓楼店经理 孙强", "unit_manager", "nj-gulou"),
    UserSpec("advisor@demo.tiyan.dev", "服务顾问（天河）", "frontline", "gz-tianhe-as",
             ("gz-tianhe", 0)),
    UserSpec("agent@demo.tiyan.dev", "回访坐席 林晓", "agent", "auto"),
    UserSpec("analyst@demo.tiyan.dev", "数据分析师 赵雪", "analyst", "demo"),
    UserSpec("bund@demo.tiyan.dev", "外滩店经理 吴芳", "unit_manager", "htl-sh-bund"),
    UserSpec("viewer@demo.tiyan.dev", "酒店集团观察员", "viewer", "hotel"),
)

JOURNEYS = {
    "car_after_sales": ("汽车售后服务", "Car after-sales service", (
        ("appointment", "预约", "Appointment", (
            ("booking_online", "在线预约", "Online booking"),
            ("booking_phone", "电话预约", "Phone booking"),
        )),
        ("reception", "接待", "Reception", (
            ("greeting", "迎接与登记", "Greeting"),
            ("walkaround", "环车检查", "Walk-around check"),
            ("estimate", "预估费用与完工时间", "Cost and time estimate"),
        )),
        ("repair", "维修保养", "Repair", (
            ("lounge", "客户休息区", "Customer lounge"),
            ("progress", "进度告知", "Progress updates"),
        )),
        ("delivery", "交车", "Delivery", (
            ("joint_inspection", "陪同验车", "Inspecting the car together"),
            ("work_explained", "维修项目说明", "Explaining the work"),
        )),
        ("payment", "结算", "Payment", (
            ("invoice", "费用结算", "Invoice and charges"),
        )),
        ("follow_up", "回访", "Follow-up", (
            ("call_3_days", "三日内回访电话", "Follow-up call within 3 days"),
        )),
    )),
    "car_sales": ("汽车销售", "Car sales", (
        ("lead_response", "销售线索响应", "Response to a sales lead", ()),
        ("consultation", "展厅销售咨询", "Sales consultation", (
            ("consultation_reception", "接待（5 项）", "Reception (5 items)"),
            ("needs_analysis", "需求分析与车辆介绍（12 项）",
             "Needs analysis & vehicle presentation (12 items)"),
            ("departure", "送别（3 项）", "Departure (3 items)"),
        )),
        ("test_drive", "试乘试驾", "Test drive", ()),
        ("delivery", "交车", "Delivery", ()),
        ("aftersales_intro", "售后服务沟通", "After-sales service communication", ()),
    )),
    "hotel_stay": ("酒店入住", "Hotel stay", (
        ("booking", "预订", "Booking", (
            ("booking_online", "网上预订", "Online booking"),
            ("booking_phone", "电话预订", "Phone booking"),
        )),
        ("check_in", "入住登记", "Check-in", (
            ("front_desk", "前台接待", "Front desk"),
            ("key_handover", "办理入住与房卡", "Key handover"),
        )),
        ("room", "客房", "Room", (
            ("housekeeping", "客房清洁", "Housekeeping"),
            ("room_service", "客房送餐", "Room service"),
        )),
        ("dining", "餐饮", "Dining", (
            ("breakfast", "早餐", "Breakfast"),
            ("restaurant", "餐厅", "Restaurant"),
        )),
        ("facilities", "设施", "Facilities", (
            ("gym", "健身房", "Gym"),
            ("pool", "泳池", "Pool"),
            ("spa", "水疗", "Spa"),
        )),
        ("check_out", "退房结账", "Check-out", (
            ("billing", "结账", "Billing"),
        )),
    )),
}
# survey code -> (template, name, owner unit, journey, touchpoint)
SURVEYS = {
    "after-sales": ("after_sales_phone", "售后服务回访 After-sales", "auto", "car_after_sales",
                    "follow_up"),
    "car-sales": ("car_sales", "购车体验 Car purchase", "auto", "car_sales", "delivery"),
    "hotel-stay": ("hotel_stay", "入住体验 Hotel stay", "hotel", "hotel_stay", "check_out"),
    "relationship-nps": ("plain_nps", "关系型 NPS Relationship NPS", "demo", None, None),
}
# Who listens where: (journey, touchpoint, survey code, channels)
LISTENERS = (
    ("car_after_sales", "delivery", "after-sales", ("qr",)),
    ("car_after_sales", "follow_up", "after-sales", ("sms", "phone")),
    ("car_after_sales", "call_3_days", "after-sales", ("phone",)),
    ("car_sales", "test_drive", "car-sales", ("qr",)),
    ("car_sales", "delivery", "car-sales", ("sms", "email")),
    ("hotel_stay", "room", "hotel-stay", ("qr",)),
    ("hotel_stay", "check_out", "hotel-stay", ("email", "sms")),
)
