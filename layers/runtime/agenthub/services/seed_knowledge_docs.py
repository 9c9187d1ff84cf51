"""The demo knowledge base: short company policies per tenant, some in Vietnamese.

Each document has a topic (the same policy in English and Vietnamese shares one), and tenants
differ in their numbers, so an answer shows whose document it came from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TenantFacts:
    company: str
    pay_days: int
    return_days: int
    warranty_months: int
    free_shipping_vnd: str
    support_phone: str
    cod_limit_vnd: str


FACTS: dict[str, TenantFacts] = {
    "acme": TenantFacts("ACME Trading", 30, 14, 12, "2,000,000", "1900 1234", "10,000,000"),
    "globex": TenantFacts("Globex Logistics", 45, 7, 24, "5,000,000", "1900 5678", "5,000,000"),
}


@dataclass(frozen=True)
class DemoDocument:
    slug: str
    topic: str
    title: str
    text: str
    language: str = "en"


_TEMPLATES: tuple[tuple[str, str, str, str, str], ...] = (
    # (slug, topic, language, title, text)
    (
        "payment-terms",
        "payment_terms",
        "en",
        "Payment terms",
        "{company} payment terms: invoices are due within {pay_days} days of the invoice date "
        "(net {pay_days}). Customers who pay within 10 days get a 2% early payment discount. "
        "Late payments are charged interest of 1.5% per month on the overdue amount.",
    ),
    (
        "returns",
        "returns",
        "en",
        "Returns and refunds policy",
        "{company} accepts returns within {return_days} days of delivery. Goods must be unused, "
        "in their original packaging, with the receipt or invoice. Refunds go back to the "
        "original payment method within 7 business days after we receive the goods.",
    ),
    (
        "vat-invoices",
        "vat_invoices",
        "en",
        "VAT invoices",
        "{company} issues electronic VAT invoices (e-invoices) within 24 hours of delivery. The "
        "standard VAT rate is 10%. To receive a VAT invoice, give your company name, address and "
        "tax code (MST) when ordering; invoices cannot be reissued to another company later.",
    ),
    (
        "shipping-times",
        "shipping_times",
        "en",
        "Shipping and delivery times",
        "{company} delivers within 1-2 business days in Hanoi and Ho Chi Minh City and 3-5 "
        "business days to other provinces. Orders placed before 11:00 ship the same day. "
        "Express same-day delivery is available in the two big cities.",
    ),
    (
        "shipping-fees",
        "shipping_fees",
        "en",
        "Shipping fees",
        "Shipping is free for orders of {free_shipping_vnd} VND or more. Smaller orders pay a "
        "flat shipping fee of 30,000 VND within the city and 50,000 VND to other provinces.",
    ),
    (
        "warranty",
        "warranty",
        "en",
        "Warranty policy",
        "{company} products carry a {warranty_months}-month warranty from the delivery date. "
        "The warranty covers manufacturing defects, not damage from misuse, accidents or "
        "unauthorised repairs. Bring the product with its warranty card to claim a repair.",
    ),
    (
        "credit-limits",
        "credit_limits",
        "en",
        "Customer credit limit policy",
        "New business customers start with a credit limit of 50,000,000 VND. Credit limits are "
        "reviewed every quarter based on payment history; a customer with invoices overdue by "
        "more than 30 days cannot place new orders on credit.",
    ),
    (
        "collections",
        "collections",
        "en",
        "Overdue invoice collection process",
        "When an invoice is overdue we send reminders after 7, 15 and 30 days. After 60 days "
        "the account is put on hold and the case goes to the collections team.",
    ),
    (
        "privacy",
        "privacy",
        "en",
        "Customer data privacy",
        "{company} keeps customer personal data for 5 years after the last order and never "
        "sells it. Customers can ask to see, correct or delete their data by writing to the "
        "privacy officer; we answer within 30 days.",
    ),
    (
        "support-hours",
        "support_hours",
        "en",
        "Customer support hours",
        "Our customer support hotline {support_phone} is open Monday to Saturday from 8:00 to "
        "17:30. Outside these hours, send an email and we reply the next working day.",
    ),
    (
        "cancellation",
        "cancellation",
        "en",
        "Order cancellation",
        "An order can be cancelled free of charge until it is shipped. After shipment, a "
        "cancellation is handled as a return under the returns policy.",
    ),
    (
        "damaged-goods",
        "damaged_goods",
        "en",
        "Damaged or missing goods claims",
        "Report goods that arrive damaged or missing within 48 hours of delivery, with photos of "
        "the package and the delivery note. We replace damaged goods at no cost.",
    ),
    (
        "international",
        "international",
        "en",
        "International shipping",
        "{company} ships to ASEAN countries in 7-12 business days. Import duties and customs "
        "fees are paid by the buyer. International orders cannot be paid cash on delivery.",
    ),
    (
        "quotes",
        "quotes",
        "en",
        "Price quotes and price changes",
        "Price quotes are valid for 15 days. Prices may change with 30 days' notice; confirmed "
        "orders keep the price of their quote.",
    ),
    (
        "volume-discounts",
        "volume_discounts",
        "en",
        "Volume discounts",
        "Orders of more than 100 units of one product get a 5% discount, more than 500 units a "
        "10% discount. Volume discounts do not combine with promotions.",
    ),
    (
        "payment-methods",
        "payment_methods",
        "en",
        "Accepted payment methods",
        "We accept bank transfer, credit and debit cards, and cash on delivery (COD) for orders "
        "up to {cod_limit_vnd} VND. Bank transfers must quote the invoice number.",
    ),
    (
        "dieu-khoan-thanh-toan",
        "payment_terms",
        "vi",
        "Điều khoản thanh toán",
        "Điều khoản thanh toán của {company}: hóa đơn phải được thanh toán trong vòng {pay_days} "
        "ngày kể từ ngày xuất hóa đơn. Khách hàng thanh toán trong 10 ngày được chiết khấu 2%. "
        "Thanh toán trễ hạn chịu lãi 1,5% mỗi tháng trên số tiền quá hạn.",
    ),
    (
        "chinh-sach-doi-tra",
        "returns",
        "vi",
        "Chính sách đổi trả hàng",
        "{company} nhận đổi trả hàng trong vòng {return_days} ngày kể từ ngày giao hàng. Hàng "
        "phải chưa qua sử dụng, còn nguyên bao bì và có hóa đơn. Tiền hoàn lại được chuyển về "
        "phương thức thanh toán ban đầu trong 7 ngày làm việc.",
    ),
    (
        "hoa-don-vat",
        "vat_invoices",
        "vi",
        "Hóa đơn VAT (hóa đơn GTGT)",
        "{company} xuất hóa đơn điện tử giá trị gia tăng (VAT) trong vòng 24 giờ sau khi giao "
        "hàng. Thuế suất VAT là 10%. Để nhận hóa đơn VAT, vui lòng cung cấp tên công ty, địa "
        "chỉ và mã số thuế (MST) khi đặt hàng.",
    ),
    (
        "thoi-gian-giao-hang",
        "shipping_times",
        "vi",
        "Thời gian giao hàng",
        "{company} giao hàng trong 1-2 ngày làm việc tại Hà Nội và TP. Hồ Chí Minh, 3-5 ngày "
        "làm việc tại các tỉnh khác. Đơn đặt trước 11 giờ được gửi đi trong ngày.",
    ),
    (
        "chinh-sach-bao-hanh",
        "warranty",
        "vi",
        "Chính sách bảo hành",
        "Sản phẩm của {company} được bảo hành {warranty_months} tháng kể từ ngày giao hàng. Bảo "
        "hành áp dụng cho lỗi của nhà sản xuất, không áp dụng cho hư hỏng do sử dụng sai cách.",
    ),
    (
        "gio-ho-tro",
        "support_hours",
        "vi",
        "Giờ làm việc của bộ phận chăm sóc khách hàng",
        "Tổng đài chăm sóc khách hàng {support_phone} làm việc từ thứ Hai đến thứ Bảy, từ 8 giờ "
        "đến 17 giờ 30. Ngoài giờ làm việc, vui lòng gửi email.",
    ),
    (
        "phi-van-chuyen",
        "shipping_fees",
        "vi",
        "Phí vận chuyển",
        "Miễn phí vận chuyển cho đơn hàng từ {free_shipping_vnd} đồng trở lên. Đơn hàng nhỏ hơn "
        "chịu phí 30.000 đồng nội thành và 50.000 đồng đi tỉnh.",
    ),
)


def demo_documents(tenant_id: str) -> list[DemoDocument]:
    """The demo policies of one demo tenant (with its own numbers)."""
    facts = FACTS[tenant_id]
    values = facts.__dict__
    return [
        DemoDocument(
            slug=slug,
            topic=topic,
            title=title,
            text=text.format(**values),
            language=language,
        )
        for slug, topic, language, title, text in _TEMPLATES
    ]
