"""The product catalogue of the simulated business: a home-and-kitchen shop in Colombia.

Products are built from a small list of base items, each in sizes and then in colours, so any
catalogue size can be made (about one product per five customers, at most 5,000). Prices are
in COP before VAT, rounded the way Colombian shops price things (``129.900``); the cost gives a
gross margin of 30–55%. Popularity follows a Zipf law, so a few products sell most.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from puente.simulators.colombia import strip_accents

# (category code, category name, [(item, base price COP, sizes)])
BASE_ITEMS = [
    ("COC", "Cocina", [
        ("Olla a presión", 189_900, ["4 L", "6 L", "8 L"]),
        ("Sartén antiadherente", 69_900, ["20 cm", "24 cm", "28 cm"]),
        ("Juego de cuchillos", 119_900, ["x3", "x5"]),
        ("Tabla de picar en bambú", 34_900, ["mediana", "grande"]),
        ("Caldero de aluminio", 79_900, ["24 cm", "30 cm"]),
        ("Colador de acero", 19_900, ["pequeño", "grande"]),
    ]),
    ("CAF", "Café", [
        ("Café de origen Huila", 32_900, ["250 g", "500 g", "1 kg"]),
        ("Café tostado Nariño", 35_900, ["250 g", "500 g"]),
        ("Cafetera greca", 59_900, ["3 tazas", "6 tazas", "9 tazas"]),
        ("Molino de café manual", 89_900, ["estándar"]),
        ("Prensa francesa", 79_900, ["350 ml", "1 L"]),
    ]),
    ("MES", "Mesa", [
        ("Vajilla de porcelana", 249_900, ["16 piezas", "20 piezas"]),
        ("Juego de vasos", 49_900, ["x6", "x12"]),
        ("Mantel antifluido", 59_900, ["4 puestos", "6 puestos", "8 puestos"]),
        ("Cubiertos de acero inoxidable", 99_900, ["24 piezas", "48 piezas"]),
        ("Termo de acero", 69_900, ["500 ml", "1 L"]),
    ]),
    ("ELE", "Electrodomésticos", [
        ("Licuadora", 189_900, ["1,5 L", "2 L"]),
        ("Freidora de aire", 399_900, ["3,5 L", "5,5 L"]),
        ("Arrocera", 149_900, ["1 L", "1,8 L"]),
        ("Sanduchera", 99_900, ["2 puestos", "4 puestos"]),
        ("Hervidor eléctrico", 89_900, ["1 L", "1,7 L"]),
    ]),
    ("ASE", "Aseo", [
        ("Detergente líquido", 29_900, ["1 L", "3 L", "5 L"]),
        ("Jabón lavaloza", 9_900, ["500 g", "1 kg"]),
        ("Paños de microfibra", 19_900, ["x3", "x10"]),
        ("Escoba con recogedor", 39_900, ["estándar"]),
    ]),
    ("HOG", "Hogar", [
        ("Toalla de algodón", 49_900, ["de mano", "de baño"]),
        ("Juego de sábanas", 129_900, ["sencillo", "doble", "queen"]),
        ("Cojín decorativo", 39_900, ["45 cm", "60 cm"]),
        ("Canasta en fique", 44_900, ["pequeña", "grande"]),
    ]),
]
COLOURS = ["negro", "blanco", "rojo", "gris", "azul", "verde", "beige", "terracota"]


@dataclass(slots=True)
class Product:
    """One sellable product: its ERP, shop and stock state live in the source records."""

    idx: int
    sku: str
    name: str
    category: str
    price: int
    cost: float
    weight_g: int
    in_shop: bool
    popularity: float
    reorder_point: int
    reorder_qty: int
    on_hand: float = 0.0
    reserved: float = 0.0
    restock_pending: bool = False
    odoo_id: int = 0
    quant_id: int = 0
    shop_product_id: int = 0
    shop_variant_id: int = 0


def shop_price(value: int) -> int:
    """Round to the nearest thousand and take 100 off: 131.250 → 130.900."""
    return max(900, round(value / 1000) * 1000 - 100)


def handle(title: str) -> str:
    """Shopify's URL handle: lowercase ASCII words joined by dashes."""
    words = "".join(c if c.isalnum() else " " for c in strip_accents(title).lower()).split()
    return "-".join(words)


def make_products(rng: random.Random, count: int, first_idx: int = 0) -> list[Product]:
    """``count`` products, continuing the numbering at ``first_idx`` (for products added later)."""
    sized = [(code, cat, item, price, size, i)
             for code, cat, items in BASE_ITEMS for item, price, sizes in items
             for i, size in enumerate(sizes)]
    products = []
    for n in range(first_idx, first_idx + count):
        code, cat, item, base, size, size_rank = sized[n % len(sized)]
        round_no = n // len(sized)
        colour = f" {COLOURS[(round_no - 1) % len(COLOURS)]}" if round_no else ""
        line = f" línea {round_no // len(COLOURS) + 1}" if round_no > len(COLOURS) else ""
        price = shop_price(int(base * (1 + 0.3 * size_rank) * rng.uniform(0.95, 1.12)))
        products.append(Product(
            idx=n, sku=f"{code}-{n + 1:04d}", name=f"{item} {size}{colour}{line}", category=cat,
            price=price, cost=round(price * rng.uniform(0.45, 0.70), 2),
            weight_g=rng.choice((250, 500, 800, 1200, 2500, 4000)), in_shop=rng.random() < 0.85,
            popularity=1.0 / (rng.random() * count + 1) ** 0.9,
            reorder_point=rng.randint(10, 40), reorder_qty=rng.randint(60, 240),
        ))
    return products
