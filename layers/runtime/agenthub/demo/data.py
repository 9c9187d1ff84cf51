"""Sample ERP and logistics records for the demo tenants `acme` and `globex`.

A snapshot taken at `AS_OF`. Debt totals and invoice statuses are derived from the invoices, so
the numbers always add up. The same company (MST 0123456789) buys from both tenants and owes each
a different amount: a response's figures show whose token was used.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict

VIETNAM = timezone(timedelta(hours=7), "ICT")
AS_OF = datetime(2025, 6, 30, 17, 0, tzinfo=VIETNAM)

# A Vietnamese tax code (MST): 10 digits, or 10 digits plus a 3-digit branch suffix.
MST_PATTERN = re.compile(r"\d{10}(-\d{3})?")

InvoiceStatus = Literal["paid", "open", "overdue"]
ShipmentStatus = Literal["pending", "in_transit", "out_for_delivery", "delivered", "delayed"]


def is_valid_mst(value: str) -> bool:
    return MST_PATTERN.fullmatch(value) is not None


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Invoice(_Record):
    invoice_no: str
    issued: date
    due: date
    amount: int  # VND has no minor unit
    status: InvoiceStatus


class CustomerDebt(_Record):
    mst: str
    customer_name: str
    currency: Literal["VND"] = "VND"
    total_debt: int
    overdue_debt: int
    credit_limit: int
    due_date: date | None  # the earliest due date among unpaid invoices
    invoices: tuple[Invoice, ...]
    as_of: datetime


class ShipmentEvent(_Record):
    time: datetime
    location: str
    description: str


class Shipment(_Record):
    tracking_id: str
    customer_mst: str
    status: ShipmentStatus
    origin: str
    destination: str
    carrier: str
    eta: date | None
    last_update: datetime
    events: tuple[ShipmentEvent, ...]


def _customer(
    mst: str, name: str, credit_limit: int, invoices: list[tuple[str, str, str, int, bool]]
) -> CustomerDebt:
    """Build a customer from (invoice_no, issued, due, amount, paid) rows."""
    built = []
    for number, issued, due, amount, paid in invoices:
        due_on = date.fromisoformat(due)
        status: InvoiceStatus = "paid" if paid else "overdue" if due_on < AS_OF.date() else "open"
        built.append(
            Invoice(
                invoice_no=number,
                issued=date.fromisoformat(issued),
                due=due_on,
                amount=amount,
                status=status,
            )
        )
    unpaid = [invoice for invoice in built if invoice.status != "paid"]
    return CustomerDebt(
        mst=mst,
        customer_name=name,
        total_debt=sum(invoice.amount for invoice in unpaid),
        overdue_debt=sum(invoice.amount for invoice in unpaid if invoice.status == "overdue"),
        credit_limit=credit_limit,
        due_date=min((invoice.due for invoice in unpaid), default=None),
        invoices=tuple(built),
        as_of=AS_OF,
    )


def _shipment(
    tracking_id: str,
    customer_mst: str,
    status: ShipmentStatus,
    route: tuple[str, str],
    carrier: str,
    eta: str | None,
    events: list[tuple[str, str, str]],
) -> Shipment:
    """Build a shipment from (ISO local time, location, description) events, oldest first."""
    built = tuple(
        ShipmentEvent(
            time=datetime.fromisoformat(when).replace(tzinfo=VIETNAM),
            location=location,
            description=description,
        )
        for when, location, description in events
    )
    return Shipment(
        tracking_id=tracking_id,
        customer_mst=customer_mst,
        status=status,
        origin=route[0],
        destination=route[1],
        carrier=carrier,
        eta=date.fromisoformat(eta) if eta else None,
        last_update=built[-1].time,
        events=built,
    )


MINH_PHAT = "Công ty TNHH Thương mại Minh Phát"

CUSTOMERS: dict[str, dict[str, CustomerDebt]] = {
    "acme": {
        c.mst: c
        for c in (
            _customer("0123456789", MINH_PHAT, 500_000_000, [
                ("HD-2025-0301", "2025-03-01", "2025-03-31", 98_000_000, True),
                ("HD-2025-0412", "2025-04-12", "2025-05-12", 120_500_000, False),
                ("HD-2025-0519", "2025-05-19", "2025-06-18", 85_000_000, False),
                ("HD-2025-0607", "2025-06-07", "2025-07-07", 64_250_000, False),
            ]),
            _customer(
                "0109876543-001",
                "Chi nhánh Hà Nội - Công ty Cổ phần Vận tải Sao Việt",
                300_000_000,
                [
                    ("HD-2025-0455", "2025-04-25", "2025-05-25", 45_800_000, True),
                    ("HD-2025-0623", "2025-06-23", "2025-07-23", 152_300_000, False),
                ],
            ),
            _customer("0312345678", "Công ty Cổ phần Thực phẩm Sài Gòn Xanh", 200_000_000, [
                ("HD-2025-0388", "2025-03-28", "2025-04-27", 37_600_000, True),
                ("HD-2025-0502", "2025-05-02", "2025-06-01", 41_900_000, True),
            ]),
        )
    },
    "globex": {
        c.mst: c
        for c in (
            _customer("0123456789", MINH_PHAT, 1_000_000_000, [
                ("GX-INV-25-1108", "2025-05-08", "2025-06-07", 310_000_000, False),
                ("GX-INV-25-1190", "2025-06-15", "2025-07-15", 95_750_000, False),
            ]),
            _customer("0401234567", "Công ty TNHH Thủy sản Đà Nẵng", 750_000_000, [
                ("GX-INV-25-1021", "2025-04-10", "2025-05-10", 220_000_000, True),
                ("GX-INV-25-1175", "2025-06-10", "2025-07-10", 186_400_000, False),
            ]),
        )
    },
}  # fmt: skip

SHIPMENTS: dict[str, dict[str, Shipment]] = {
    "acme": {
        s.tracking_id: s
        for s in (
            _shipment(
                "SHP-1001", "0123456789", "in_transit", ("TP. Hồ Chí Minh", "Hà Nội"),
                "Viettel Post", "2025-07-02",
                [
                    ("2025-06-28T09:15", "Kho Tân Bình, TP. Hồ Chí Minh", "Đã nhận hàng"),
                    ("2025-06-28T21:40", "Trung tâm khai thác Tân Sơn Nhất", "Đã rời kho"),
                    ("2025-06-30T06:05", "Trung tâm khai thác Đà Nẵng", "Đang trung chuyển"),
                ],
            ),
            _shipment(
                "SHP-1002", "0109876543-001", "delivered", ("Bình Dương", "Hà Nội"),
                "Giao Hàng Nhanh", "2025-06-26",
                [
                    ("2025-06-23T14:00", "Kho Thuận An, Bình Dương", "Đã nhận hàng từ người gửi"),
                    ("2025-06-25T18:30", "Bưu cục Cầu Giấy, Hà Nội", "Đang giao hàng"),
                    ("2025-06-26T10:12", "Cầu Giấy, Hà Nội", "Giao hàng thành công"),
                ],
            ),
            _shipment(
                "SHP-1003", "0123456789", "delayed", ("Hải Phòng", "TP. Hồ Chí Minh"),
                "Vietnam Post (EMS)", "2025-07-05",
                [
                    ("2025-06-27T08:00", "Cảng Hải Phòng", "Đã nhận hàng từ người gửi"),
                    ("2025-06-29T16:45", "Trung tâm khai thác Hải Phòng", "Chậm do thời tiết xấu"),
                ],
            ),
        )
    },
    "globex": {
        s.tracking_id: s
        for s in (
            _shipment(
                "SHP-2001", "0401234567", "out_for_delivery", ("Đà Nẵng", "Cần Thơ"),
                "J&T Express", "2025-06-30",
                [
                    ("2025-06-26T10:20", "Kho Liên Chiểu, Đà Nẵng", "Đã nhận hàng từ người gửi"),
                    ("2025-06-29T22:10", "Trung tâm khai thác Cần Thơ", "Đã đến kho"),
                    ("2025-06-30T07:30", "Bưu cục Ninh Kiều, Cần Thơ", "Đang giao hàng"),
                ],
            ),
            _shipment(
                "SHP-2002", "0123456789", "pending", ("Hà Nội", "TP. Hồ Chí Minh"),
                "Viettel Post", None,
                [("2025-06-30T15:05", "Hà Nội", "Đã tạo vận đơn, chờ lấy hàng")],
            ),
        )
    },
}  # fmt: skip


def find_customer(*, tenant_id: str, mst: str) -> CustomerDebt | None:
    return CUSTOMERS.get(tenant_id, {}).get(mst)


def find_shipment(*, tenant_id: str, tracking_id: str) -> Shipment | None:
    return SHIPMENTS.get(tenant_id, {}).get(tracking_id)


def search_shipments(
    *, tenant_id: str, customer_mst: str | None = None, status: ShipmentStatus | None = None
) -> list[Shipment]:
    return [
        shipment
        for shipment in SHIPMENTS.get(tenant_id, {}).values()
        if (customer_mst is None or shipment.customer_mst == customer_mst)
        and (status is None or shipment.status == status)
    ]
