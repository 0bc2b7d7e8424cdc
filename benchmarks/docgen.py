"""Generated evidence documents with their ground truth: signed receipts (签收底单), carriers'
stamped certificates (物流红章证明), chat screenshots and inspection reports, in several layouts
and fonts, rotated, blurred, JPEG-compressed, with red seals overlapping the text and red
elements that are not seals.

    python benchmarks/docgen.py --out /tmp/docs --count 40 --seed 7

writes ``NNNN-<kind>.jpg`` and ``truth.jsonl`` (one line per image: file, kind, party,
attributes, stamp, layout, font, degradations). The same seed gives the same documents.
Needs Pillow and the CJK fonts .ci/setup installs (fonts-noto-cjk, fonts-wqy-*, fonts-arphic-*).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

# (path, index in the collection): Simplified Chinese faces of the Debian font packages
FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
)
KINDS = ("signed_receipt", "carrier_certificate", "chat_log", "inspection_report")

# couriers as printed -> the canonical name of rules/evidence/reading.yaml
COURIERS = {
    "中通快递": "中通快递", "中通": "中通快递", "ZTO Express": "中通快递",
    "圆通速递": "圆通速递", "圆通": "圆通速递", "韵达快递": "韵达快递", "韵达速递": "韵达快递",
    "申通快递": "申通快递", "顺丰速运": "顺丰速运", "顺丰": "顺丰速运", "京东快递": "京东物流",
    "极兔速递": "极兔速递", "德邦快递": "德邦快递", "中国邮政": "中国邮政",
}  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建"
    "国文斌宇浩凯健俊帆帅旭宁龙林欣怡佳琪晨雪婷颖倩琳梦瑶雨萱子涵"
    "思博"
)
CITIES = (
    "杭州",
    "上海",
    "广州",
    "深圳",
    "北京",
    "成都",
    "武汉",
    "南京",
    "苏州",
    "西安",
    "长沙",
    "郑州",
)
ITEMS = ("羊毛混纺大衣", "纯棉四件套", "蓝牙耳机", "保温杯", "运动鞋", "连衣裙", "电饭煲", "行李箱")
LABS = ("国家服装质量检验检测中心", "浙江省轻工业品质量检验研究院", "上海市质量监督检验技术研究院",
        "广东产品质量监督检验研究院", "江苏省纺织产品质量监督检验研究院")  # fmt: skip
CHAT_BUYER = (
    "你好，请问什么时候发货？", "我收到的衣服有破洞", "这个是纯棉的吗？", "能不能退货？",
    "快递显示签收了但我没收到", "颜色和图片不一样", "好的谢谢", "那我申请退款了",
)  # fmt: skip
CHAT_SELLER = (
    "亲，今天下午就发", "是的亲，100%纯棉", "亲，麻烦拍个照片看看", "可以的亲",
    "我们保证是正品", "亲，已经帮您催快递了", "不好意思亲", "收到请确认一下",
)  # fmt: skip
DAMAGE = {True: ("签收时外包装破损。", "快件外包装破损，已备注。"),
          False: ("签收时外包装完好。", "快件外包装完好无损。")}  # fmt: skip
RESULTS = {
    "no_defect": "所检项目符合标准要求，判定为合格。",
    "defect": "所检项目不符合标准要求，判定为不合格。",
    "counterfeit": "经鉴定，该样品为假冒产品。",
    "genuine": "经鉴定，该样品为正品。",
}


@dataclass
class Doc:
    """One generated document: the page, its ground truth and how it was made."""

    kind: str
    party: str
    truth: dict[str, Any]
    stamp: bool
    layout: str
    font: str
    image: Image.Image
    notes: dict[str, Any] = field(default_factory=dict)


def fonts() -> list[tuple[str, int]]:
    found = [(p, i) for p, i in FONT_CANDIDATES if Path(p).is_file()]
    if not found:
        raise SystemExit("docgen: no CJK font found; run .ci/setup (fonts-noto-cjk, fonts-wqy-*)")
    return found


class Pen:
    def __init__(self, image: Image.Image, font: tuple[str, int]) -> None:
        self.image, self.draw, self.font = image, ImageDraw.Draw(image), font

    def face(self, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(self.font[0], size, index=self.font[1])

    def text(self, xy: tuple[float, float], text: str, size: int, fill: Any = (20, 20, 20)) -> None:
        self.draw.text(xy, text, font=self.face(size), fill=fill)

    def width(self, text: str, size: int) -> float:
        return float(self.draw.textlength(text, font=self.face(size)))


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 1, 2))))


def _tracking(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789") for _ in range(rng.choice((12, 13, 14, 15))))


def _when(rng: random.Random) -> datetime:
    return datetime(2024, 1, 1, 8) + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))


def _paper(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    tint = rng.randint(236, 255)
    return Image.new("RGB", size, (tint, tint, max(tint - rng.randint(0, 12), 200)))


def _red_extra(pen: Pen, rng: random.Random, w: int, y: float) -> str:
    """A red element that is not a seal: a title bar, red text, a filled badge."""
    choice = rng.choice(("bar", "text", "badge"))
    red = (rng.randint(190, 230), rng.randint(20, 60), rng.randint(20, 60))
    if choice == "bar":
        pen.draw.rectangle((0, y, w, y + rng.randint(10, 24)), fill=red)
    elif choice == "text":
        pen.text(
            (40, y), rng.choice(("重要提示：请当面验货", "贵重物品 小心轻放", "加急件")), 30, red
        )
    else:
        r = rng.randint(28, 40)
        cx, cy = w - 90, y + r
        pen.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=red)
        pen.text((cx - 16, cy - 18), "急", 32, (255, 255, 255))
    return choice


def draw_stamp(
    image: Image.Image,
    rng: random.Random,
    centre: tuple[float, float],
    font: tuple[str, int],
    words: str,
) -> str:
    """A red seal: round, oval or square, with a rim, a star and the issuer's name, blended
    over the page (multiply) so that black text stays visible through it."""
    shape = rng.choices(("round", "oval", "square"), (6, 3, 1))[0]
    r = rng.randint(85, 120)
    rx, ry = (
        (r, r) if shape == "round" else (int(r * 1.35), int(r * 0.9)) if shape == "oval" else (r, r)
    )
    size = (2 * rx + 20, 2 * ry + 20)
    layer = Image.new("L", size, 0)
    d = ImageDraw.Draw(layer)
    cx, cy = size[0] / 2, size[1] / 2
    rim = max(5, r // 14)
    if shape == "square":
        d.rectangle((cx - rx, cy - ry, cx + rx, cy + ry), outline=255, width=rim)
        face = ImageFont.truetype(font[0], int(r * 0.42), index=font[1])
        text = (words[:4] + "专用章")[:8]
        for i, ch in enumerate(text[:8]):
            col, row = divmod(i, 2)
            d.text(
                (cx + rx * 0.45 - col * r * 0.5, cy - ry * 0.7 + row * r * 0.7),
                ch,
                font=face,
                fill=255,
            )
    else:
        d.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=255, width=rim)
        _star(d, cx, cy, r * 0.28)
        face = ImageFont.truetype(font[0], int(r * 0.22), index=font[1])
        text = words[:14]
        span = math.radians(220)
        for i, ch in enumerate(text):
            angle = math.radians(-200) + span * (i + 0.5) / max(len(text), 1)
            px = cx + (rx - rim - r * 0.18) * math.cos(angle)
            py = cy + (ry - rim - r * 0.18) * math.sin(angle)
            glyph = Image.new("L", (int(r * 0.3), int(r * 0.3)), 0)
            ImageDraw.Draw(glyph).text((0, 0), ch, font=face, fill=255)
            glyph = glyph.rotate(-math.degrees(angle) - 90, expand=True)
            layer.paste(glyph, (int(px - glyph.width / 2), int(py - glyph.height / 2)), glyph)
        small = ImageFont.truetype(font[0], int(r * 0.2), index=font[1])
        d.text((cx - r * 0.45, cy + r * 0.35), "专用章", font=small, fill=255)
    layer = layer.rotate(rng.uniform(-25, 25), expand=True, fillcolor=0)
    strength = rng.uniform(0.65, 0.95)
    # uneven ink: some of the seal is lighter
    if rng.random() < 0.5:
        patchy = Image.effect_noise(layer.size, 60).filter(ImageFilter.GaussianBlur(6))
        layer = Image.composite(
            layer,
            layer.point(lambda v: int(v * 0.55)),
            patchy.point(lambda v: 255 if v > 110 else 0),
        )
    red = (rng.randint(185, 225), rng.randint(15, 55), rng.randint(20, 60))
    x0, y0 = int(centre[0] - layer.width / 2), int(centre[1] - layer.height / 2)
    box = (x0, y0, x0 + layer.width, y0 + layer.height)
    region = image.crop(box)
    tinted = Image.new("RGB", layer.size, red)
    from PIL import ImageChops

    multiplied = ImageChops.multiply(region, tinted)
    alpha = layer.point(lambda v: int(v * strength))
    region.paste(multiplied, (0, 0), alpha)
    image.paste(region, box[:2])
    return shape


def _star(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        rr = r if i % 2 == 0 else r * 0.4
        a = math.radians(-90 + 36 * i)
        points.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    d.polygon(points, fill=255)


# ---------------------------------------------------------------- documents


def receipt(rng: random.Random, font: tuple[str, int]) -> Doc:
    shown = rng.choice(list(COURIERS))
    tracking, recipient = _tracking(rng), _name(rng)
    signer = recipient if rng.random() < 0.7 else _name(rng)
    copy_no = rng.choice((1, 1, 2, 3))
    stamp = rng.random() < 0.5
    when = _when(rng)
    layout = rng.choice(("lines", "table", "compact"))
    w, h = rng.choice(((1000, 700), (1100, 760), (960, 680)))
    image = _paper(rng, (w, h))
    pen = Pen(image, font)
    numerals = "一二三四"
    copy_text = f"第{numerals[copy_no - 1] if rng.random() < 0.8 else copy_no}联"
    pen.text((40, 30), f"{shown}  签收底单", 44)
    pen.text((w - 260, 40), f"{copy_text} 收件人存根"[:9], 30)
    address = f"{rng.choice(CITIES)}市{rng.choice(CITIES)}路{rng.randint(1, 999)}号"
    fields = [("运单号", tracking), ("收件人", recipient), ("收件地址", address),
              ("签收人", signer), ("签收时间", when.strftime("%Y-%m-%d %H:%M"))]  # fmt: skip
    if rng.random() < 0.5:
        fields[3] = (rng.choice(("签收人签名", "收件人签名")), signer)
    y = 120.0
    if layout == "table":
        for label, value in fields:
            pen.draw.rectangle((40, y, 280, y + 64), outline=(60, 60, 60), width=2)
            pen.draw.rectangle((280, y, w - 40, y + 64), outline=(60, 60, 60), width=2)
            pen.text((56, y + 14), label, 30)
            pen.text((300, y + 14), value, 30)
            y += 64
    elif layout == "compact":
        pen.text((40, y), f"运单号：{tracking}", 30)
        pen.text((40, y + 60), f"收件人：{recipient}", 30)
        pen.text((w / 2, y + 60), f"{fields[3][0]}：{signer}", 30)
        pen.text((40, y + 120), f"地址：{fields[2][1]}", 30)
        pen.text((40, y + 180), f"签收时间：{fields[4][1]}", 30)
        y += 240
    else:
        for label, value in fields:
            pen.text((40, y), f"{label}：{value}", 32)
            y += 66
    pen.text((40, h - 80), "本人已确认包裹完好", 26)
    notes = {}
    if rng.random() < 0.3:
        notes["red_extra"] = _red_extra(pen, rng, w, h - 150)
    if stamp:
        notes["stamp_shape"] = draw_stamp(
            image,
            rng,
            (w * rng.uniform(0.55, 0.8), h * rng.uniform(0.45, 0.7)),
            font,
            f"{COURIERS[shown]}{rng.choice(CITIES)}分部",
        )
    truth = {
        "issuer": COURIERS[shown],
        "tracking_no": tracking,
        "signer_name": signer,
        "copy_no": copy_no,
        "red_stamp": stamp,
    }
    return Doc(
        kind="signed_receipt",
        party="seller",
        truth=truth,
        stamp=stamp,
        layout=layout,
        font=font[0],
        image=image,
        notes=notes,
    )


def certificate(rng: random.Random, font: tuple[str, int]) -> Doc:
    shown = rng.choice(list(COURIERS))
    tracking, signer = _tracking(rng), _name(rng)
    damage = rng.random() < 0.4
    stamp = rng.random() < 0.7
    when = _when(rng)
    layout = rng.choice(("letter", "form"))
    w, h = rng.choice(((900, 1200), (1000, 1300)))
    image = _paper(rng, (w, h))
    pen = Pen(image, font)
    pen.text((w / 2 - 150, 60), rng.choice(("签收证明", "物流签收证明", "快件签收证明")), 48)
    date = f"{when.year}年{when.month}月{when.day}日"
    if layout == "letter":
        body = [
            f"兹证明：运单号 {tracking} 的快件，",
            f"已于{date}由{signer}本人签收，",
            rng.choice(DAMAGE[damage]),
            "特此证明。",
        ]
        y = 200.0
        for line in body:
            pen.text((80, y), line, 34)
            y += 70
    else:
        y = 200.0
        for label, value in (
            ("运单号", tracking),
            ("签收日期", date),
            ("签收人", signer),
            ("签收情况", rng.choice(DAMAGE[damage])),
        ):
            pen.text((80, y), f"{label}：{value}", 34)
            y += 70
    company = f"{shown}{rng.choice(CITIES)}分公司"
    pen.text((w - 520, h - 330), company, 34)
    pen.text((w - 420, h - 260), date, 32)
    notes = {}
    if rng.random() < 0.3:
        notes["red_extra"] = _red_extra(pen, rng, w, 140)
    if stamp:
        notes["stamp_shape"] = draw_stamp(image, rng, (w - 330, h - 300), font, company)
    truth = {
        "issuer": COURIERS[shown],
        "red_stamp": stamp,
        "signer_name": signer,
        "damage_noted": damage,
    }
    return Doc(
        kind="carrier_certificate",
        party="seller",
        truth=truth,
        stamp=stamp,
        layout=layout,
        font=font[0],
        image=image,
        notes=notes,
    )


def chat(rng: random.Random, font: tuple[str, int]) -> Doc:
    w, h = 750, rng.choice((1200, 1334))
    image = Image.new("RGB", (w, h), (237, 237, 237))
    pen = Pen(image, font)
    pen.draw.rectangle((0, 0, w, 110), fill=(250, 250, 250))
    title = f"{rng.choice(ITEMS)}旗舰店"
    pen.text(((w - pen.width(title, 34)) / 2, 40), title, 34)
    layout = rng.choice(("every", "grouped", "untimed-first"))
    fmt = rng.choice(
        ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "{y}年{m}月{d}日 %H:%M", "%Y-%m-%d %H:%M:%S")
    )
    when = _when(rng)
    y = 140.0
    messages = []
    current = None
    for i in range(rng.randint(3, 6)):
        show_time = (
            layout == "every"
            or (layout == "grouped" and (i == 0 or rng.random() < 0.4))
            or (layout == "untimed-first" and i >= 1 and (i == 1 or rng.random() < 0.4))
        )
        when += timedelta(
            minutes=rng.randint(1, 90), seconds=rng.randint(0, 59) if "%S" in fmt else 0
        )
        if show_time:
            stamp_text = when.strftime(fmt.format(y=when.year, m=when.month, d=when.day))
            tw = pen.width(stamp_text, 24)
            pen.text(((w - tw) / 2, y), stamp_text, 24, (150, 150, 150))
            current = when.replace(second=when.second if "%S" in fmt else 0)
            y += 56
        buyer = rng.random() < 0.5
        text = rng.choice(CHAT_BUYER if buyer else CHAT_SELLER)
        tw = pen.width(text, 30)
        if buyer:  # the buyer took the screenshot: the buyer's messages are on the right
            x0 = w - 110 - tw - 40
            pen.draw.rounded_rectangle((x0, y, w - 110, y + 66), 12, fill=(149, 236, 105))
            pen.draw.rectangle((w - 90, y, w - 20, y + 66), fill=(120, 140, 200))
        else:
            x0 = 110.0
            pen.draw.rounded_rectangle((x0, y, x0 + tw + 40, y + 66), 12, fill=(255, 255, 255))
            pen.draw.rectangle((20, y, 90, y + 66), fill=(230, 160, 80))
        pen.text((x0 + 20, y + 14), text, 30)
        record: dict[str, Any] = {}
        if current is not None:
            record["at"] = current.isoformat() + "+08:00"
        record["sender"] = "buyer" if buyer else "seller"
        record["text"] = text
        messages.append(record)
        y += 100
        if y > h - 120:
            break
    truth = {"messages": messages}
    return Doc(
        kind="chat_log",
        party="buyer",
        truth=truth,
        stamp=False,
        layout=layout,
        font=font[0],
        image=image,
        notes={"format": fmt},
    )


def report(rng: random.Random, font: tuple[str, int]) -> Doc:
    lab = rng.choice(LABS)
    accredited = rng.random() < 0.6
    stamp = rng.random() < 0.6
    result = rng.choice(list(RESULTS))
    layout = rng.choice(("plain", "boxed"))
    w, h = rng.choice(((900, 1250), (1000, 1380)))
    image = _paper(rng, (w, h))
    pen = Pen(image, font)
    if accredited:
        pen.draw.rectangle((60, 50, 200, 130), outline=(30, 30, 30), width=3)
        pen.text((78, 60), "CMA", 44)
        pen.text((60, 140), f"{rng.randint(10**11, 10**12 - 1)}", 20)
    pen.text((w / 2 - 130, 80), rng.choice(("检验报告", "检测报告")), 52)
    y = 240.0
    rows = [("报告编号", f"No.{rng.randint(10**7, 10**8 - 1)}"), ("样品名称", rng.choice(ITEMS)),
            ("委托单位", f"{rng.choice(CITIES)}某某商贸有限公司"),
            (rng.choice(("检验机构", "检测机构")), lab),
            ("检验日期", _when(rng).strftime("%Y-%m-%d"))]  # fmt: skip
    for label, value in rows:
        if layout == "boxed":
            pen.draw.rectangle((60, y - 8, w - 60, y + 56), outline=(80, 80, 80), width=2)
        pen.text((80, y), f"{label}：{value}", 30)
        y += 72
    pen.text((80, y + 20), rng.choice(("检验结论：", "检测结论：")), 34)
    pen.text((80, y + 80), RESULTS[result], 32)
    pen.text((w - 480, h - 260), lab[:12], 30)
    notes = {}
    if rng.random() < 0.3:
        notes["red_extra"] = _red_extra(pen, rng, w, 190)
    if stamp:
        notes["stamp_shape"] = draw_stamp(image, rng, (w - 320, h - 250), font, lab)
    truth = {"issuer": lab, "accredited": accredited, "red_stamp": stamp, "result": result}
    return Doc(
        kind="inspection_report",
        party="buyer",
        truth=truth,
        stamp=stamp,
        layout=layout,
        font=font[0],
        image=image,
        notes=notes,
    )


MAKERS = {
    "signed_receipt": receipt,
    "carrier_certificate": certificate,
    "chat_log": chat,
    "inspection_report": report,
}


def degrade(doc: Doc, rng: random.Random) -> bytes:
    """Rotate, blur, add noise and compress as JPEG; the degradations go into doc.notes."""
    image = doc.image
    angle = rng.uniform(-4, 4)
    image = image.rotate(
        angle, expand=True, fillcolor=(rng.randint(200, 255),) * 3, resample=Image.BICUBIC
    )
    blur = rng.choice((0.0, 0.0, 0.6, 1.0, 1.4))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if rng.random() < 0.5:
        noise = Image.effect_noise(image.size, rng.uniform(8, 20)).convert("RGB")
        image = Image.blend(image, noise, 0.08)
    quality = rng.randint(35, 90)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    doc.notes.update({"rotation": round(angle, 2), "blur": blur, "jpeg_quality": quality})
    return out.getvalue()


def generate(count: int, seed: int, kinds: tuple[str, ...] = KINDS) -> list[tuple[Doc, bytes]]:
    rng = random.Random(seed)
    faces = fonts()
    out = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        doc = MAKERS[kind](rng, rng.choice(faces))
        out.append((doc, degrade(doc, rng)))
    return out


def write(docs: list[tuple[Doc, bytes]], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    truth = folder / "truth.jsonl"
    with truth.open("w", encoding="utf-8") as lines:
        for i, (doc, data) in enumerate(docs):
            name = f"{i:04d}-{doc.kind}.jpg"
            (folder / name).write_bytes(data)
            row = {"file": name, "kind": doc.kind, "party": doc.party, "attributes": doc.truth,
                   "stamp": doc.stamp, "layout": doc.layout, "font": Path(doc.font).name,
                   **doc.notes}  # fmt: skip
            lines.write(json.dumps(row, ensure_ascii=False) + "\n")
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kind", choices=KINDS, action="append")
    args = parser.parse_args()
    print(write(generate(args.count, args.seed, tuple(args.kind or KINDS)), args.out))


if __name__ == "__main__":
    main()
