"""Ready-made survey definitions from the product's domain material (PRODUCT.md).

Each template is the stored JSON form of a definition; `template(code)` parses it, so a
template is validated exactly like a survey a CX manager builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiyan.domain.surveys import SurveyDefinition, parse_definition

# (item_code, touchpoint, zh, en)
AFTER_SALES_PROCESS = (
    ("proc_appointment", "appointment", "是否为您提供了预约服务？", "Were you offered an appointment?"),
    ("proc_cost_estimate", "reception", "服务顾问是否预估了维修费用？",
     "Did the service advisor estimate the cost?"),
    ("proc_time_estimate", "reception", "服务顾问是否预估了完工时间？",
     "Did the service advisor estimate the completion time?"),
    ("proc_refreshments", "repair", "休息区是否提供了免费茶点？",
     "Were free food and drinks offered in the lounge?"),
    ("proc_inspect_invite", "delivery", "完工后服务顾问是否邀请您一起验车？",
     "Did the advisor invite you to inspect the car after the work?"),
    ("proc_advice", "delivery", "服务顾问是否给了您有用的用车建议？",
     "Did the advisor give you helpful advice?"),
    ("proc_on_time", "delivery", "车辆是否按时交付？", "Was the car delivered on time?"),
    ("proc_work_complete", "repair", "您要求的项目是否全部完成？",
     "Was all the requested work done?"),
    ("proc_followup_call", "follow_up", "离店后 3 天内是否接到回访电话？",
     "Did you get a follow-up call within 3 days of leaving?"),
)
AFTER_SALES_SATISFACTION = (
    ("sat_reception_wait", "reception", "接待等候时间", "Waiting time at reception"),
    ("sat_lounge", "repair", "休息区舒适度", "Lounge comfort"),
    ("sat_explanation", "payment", "对维修项目和最终费用的解释", "Explanation of work and final charges"),
    ("sat_charges_fair", "payment", "收费合理性", "Fairness of charges"),
    ("sat_car_clean", "delivery", "车辆内外清洁", "Car clean inside and out"),
    ("sat_work_time", "repair", "维修所用时间", "Time the work took"),
    ("sat_work_quality", "repair", "维修质量", "Quality of the work"),
    ("sat_advisor", "reception", "对服务顾问的满意度", "Satisfaction with the service advisor"),
)
HOTEL_ITEMS = (
    ("room_cleanliness", "room", "客房清洁", "Room cleanliness"),
    ("room_bedding", "room", "床品舒适", "Bedding"),
    ("room_temperature", "room", "房间温度", "Room temperature"),
    ("room_quiet", "room", "安静程度", "Quietness"),
    ("dining_choice", "dining", "餐饮选择", "Dining choice"),
    ("dining_taste", "dining", "菜品口味", "Taste of the food"),
    ("dining_speed", "dining", "上菜速度", "Speed of service at meals"),
    ("fac_gym", "facilities", "健身房", "Gym"),
    ("fac_pool", "facilities", "泳池", "Pool"),
    ("fac_spa", "facilities", "水疗", "Spa"),
    ("service_front_desk", "check_in", "前台服务", "Front desk"),
    ("service_room", "room", "客房服务", "Room service"),
    ("service_attitude", "check_in", "员工服务态度", "Staff attitude"),
    ("price_reasonable", "check_out", "价格合理", "Price reasonableness"),
    ("price_transparent", "check_out", "收费透明", "Price transparency"),
    ("personal_care", "check_in", "个性化关怀", "Personalised care"),
)
OPTIONAL_HOTEL_ITEMS = frozenset({"fac_gym", "fac_pool", "fac_spa", "dining_choice",
                                  "dining_taste", "dining_speed", "service_room"})
SALES_TOUCHPOINTS = (
    ("lead_response", "lead_response", "对您咨询的响应速度", "Response to your enquiry"),
    ("consultation", "consultation", "展厅销售顾问的接待与讲解", "Sales consultation in the showroom"),
    ("test_drive", "test_drive", "试乘试驾", "Test drive"),
    ("delivery", "delivery", "交车过程", "Delivery"),
    ("aftersales_intro", "aftersales_intro", "售后服务介绍与沟通", "After-sales service communication"),
)


def _nps(key: str = "nps", page: int = 1) -> dict[str, Any]:
    return {"key": key, "type": "nps", "required": True, "item_code": "nps", "page": page,
            "text": {"zh-CN": "您有多大可能向亲友推荐我们？", "en": "How likely are you to "
                     "recommend us to a friend or colleague?"}}


def _comment(page: int, touchpoint: str | None = None) -> dict[str, Any]:
    question: dict[str, Any] = {
        "key": "comment", "type": "text", "item_code": "comment", "page": page,
        "text": {"zh-CN": "还有什么想告诉我们的吗？", "en": "Anything else you would like to tell us?"}}
    if touchpoint:
        question["touchpoint"] = touchpoint
    return question


def _overall(page: int, zh: str, en: str) -> dict[str, Any]:
    return {"key": "overall", "type": "csat", "required": True, "item_code": "csat", "page": page,
            "text": {"zh-CN": zh, "en": en}}


def _items(rows: tuple[tuple[str, str, str, str], ...], qtype: str, page: int,
           optional: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    return [{"key": code, "type": qtype, "item_code": code, "touchpoint": tp, "page": page,
             "required": code not in optional, "text": {"zh-CN": zh, "en": en}}
            for code, tp, zh, en in rows]


TEMPLATES: Mapping[str, dict[str, Any]] = {
    "after_sales_phone": {
        "title": {"zh-CN": "售后服务回访问卷", "en": "After-sales service survey"},
        "questions": [
            *_items(AFTER_SALES_PROCESS, "yesno", 1),
            *_items(AFTER_SALES_SATISFACTION, "csat", 2),
            _overall(2, "您对本次售后服务的总体评价", "Overall, how would you rate this service visit?"),
            _nps(page=3),
            _comment(3),
        ],
    },
    "hotel_stay": {
        "title": {"zh-CN": "入住体验调查", "en": "Your stay with us"},
        "questions": [
            *_items(HOTEL_ITEMS, "csat", 1, OPTIONAL_HOTEL_ITEMS),
            _overall(2, "您对本次入住的总体满意度", "Overall, how satisfied were you with your stay?"),
            _nps(page=2),
            _comment(2),
        ],
    },
    "car_sales": {
        "title": {"zh-CN": "购车体验调查", "en": "Your car purchase experience"},
        "questions": [
            *_items(SALES_TOUCHPOINTS, "csat", 1),
            _overall(1, "您对本次购车体验的总体满意度", "Overall, how satisfied are you with buying "
                     "your car with us?"),
            _nps(page=2),
            _comment(2),
        ],
    },
    "plain_nps": {
        "title": {"zh-CN": "推荐意愿调查", "en": "Would you recommend us?"},
        "questions": [
            _nps(),
            {"key": "reason", "type": "text", "item_code": "comment",
             "text": {"zh-CN": "您给出这个分数的主要原因是什么？",
                      "en": "What is the main reason for your score?"}},
        ],
    },
}


def standard_item_codes() -> frozenset[str]:
    """The item codes of the built-in templates: the organisation's common measures, which any
    unit's surveys may use (other item codes belong to the units whose surveys use them)."""
    return frozenset(q["item_code"] for body in TEMPLATES.values() for q in body["questions"]
                     if q.get("item_code"))


def template(code: str) -> SurveyDefinition:
    return parse_definition(TEMPLATES[code])
