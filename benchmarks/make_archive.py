"""Generate a realistic, reproducible archive of case files for batch benchmarks and tests.

Seeded: the same ``--seed`` and ``--cases`` give byte-identical files on every machine. Every
shard has its own seed derived from the run's, so shards can be generated in any order.

Variety: every dispute type of the default rules (weighted like a marketplace's mix), both
platforms, physical and virtual goods, the evidence kinds of each dispute type with valid and
invalid variants (wrong courier, second copy without red stamp, unaccredited report, one view
only, late submission, a .gif or .docx file, unknown kinds), appeals, cancellations, prior
interventions, dates spanning both parameter profiles (before and after 2021-03-18), a recorded
``decision`` on most cases, and a small share of malformed lines (broken JSON, a time without an
offset, a missing field) that must come out as error rows.

    python benchmarks/make_archive.py --out /tmp/archive --cases 1000000 --shard-cases 10000
    python benchmarks/make_archive.py --out /tmp/yaml --cases 2000 --yaml   # a folder of YAML files
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

CST = timezone(timedelta(hours=8))
START = datetime(2019, 1, 1, tzinfo=CST)
SPAN_DAYS = 6 * 365
COURIERS = ["中通快递", "顺丰速运", "圆通速递", "韵达快递", "申通快递", "京东物流", "EMS"]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞"]
VARIANTS = {"张伟": ["張偉", "张 伟", "张·伟"], "王芳": ["王 芳"], "陈静": ["陳靜"]}
ITEMS = ["羊毛混纺大衣 黑色 M", "蓝牙耳机", "不锈钢保温杯", "儿童积木套装", "运动鞋 42码",
         "手机壳", "面霜 50ml", "机械键盘", "真丝围巾", "充值卡 100元"]  # fmt: skip
DISPUTES = [  # (type, weight)
    ("not_received", 24), ("quality", 18), ("not_as_described", 14), ("damaged_or_missing", 12),
    ("late_shipment", 10), ("wrong_item", 8), ("return_not_received", 8), ("counterfeit", 6),
]  # fmt: skip
RULINGS = {
    "not_received": ["pay_seller", "refund", "request_evidence"],
    "quality": ["return_and_refund", "pay_seller", "refer_to_arbitrator"],
    "not_as_described": ["return_and_refund", "pay_seller"],
    "damaged_or_missing": ["partial_refund", "refund", "pay_seller"],
    "late_shipment": ["compensate", "refund", "pay_seller"],
    "wrong_item": ["return_and_refund", "pay_seller", "exchange"],
    "return_not_received": ["return_and_refund", "pay_seller"],
    "counterfeit": ["refund", "return_and_refund", "pay_seller"],
}
GOOD_FILES = ["photo.jpg", "scan.PDF", "截图.png", "receipt.jpeg"]
BAD_FILES = ["clip.gif", "note.docx"]


def _t(moment: datetime) -> str:
    return moment.isoformat()


def _money(rnd: random.Random, low: float, high: float) -> float:
    return round(rnd.uniform(low, high), 2)


class _Case:
    """One generated case; ``data`` is the casefile/1 mapping."""

    def __init__(self, rnd: random.Random, case_id: str) -> None:
        self.rnd = rnd
        kinds = [d for d, _ in DISPUTES]
        self.type = rnd.choices(kinds, weights=[w for _, w in DISPUTES])[0]
        self.paid = START + timedelta(minutes=rnd.randrange(SPAN_DAYS * 24 * 60))
        self.courier = rnd.choice(COURIERS)
        self.recipient = rnd.choice(NAMES)
        self.tracking = str(rnd.randrange(10**13, 10**14))
        virtual = self.type in ("late_shipment", "quality") and rnd.random() < 0.08
        late = self.type == "late_shipment" and rnd.random() < 0.7
        ship_hours = rnd.choice([None, None, None, 24, 72])
        deadline = ship_hours or 48
        shipped_after = deadline + rnd.uniform(1, 120) if late else rnd.uniform(2, deadline)
        self.shipped: datetime | None = self.paid + timedelta(hours=shipped_after)
        if self.type == "late_shipment" and rnd.random() < 0.15:
            self.shipped = None
        self.delivered = (
            self.shipped + timedelta(hours=rnd.uniform(20, 90)) if self.shipped else None
        )
        confirmed = None
        if self.delivered and self.type in ("quality", "not_as_described", "wrong_item"):
            if rnd.random() < 0.5:
                confirmed = self.delivered + timedelta(hours=rnd.uniform(1, 100))
        base = confirmed or self.delivered or self.paid + timedelta(hours=deadline)
        gap = rnd.choice([2, 24, 100, 15 * 24, 16 * 24]) if confirmed else rnd.uniform(1, 200)
        self.requested = base + timedelta(hours=gap)
        refused = self.requested + timedelta(hours=rnd.uniform(1, 60))
        self.intervention = self.requested + timedelta(
            hours=rnd.choice([rnd.uniform(1, 71), 72, rnd.uniform(72, 300)])
        )
        seller_refused = refused if rnd.random() < 0.8 else None
        amount = _money(rnd, 5, 3000)
        fee = rnd.choice([0.0, 0.0, 6.0, 10.0, 12.0])
        claimed = rnd.choice([amount, amount + fee, round(amount / 2, 2) or 1.0, amount * 1.2])
        asked = self.intervention + timedelta(hours=rnd.uniform(10, 60))
        self.asked = asked if rnd.random() < 0.3 else None
        review = self.intervention + timedelta(hours=rnd.uniform(24, 200))
        cancelled = None
        if rnd.random() < 0.04:
            cancelled = review + timedelta(hours=rnd.uniform(-30, 30))
        appeal = None
        if rnd.random() < 0.06:
            ruled = self.intervention + timedelta(hours=rnd.uniform(80, 200))
            appeal = {
                "party": rnd.choice(["buyer", "seller"]),
                "filed_at": _t(ruled + timedelta(hours=rnd.choice([10, 50, 71, 73, 200]))),
                "ruling": rnd.choice(["refund", "pay_seller", "return_and_refund"]),
                "ruled_at": _t(ruled),
            }
        self.ruled = appeal["ruled_at"] if appeal else None
        evidence = self._evidence()
        decision = None
        if rnd.random() < 0.85:
            ruling = rnd.choice(RULINGS[self.type])
            decision = {
                "ruling": ruling,
                "refund_amount": round(min(claimed, amount + fee), 2)
                if ruling in ("refund", "return_and_refund")
                else 0.0,
                "compensation_amount": 0.0,
                "decided_at": _t(review + timedelta(hours=rnd.uniform(1, 48))),
            }
        self.data: dict[str, Any] = {
            "format": "casefile/1",
            "case_id": case_id,
            "platform": rnd.choice(["taobao", "taobao", "tmall"]),
            "order": {
                "order_id": str(rnd.randrange(10**18, 10**19)),
                "item": rnd.choice(ITEMS),
                "item_amount": amount,
                "shipping_fee": fee,
                "goods_type": "virtual" if virtual else "physical",
                "supports_7day_return": rnd.random() < 0.9,
                "promised_ship_hours": ship_hours,
                "recipient_name": self.recipient,
                "courier": None if virtual or not self.shipped else self.courier,
                "tracking_no": None if virtual or not self.shipped else self.tracking,
                "paid_at": _t(self.paid),
                "shipped_at": _t(self.shipped) if self.shipped else None,
                "delivered_at": _t(self.delivered) if self.delivered else None,
                "receipt_confirmed_at": _t(confirmed) if confirmed else None,
            },
            "dispute": {
                "type": self.type,
                "service": rnd.choice(
                    ["refund_only", "return_and_refund", "return_and_refund", "exchange"]
                ),
                "claimed_amount": round(max(claimed, 0.01), 2),
                "reason": "买家申请售后",
                "refund_requested_at": _t(self.requested),
                "seller_refused_at": _t(seller_refused) if seller_refused else None,
                "intervention_requested_at": _t(self.intervention),
                "buyer_evidence_requested_at": _t(self.asked) if self.asked else None,
                "cancelled_at": _t(cancelled) if cancelled else None,
                "review_started_at": _t(review) if rnd.random() < 0.7 else None,
                "prior_interventions": 1 if rnd.random() < 0.03 else 0,
                "appeal": appeal,
            },  # fmt: skip
            "evidence": evidence,
            "decision": decision,
        }

    def _at(self, party: str) -> str:
        rnd = self.rnd
        hours = rnd.uniform(-40, 70) if rnd.random() < 0.9 else rnd.uniform(72, 120)  # some late
        moment = self.intervention + timedelta(hours=hours)
        if self.ruled and rnd.random() < 0.3:
            moment = datetime.fromisoformat(self.ruled) + timedelta(hours=rnd.uniform(1, 60))
        return _t(moment)

    def _files(self) -> list[dict[str, Any]]:
        rnd = self.rnd
        names = rnd.sample(GOOD_FILES, rnd.randint(0, 2))
        if rnd.random() < 0.05:
            names.append(rnd.choice(BAD_FILES))
        digest = lambda name: hashlib.sha256(f"{name}{rnd.random()}".encode()).hexdigest()  # noqa: E731
        return [{"name": n, "sha256": digest(n) if rnd.random() < 0.5 else None} for n in names]

    def _name(self) -> str:
        rnd = self.rnd
        roll = rnd.random()
        if roll < 0.7:
            return self.recipient
        if roll < 0.85 and self.recipient in VARIANTS:
            return rnd.choice(VARIANTS[self.recipient])
        return rnd.choice(NAMES)

    def _item(self, kind: str, party: str) -> dict[str, Any]:
        rnd = self.rnd
        wrong_courier = rnd.random() < 0.1
        issuer = rnd.choice(COURIERS) if wrong_courier else self.courier
        attrs: dict[str, Any]
        if kind == "signed_receipt":
            attrs = {
                "issuer": issuer,
                "tracking_no": self.tracking,
                "signer_name": self._name(),
                "copy_no": rnd.choice([1, 1, 1, 2, 3]),
                "red_stamp": rnd.random() < 0.3,
            }
        elif kind == "carrier_certificate":
            attrs = {
                "issuer": issuer,
                "red_stamp": rnd.random() < 0.85,
                "signer_name": self._name(),
                "damage_noted": rnd.random() < 0.3,
            }
        elif kind == "signing_authorization":
            given = (self.delivered or self.paid) - timedelta(hours=rnd.uniform(-20, 40))
            attrs = {
                "authorized_name": rnd.choice(NAMES),
                "given_at": _t(given),
                "quotes_order_note": rnd.random() < 0.5,
            }
        elif kind in ("logistics_tracking", "return_tracking"):
            attrs = {
                "issuer": issuer,
                "tracking_no": self.tracking,
                "status": rnd.choice(["delivered", "delivered", "in_transit"]),
            }
        elif kind == "product_photos":
            shows = {
                "quality": "defect",
                "not_as_described": "mismatch",
                "wrong_item": "mismatch",
                "damaged_or_missing": rnd.choice(["damage", "missing"]),
            }.get(self.type, "none")
            attrs = {
                "shows": shows if rnd.random() < 0.85 else "none",
                "views": rnd.choice(
                    [["panorama", "closeup"], ["panorama", "closeup"], ["closeup"], ["panorama"]]
                ),
            }
        elif kind == "chat_log":
            start = self.paid + timedelta(hours=rnd.uniform(-48, 0))
            messages = [
                {
                    "at": _t(start + timedelta(minutes=5 * i)) if rnd.random() < 0.95 else None,
                    "sender": rnd.choice(["buyer", "seller"]),
                    "text": "亲，在吗",
                }
                for i in range(rnd.randint(1, 4))
            ]
            attrs = {"messages": messages, "seller_promise": rnd.random() < 0.4}
        elif kind == "inspection_report":
            results = {
                "quality": ["defect", "defect", "no_defect"],
                "counterfeit": ["counterfeit", "counterfeit", "genuine"],
            }[self.type]
            attrs = {
                "issuer": "国家质检中心",
                "accredited": rnd.random() < 0.8,
                "red_stamp": rnd.random() < 0.85,
                "result": rnd.choice(results),
            }
        elif kind == "brand_authentication":
            attrs = {
                "issuer": "品牌方",
                "issuer_role": rnd.choice(["brand_owner", "authorized_agent", "other"]),
                "result": rnd.choice(["counterfeit", "counterfeit", "genuine"]),
            }
        elif kind == "provenance_docs":
            attrs = {
                "doc_type": "进货发票",
                "valid_until": _t(self.paid + timedelta(days=rnd.choice([-30, 90, 365]))),
            }
        elif kind == "photo_of_cat":  # a kind the rules do not know: a warning, not a crash
            attrs = {"cuteness": 11}
        else:
            attrs = {"text": "说明情况"}
        return {"party": party, "kind": kind, "submitted_at": self._at(party),
                "attributes": attrs, "files": self._files()}  # fmt: skip

    def _evidence(self) -> list[dict[str, Any]]:
        rnd = self.rnd
        plans: dict[str, list[tuple[str, str]]] = {
            "not_received": [("seller", "signed_receipt"), ("seller", "carrier_certificate"),
                             ("seller", "logistics_tracking"), ("buyer", "signing_authorization"),
                             ("buyer", "statement")],
            "damaged_or_missing": [("seller", "signed_receipt"), ("seller", "carrier_certificate"),
                                   ("buyer", "product_photos"), ("buyer", "statement")],
            "quality": [("buyer", "product_photos"), ("buyer", "inspection_report"),
                        ("seller", "inspection_report"), ("buyer", "chat_log")],
            "counterfeit": [("buyer", "inspection_report"), ("buyer", "brand_authentication"),
                            ("seller", "provenance_docs"), ("buyer", "product_photos")],
            "not_as_described": [("buyer", "product_photos"), ("buyer", "chat_log"),
                                 ("seller", "statement")],
            "wrong_item": [("buyer", "product_photos"), ("buyer", "order_voucher"),
                           ("seller", "statement")],
            "return_not_received": [("buyer", "return_tracking"), ("seller", "statement"),
                                    ("buyer", "chat_log")],
            "late_shipment": [("buyer", "order_voucher"), ("seller", "logistics_tracking"),
                              ("buyer", "statement")],
        }  # fmt: skip
        plan = plans[self.type]
        chosen = [p for p in plan if rnd.random() < 0.6]
        if rnd.random() < 0.02:
            chosen.append(("buyer", "photo_of_cat"))
        items = [self._item(kind, party) for party, kind in chosen]
        if rnd.random() < 0.02 and items:  # the platform forwards one item
            items[0]["party"] = "platform"
        for n, item in enumerate(items, 1):
            item["id"] = f"E{n}"
        return [{"id": i.pop("id"), **i} for i in items]


def _broken(rnd: random.Random, line: str) -> str:
    """A malformed line of one of the kinds archives really hold."""
    roll = rnd.random()
    if roll < 0.3:
        return line[: len(line) // 2]  # truncated JSON
    data = json.loads(line)
    if roll < 0.6:
        data["order"]["paid_at"] = data["order"]["paid_at"][:19]  # a time without an offset
    elif roll < 0.8:
        del data["dispute"]["claimed_amount"]
    else:
        data["dispute"]["type"] = "not_recieved"  # a dispute type the rules do not define
    return json.dumps(data, ensure_ascii=False)


def generate(seed: int, shard: int, count: int, *, first: int, invalid_rate: float) -> list[str]:
    """``count`` case lines (JSON) of shard ``shard``; case ids from ``first``."""
    rnd = random.Random(f"{seed}/{shard}")
    lines = []
    for n in range(count):
        case = _Case(rnd, f"TB-GEN-{seed}-{first + n:09d}")
        line = json.dumps(case.data, ensure_ascii=False)
        if rnd.random() < invalid_rate:
            line = _broken(rnd, line)
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--shard-cases", type=int, default=10_000, help="cases per .jsonl.gz file")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--invalid-rate", type=float, default=0.002)
    parser.add_argument("--yaml", action="store_true", help="a folder of YAML files instead")
    parser.add_argument("--plain", action="store_true", help="one uncompressed .jsonl file")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    live = sys.stderr.isatty()
    for shard, first in enumerate(range(0, args.cases, args.shard_cases)):
        count = min(args.shard_cases, args.cases - first)
        lines = generate(args.seed, shard, count, first=first, invalid_rate=args.invalid_rate)
        if args.yaml:
            for n, line in enumerate(lines):
                path = args.out / f"case-{first + n:09d}.yaml"
                try:
                    text = yaml.safe_dump(json.loads(line), allow_unicode=True, sort_keys=False)
                except ValueError:
                    text = line  # a truncated line stays broken
                path.write_text(text, encoding="utf-8")
        elif args.plain:
            with (args.out / "archive.jsonl").open("a", encoding="utf-8") as stream:
                stream.writelines(line + "\n" for line in lines)
        else:
            data = "".join(line + "\n" for line in lines).encode("utf-8")
            path = args.out / f"archive-{shard:05d}.jsonl.gz"
            path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
        written += count
        if live:  # a counter that rewrites itself on a terminal, one line at the end elsewhere
            print(f"\r{written:,} / {args.cases:,} cases", end="", file=sys.stderr)
    print(("\n" if live else "") + f"{written:,} cases written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
