"""What new-car buyers write about the sales journey: phrases per touchpoint and polarity."""

from __future__ import annotations

from tiyan.demo._phrases_base import (
    ZH_EMOJI,
    ZH_ENDINGS,
    ZH_JOINTS,
    ZH_MILD_NEGATIVE,
    ZH_MILD_POSITIVE,
    ZH_PII,
    ZH_SLOTS,
    AspectPhrases,
    Phrasebook,
    ToneKit,
)

RATINGS = {
    "lead_response": AspectPhrases(
        negative=(
            "在网上留了信息，三天都没人联系",
            "打电话咨询没人接，回电也{very}慢",
            "留资后一直没人跟进",
            "问个价格，{staff}隔了一天才回",
            "线索提交了就石沉大海",
            "微信咨询半天不回",
        ),
        positive=(
            "网上留了电话，十分钟就有{staff}联系我",
            "咨询回复{very}及时",
            "{staff}第一时间就联系了我",
            "留资后马上有人跟进，效率{very}高",
            "微信咨询秒回，{very}专业",
            "电话回得{very}快，信息也讲得清楚",
        ),
        nouns=("响应速度", "回复速度"),
    ),
    "consultation": AspectPhrases(
        negative=(
            "{staff}对车型不熟悉，问什么都要去查",
            "到店没人接待，转了一圈才有人理",
            "{staff}一直催着下定，{very}反感",
            "讲解{too}敷衍了，感觉{staff}不想卖",
            "问优惠就打太极，一句实话都没有",
            "{staff}态度冷淡，爱答不理",
        ),
        positive=(
            "{staff}讲解{very}专业，配置讲得清清楚楚",
            "到店接待{very}热情",
            "{staff}{very}耐心，根据我的需求推荐了合适的车型",
            "不强推，{very}尊重顾客意见",
            "{staff}对车{very}了解，有问必答",
            "需求分析做得{very}细，推荐的车型{very}合适",
        ),
        nouns=("{staff}的讲解", "到店接待"),
    ),
    "test_drive": AspectPhrases(
        negative=(
            "想试驾还要排队，等了一个多小时",
            "试驾路线{too}短了，根本没感受到",
            "试驾车{very}脏，油也快没了",
            "试驾时{staff}一直在推销，没法专心开",
            "预约的试驾车没准备好",
            "试驾{too}草率，绕了一圈就结束了",
        ),
        positive=(
            "试驾体验{very}好，路线安排得{very}合理",
            "试驾车准备得{very}好，随到随试",
            "{staff}陪同试驾，讲解{very}到位",
            "还安排了高速路段试驾，{very}用心",
            "试驾时间{very}充足，开得{very}过瘾",
            "可以上门试驾，{very}方便",
        ),
        nouns=("试驾", "试驾安排"),
    ),
    "delivery": AspectPhrases(
        negative=(
            "提车时间一拖再拖",
            "交车时发现漆面有划痕",
            "交车仪式{very}敷衍，钥匙一给就走了",
            "说好的赠品交车时都没有",
            "交车手续{very}繁琐，折腾了半天",
            "新车里一股异味，也没处理",
        ),
        positive=(
            "交车{very}顺利，手续办得{very}快",
            "交车{very}有仪式感，还送了花",
            "{staff}把车的功能一项项教给我",
            "提车准时，车况完美",
            "交车时一家人拍了合影，{very}开心",
            "赠品一样不少，{very}守信",
        ),
        nouns=("交车", "提车流程"),
    ),
    "aftersales_intro": AspectPhrases(
        negative=(
            "售后的事情{staff}一句没讲",
            "首保时间和项目都没交代",
            "问售后政策，说去问售后部门",
            "保修条款讲得含糊不清",
            "买完车就没人管了",
            "售后顾问也没介绍给我",
        ),
        positive=(
            "{staff}详细介绍了保养周期和保修政策",
            "还把售后顾问介绍给了我，{very}方便",
            "首保的时间和项目都讲得{very}清楚",
            "售后政策讲得明明白白",
            "加了售后的微信，有问题随时问",
            "保修和救援服务都讲清楚了",
        ),
        nouns=("售后介绍", "售后说明"),
    ),
}

TONES = ToneKit(
    openers={
        "promoter": (
            "买车体验{very}好",
            "{very}满意的一次购车",
            "整个购车过程{very}愉快",
            "提车啦，{very}开心",
            "选对了店",
        ),
        "passive": ("买车过程还行", "整体还可以", "中规中矩吧", "流程正常", "还算满意"),
        "detractor": (
            "买车体验{very}差",
            "{very}失望",
            "差评",
            "后悔在这家买",
            "{very}糟心的购车经历",
        ),
    },
    closers={
        "promoter": ("推荐朋友来这买", "会介绍朋友过来", "点赞", "好评", "值得信赖"),
        "passive": ("希望改进", "还行吧", "看后续服务吧", "希望越来越好"),
        "detractor": ("不会推荐给朋友", "后悔了", "差评", "希望店里重视", "劝大家慎重"),
    },
    general={
        "promoter": ("都{very}好", "买得{very}开心", "整个过程{very}顺利", "没什么可挑剔的"),
        "passive": ("还行", "一般吧", "没什么特别的", "正常水平"),
        "detractor": ("{very}失望", "体验{very}差", "不推荐这家店", "说不上哪里特别差，就是不舒服"),
    },
    emoji=ZH_EMOJI,
    endings=ZH_ENDINGS,
)

BOOK = Phrasebook(
    survey="sales",
    language="zh",
    ratings=RATINGS,
    processes={},
    tones=TONES,
    joints=ZH_JOINTS,
    mild_positive=ZH_MILD_POSITIVE,
    mild_negative=ZH_MILD_NEGATIVE,
    slots={**ZH_SLOTS, "staff": ("销售", "销售顾问", "接待的销售", "那个销售", "销售小哥")},
    staff_name_forms=("{full}", "{surname}经理", "小{surname}", "销售{full}", "{full}"),
    staff_thanks=("感谢{staff}", "{staff}{very}靠谱", "买车就找{staff}", "谢谢{staff}的耐心讲解"),
    pii={"mobile": ZH_PII["mobile"], "email": ZH_PII["email"]},
)
