"""A small business in raw.*, shaped exactly like docs/contracts.md.

The people, with the messiness the identity resolution must see through:

- Juan Pérez is ERP partner 101 (`900.123.456-8`, `(300) 123-4567`), CRM contacts 501 and
  502 (`9001234568`, `+57 300 123 4567`, the email in another case) and shop customer 7001;
  CRM contact 504 is an archived duplicate of him.
- Carlos (partner 102) and Lucía Gómez (partner 103) share one family email but have
  different tax ids; CRM contact 503 is Lucía (same mobile, the family email).
- Distribuciones Andinas SAS (partner 104) buys by phone: ERP-only orders.
- María López (shop customer 7002) only exists in the shop; her tax id is in the note.
- A guest order (#1044) has no customer at all; partner 105 is a supplier, not a customer.

Products: the hammer HAM-16 is ERP product 11 and shop variant 9001; the ERP holds 40 in
WH/Stock (5 more sit in the customers' location, not stock), its stale `qty_available` says 55,
the shop shows 38.

Orders: shop order #1042 (Juan; his won deal 701, 130,000) was entered in the ERP as S00042 and
invoiced and paid;
S00043 (Distribuciones) is invoiced, not paid; S00044 is a quotation; S00045 (Carlos) is done;
#1043 (María) is cancelled.
"""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from puente import warehouse

BATCH = "test-batch-1"

ODOO = {
    "res.partner": [
        {"id": 101, "name": "Juan Pérez", "email": "Juan.Perez@Example.com ", "phone": "(300) 123-4567",
         "mobile": False, "vat": "900.123.456-8", "street": "Cra 7 # 12-34", "city": "Bogotá",
         "country_id": [49, "Colombia"], "is_company": False, "customer_rank": 3, "active": True,
         "create_date": "2025-01-10 14:00:00", "write_date": "2026-11-01 09:00:00"},
        {"id": 102, "name": "Carlos Gómez", "email": "familia.gomez@example.com", "phone": "3109876543",
         "mobile": False, "vat": "CC 79.111.222", "street": False, "city": "Medellín",
         "country_id": [49, "Colombia"], "is_company": False, "customer_rank": 1, "active": True,
         "create_date": "2025-03-01 10:00:00", "write_date": "2026-10-01 10:00:00"},
        {"id": 103, "name": "LUCÍA  GÓMEZ", "email": "Familia.Gomez@example.com", "phone": False,
         "mobile": "315 765 4321", "vat": "1020304050", "street": False, "city": "Medellín",
         "country_id": [49, "Colombia"], "is_company": False, "customer_rank": 1, "active": True,
         "create_date": "2025-03-01 10:05:00", "write_date": "2026-10-01 10:05:00"},
        {"id": 104, "name": "Distribuciones Andinas SAS", "email": False, "phone": "601 345 6789",
         "mobile": False, "vat": "800197268-4", "street": "Calle 100 # 8-20", "city": "Bogotá",
         "country_id": [49, "Colombia"], "is_company": True, "customer_rank": 5, "active": True,
         "create_date": "2024-06-01 08:00:00", "write_date": "2026-09-15 08:00:00"},
        {"id": 105, "name": "Proveedor Textil Ltda", "email": "ventas@textil.example", "phone": False,
         "mobile": False, "vat": "901.555.666-1", "street": False, "city": "Cali",
         "country_id": [49, "Colombia"], "is_company": True, "customer_rank": 0, "active": True,
         "create_date": "2024-06-01 08:00:00", "write_date": "2024-06-01 08:00:00"},
    ],
    "product.product": [
        {"id": 11, "name": "Martillo 16oz", "default_code": "HAM-16", "list_price": 45000.0,
         "standard_price": 28000.0, "qty_available": 55.0, "active": True,
         "create_date": "2024-01-01 00:00:00", "write_date": "2026-11-01 00:00:00"},
    ],
    "sale.order": [
        {"id": 201, "name": "S00042", "partner_id": [101, "Juan Pérez"], "date_order": "2026-11-20 15:35:00",
         "state": "sale", "amount_untaxed": 109159.66, "amount_tax": 20740.34, "amount_total": 129900.0,
         "currency_id": [8, "COP"], "client_order_ref": "#1042", "origin": False, "warehouse_id": [1, "Bogotá"],
         "create_date": "2026-11-20 15:35:00", "write_date": "2026-11-20 16:00:00"},
        {"id": 202, "name": "S00043", "partner_id": [104, "Distribuciones Andinas SAS"],
         "date_order": "2026-11-19 14:00:00", "state": "sale", "amount_untaxed": 420168.07,
         "amount_tax": 79831.93, "amount_total": 500000.0, "currency_id": [8, "COP"],
         "client_order_ref": False, "origin": False,
         "create_date": "2026-11-19 14:00:00", "write_date": "2026-11-19 14:30:00"},
        {"id": 203, "name": "S00044", "partner_id": [102, "Carlos Gómez"], "date_order": "2026-11-21 12:00:00",
         "state": "draft", "amount_untaxed": 10000.0, "amount_tax": 1900.0, "amount_total": 11900.0,
         "currency_id": [8, "COP"], "client_order_ref": False, "origin": False,
         "create_date": "2026-11-21 12:00:00", "write_date": "2026-11-21 12:00:00"},
        {"id": 204, "name": "S00045", "partner_id": [102, "Carlos Gómez"], "date_order": "2026-11-02 03:30:00",
         "state": "done", "amount_untaxed": 67226.89, "amount_tax": 12773.11, "amount_total": 80000.0,
         "currency_id": [8, "COP"], "client_order_ref": False, "origin": False,
         "create_date": "2026-11-02 03:30:00", "write_date": "2026-11-03 10:00:00"},
    ],
    "sale.order.line": [
        {"id": 301, "order_id": [201, "S00042"], "product_id": [11, "[HAM-16] Martillo 16oz"],
         "product_uom_qty": 2.0, "price_unit": 54579.83, "price_subtotal": 109159.66,
         "create_date": "2026-11-20 15:35:00", "write_date": "2026-11-20 15:35:00"},
    ],
    "account.move": [
        {"id": 401, "name": "INV/2026/00042", "move_type": "out_invoice", "partner_id": [101, "Juan Pérez"],
         "invoice_origin": "S00042", "invoice_date": "2026-11-20", "invoice_date_due": "2026-11-20",
         "amount_total": 129900.0, "amount_residual": 0.0, "currency_id": [8, "COP"], "state": "posted",
         "payment_state": "paid", "create_date": "2026-11-20 16:00:00", "write_date": "2026-11-20 17:00:00"},
        {"id": 402, "name": "INV/2026/00043", "move_type": "out_invoice",
         "partner_id": [104, "Distribuciones Andinas SAS"], "invoice_origin": "S00043",
         "invoice_date": "2026-11-19", "invoice_date_due": "2026-12-19", "amount_total": 500000.0,
         "amount_residual": 500000.0, "currency_id": [8, "COP"], "state": "posted",
         "payment_state": "not_paid", "create_date": "2026-11-19 15:00:00", "write_date": "2026-11-19 15:00:00"},
    ],
    "stock.quant": [
        {"id": 501, "product_id": [11, "[HAM-16] Martillo 16oz"], "location_id": [8, "WH/Stock"],
         "warehouse_id": [1, "Bogotá"], "quantity": 40.0, "reserved_quantity": 2.0, "write_date": "2026-11-20 16:00:00"},
        {"id": 502, "product_id": [11, "[HAM-16] Martillo 16oz"], "location_id": [5, "Partners/Customers"],
         "quantity": 5.0, "reserved_quantity": 0.0, "write_date": "2026-11-20 16:00:00"},
    ],
}


def _contact(contact_id, updated_at, archived=False, **properties):
    return {"id": contact_id, "properties": {**properties, "hs_object_id": contact_id},
            "createdAt": "2025-02-01T10:00:00.000Z", "updatedAt": updated_at, "archived": archived}


HUBSPOT = {
    "contacts": [
        _contact("501", "2026-11-18T10:00:00.000Z", email="juan.perez@example.com", firstname="Juan",
                 lastname="P.", phone="+57 300 123 4567", mobilephone=None, city="Bogotá D.C.",
                 country="Colombia", lifecyclestage="customer", hs_marketable_status="true",
                 tax_id="9001234568"),
        _contact("502", "2025-05-01T10:00:00.000Z", email=" JUAN.PEREZ@example.com", firstname="Juan",
                 lastname="Perez", phone=None, mobilephone=None, city=None, country=None,
                 lifecyclestage="lead", hs_marketable_status="false", tax_id=None),
        _contact("503", "2026-10-02T10:00:00.000Z", email="familia.gomez@example.com", firstname="Lucía",
                 lastname="Gómez", phone=None, mobilephone="3157654321", city="Medellín", country="CO",
                 lifecyclestage="customer", hs_marketable_status="false", tax_id=None),
        _contact("504", "2026-01-01T10:00:00.000Z", archived=True, email="juan.perez@example.com",
                 firstname="Juan", lastname="Pérez (duplicado)", phone=None, mobilephone=None, city=None,
                 country=None, lifecyclestage="lead", hs_marketable_status="false", tax_id=None),
    ],
    "companies": [
        {"id": "601", "properties": {"name": "Distribuciones Andinas SAS", "domain": "Andinas.example",
                                     "phone": "6013456789", "city": "Bogotá", "country": "Colombia",
                                     "createdate": "2024-06-01T08:00:00.000Z",
                                     "hs_lastmodifieddate": "2026-09-15T08:00:00.000Z", "hs_object_id": "601"},
         "createdAt": "2024-06-01T08:00:00.000Z", "updatedAt": "2026-09-15T08:00:00.000Z", "archived": False},
    ],
    "deals": [
        {"id": "701", "properties": {"dealname": "Herramientas para la obra", "amount": "130000", "dealstage": "closedwon",
                                     "pipeline": "default", "closedate": "2026-11-19T14:00:00.000Z",
                                     "createdate": "2026-11-01T08:00:00.000Z",
                                     "hs_lastmodifieddate": "2026-11-19T14:00:00.000Z", "hs_object_id": "701"},
         "createdAt": "2026-11-01T08:00:00.000Z", "updatedAt": "2026-11-19T14:00:00.000Z", "archived": False,
         "associations": {"contacts": {"results": [{"id": "501", "type": "deal_to_contact"}]}}},
    ],
}


def _order(order_id, name, customer, created_at, total, cancelled_at=None, email=None):
    return {
        "id": order_id, "name": name, "order_number": int(name.lstrip("#")), "email": email,
        "created_at": created_at, "updated_at": created_at, "processed_at": created_at,
        "cancelled_at": cancelled_at, "financial_status": "voided" if cancelled_at else "paid",
        "fulfillment_status": None, "currency": "COP", "total_price": total, "subtotal_price": total,
        "total_tax": "0.00", "customer": customer,
        "line_items": [{"id": order_id * 10 + 1, "product_id": 8001, "variant_id": 9001, "sku": "HAM-16",
                        "title": "Martillo 16oz", "quantity": 2, "price": "64950.00"}],
    }


SHOPIFY = {
    "customers": [
        {"id": 7001, "email": "JUAN.PEREZ@EXAMPLE.COM", "first_name": "Juan", "last_name": "Pérez",
         "phone": "+573001234567", "created_at": "2025-04-01T09:00:00-05:00",
         "updated_at": "2026-11-20T10:31:02-05:00", "state": "enabled", "tags": "", "note": None,
         "email_marketing_consent": {"state": "not_subscribed", "opt_in_level": "single_opt_in",
                                     "consent_updated_at": None},
         "default_address": {"city": "Bogotá", "country": "Colombia", "country_code": "CO",
                             "phone": None, "company": None}},
        {"id": 7002, "email": "maria.lopez@example.com", "first_name": "María", "last_name": "López",
         "phone": None, "created_at": "2026-06-01T09:00:00-05:00", "updated_at": "2026-11-10T09:00:00-05:00",
         "state": "enabled", "tags": "vip", "note": "Factura a nombre de CC 52.123.456",
         "email_marketing_consent": {"state": "subscribed", "opt_in_level": "single_opt_in",
                                     "consent_updated_at": "2026-06-01T09:00:00-05:00"},
         "default_address": {"city": "Cali", "country": "Colombia", "country_code": "CO",
                             "phone": "(316) 555-0101", "company": None}},
    ],
    "orders": [
        _order(5001, "#1042", {"id": 7001, "email": "juan.perez@example.com", "first_name": "Juan",
                               "last_name": "Pérez", "phone": "+573001234567"},
               "2026-11-20T10:31:02-05:00", "129900.00", email="juan.perez@example.com"),
        _order(5002, "#1043", {"id": 7002, "email": "maria.lopez@example.com", "first_name": "María",
                               "last_name": "López", "phone": None},
               "2026-11-10T09:05:00-05:00", "45000.00", cancelled_at="2026-11-10T12:00:00-05:00"),
        _order(5003, "#1044", None, "2026-11-21T18:00:00-05:00", "64950.00", email="invitado@example.com"),
    ],
    "products": [
        {"id": 8001, "title": "Martillo 16oz", "handle": "martillo-16oz", "status": "active",
         "created_at": "2024-01-01T00:00:00-05:00", "updated_at": "2026-11-01T00:00:00-05:00",
         "variants": [{"id": 9001, "product_id": 8001, "sku": "HAM-16", "price": "64950.00",
                       "inventory_quantity": 38, "updated_at": "2026-11-01T00:00:00-05:00"}]},
    ],
}

SOURCES = {"odoo": ODOO, "hubspot": HUBSPOT, "shopify": SHOPIFY}


def _updated_at(source: str, record: dict) -> str | None:
    if source == "odoo":
        return f"{record['write_date']}+00"
    return record.get("updatedAt") or record.get("updated_at") or record.get("date_last_updated")


def load_raw(url: str, sources: dict = SOURCES, batch_id: str = BATCH) -> None:
    """Land every record the way the connectors do: one row per source id in raw.<source>_<object>."""
    with psycopg.connect(url) as conn:
        for source, objects in sources.items():
            for obj, records in objects.items():
                table = warehouse.raw_object(source, obj).qualified_table
                for record in records:
                    conn.execute(
                        f"insert into {table} (source_id, record, source_updated_at, _batch_id, _deleted) "
                        "values (%s, %s, %s, %s, %s)",
                        (str(record["id"] if "id" in record else record["Id"]), Jsonb(record), _updated_at(source, record), batch_id,
                         bool(record.get("archived", False))),
                    )
