#!/usr/bin/env python3
"""Writes deploy/demo/requests.jsonl: realistic citizen requests for the demo, written for the
project (templates below, deterministic seed). Each line is the proto JSON of
hotline.v1.SubmitRequestRequest. Re-run after editing the templates:
    python3 tools/demo/make_requests.py > deploy/demo/requests.jsonl
"""
import json
import random

rng = random.Random(12345)

DISTRICTS = {
    "东湖区": ["东湖路", "湖滨北路", "文化街", "东湖新村"],
    "西山区": ["西山大道", "枫林路", "石桥街", "西山花园"],
    "南港区": ["港湾路", "渔人码头", "南港大道", "海景小区"],
    "北城区": ["北城中路", "建设街", "工人新村", "北站路"],
    "高新区": ["科技大道", "创新路", "软件园", "智汇园"],
    "滨江区": ["滨江东路", "江畔花园", "沿江大道", "滨江一街"],
}

CONSULTATIONS = [
    "你好，请问社保卡丢了怎么补办？", "我想咨询一下灵活就业人员怎么交社保", "请问失业保险金怎么申领，需要什么条件",
    "想问一下异地就医备案怎么办理", "请问公积金提取需要什么材料？", "我想了解居住证怎么办理",
    "请问办理居住证需要什么材料", "身份证快过期了，请问怎么换领", "请问新生儿怎么上户口",
    "请问护照怎么办理，要多久", "驾驶证到期了怎么换证", "请问违章停车罚单怎么处理",
    "请问水费怎么缴纳", "请问在哪里查询停水通知", "请问结婚登记需要什么材料",
    "我家老人80岁了，请问高龄津贴怎么申请", "请问公租房怎么申请", "请问营业执照怎么办理",
    "请问个人所得税汇算怎么办理", "请问大件垃圾怎么预约清运", "请问劳动仲裁怎么申请",
    "請問社保卡丟失了怎麼補辦", "請問居住證需要什麼材料", "想咨询小学入学报名什么时候开始",
    "How do I renew my residence permit?", "Where can I pay my water bill?",
    "请问我们小区旁边新开的那家店营业到几点", "请问市图书馆周一开不开门", "请问人才引进落户补贴怎么申请",
]

PROBLEMS = [  # (text template, type hint or None)
    ("{place}楼下的烧烤店每天营业到凌晨两点，油烟和噪音扰民，严重影响休息，希望尽快处理", None),
    ("{place}附近工地夜间施工，晚上十一点以后还在打桩，噪音太吵，投诉", None),
    ("{place}路段有一个大坑，已经有电动车摔倒，请尽快修补路面", None),
    ("{place}的路灯坏了一个多星期，晚上一片漆黑，行人很不安全", None),
    ("{place}垃圾桶满了好几天没人清运，臭味很大，蚊蝇很多", None),
    ("{place}人行道上长期有车辆违停，行人只能走机动车道", None),
    ("{place}小区二次供水水质发黄，有异味，不敢饮用", None),
    ("{place}的下水道堵塞，污水溢到路面，多次反映没人管", None),
    ("举报{place}有一家无证经营的小作坊，偷排污水到河里", "TICKET_TYPE_REPORT"),
    ("举报{place}一楼住户违章搭建，占用公共通道", "TICKET_TYPE_REPORT"),
    ("{place}有黑车长期在公交站拉客，举报", None),
    ("{place}公交站没有遮雨棚，建议增设候车亭", None),
    ("建议在{place}路口增设红绿灯，上下学时段车多很危险", None),
    ("感谢{place}环卫工人，每天把街道打扫得很干净，表扬", None),
    ("表扬{place}社区工作人员，帮我家老人办理了高龄津贴，非常满意", None),
    ("我家老人在{place}附近走失了，有阿尔茨海默症，求助帮忙寻找", None),
    ("{place}有一位流浪老人睡在桥下，天气冷了，求助救助站帮忙", None),
    ("公司拖欠我三个月工资，地址在{place}，投诉", None),
    ("{place}的菜市场乱收费，一个摊位管理费涨了一倍", None),
]

URGENT = [
    "{place}小区楼道里闻到很浓的煤气味，怀疑燃气泄漏，请马上派人",
    "{place}路面自来水管爆裂，水一直往外冒，路都淹了",
    "{place}有人被困电梯，已经半个小时了，物业联系不上",
    "{place}路边电线断落在地上，还在冒火花",
]

CHANNELS = ["CHANNEL_PHONE"] * 5 + ["CHANNEL_WECHAT"] * 3 + ["CHANNEL_WEB"] * 2 + [
    "CHANNEL_APP", "CHANNEL_APP", "CHANNEL_SMS", "CHANNEL_EMAIL", "CHANNEL_MESSAGE_BOARD",
    "CHANNEL_TRANSFER_110", "CHANNEL_ENTERPRISE_LINE"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁"
n = 0


def phone():
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def request(text, district="", address="", type_hint=None, channel=None, citizen=None):
    global n
    n += 1
    channel = channel or rng.choice(CHANNELS)
    contact = citizen or {"phone": phone(), "name": rng.choice(SURNAMES) + rng.choice(["先生", "女士", "伟", "芳", "强"])}
    r = {"channel": channel, "contact": dict(contact), "text": text,
         "idempotencyKey": f"demo-{n:04d}"}
    if district or address:
        r["location"] = {"district": district, "address": address}
    if type_hint:
        r["typeHint"] = type_hint
    if channel == "CHANNEL_PHONE":
        r["callId"] = f"demo-call-{n:04d}"
    if channel == "CHANNEL_EMAIL":
        r["contact"]["email"] = f"citizen{n}@example.cn"
    if channel == "CHANNEL_WECHAT":
        r["contact"]["wechatOpenid"] = f"o-demo-{n:04d}"
    if channel == "CHANNEL_TRANSFER_110":
        r["externalRef"] = f"110-2026-{n:06d}"
    return r


def place():
    d = rng.choice(list(DISTRICTS))
    street = rng.choice(DISTRICTS[d])
    return d, f"{street}{rng.randint(1, 300)}号"


out = []
for _ in range(120):
    out.append(request(rng.choice(CONSULTATIONS)))
for _ in range(130):
    d, a = place()
    tmpl, hint = rng.choice(PROBLEMS)
    out.append(request(tmpl.format(place=a), d, a, hint))
for _ in range(12):
    d, a = place()
    out.append(request(rng.choice(URGENT).format(place=a), d, a))
# The same problem again from another channel: by the same citizen, or by a neighbour at the
# same address. Intake should link these to the first report, not dispatch them twice.
originals = [r for r in out if "location" in r and r.get("typeHint") is None][:40]
for r in rng.sample(originals, 30):
    again = request(r["text"] + rng.choice(["", "，还是没人处理", "。"]), r["location"]["district"],
                    r["location"]["address"],
                    citizen=r["contact"] if rng.random() < 0.5 else None)
    out.append(again)
for r in out:
    print(json.dumps(r, ensure_ascii=False))
