"""One deterministic, seeded simulation of a Colombian SME and the three systems it runs.

``Business(seed=7, customers=300, start=date(2026, 11, 16), history_days=540)`` simulates the
business day by day from its go-live (``start - history_days``: the day the ERP, CRM and shop
were switched on and the old customer list imported) up to ``start``; the simulated "today" is
then ``start`` and the clock stands at the end of that day. ``advance_day()`` simulates one
more day. Every day produces the records a real business would: new people, web and counter
orders, deliveries, invoices and payments, CRM edits and deals, price and stock changes, so
that each night has new *and* changed records in all three systems.

Records are kept per system in the exact wire shape of that system's API (docs/contracts.md):
``business.odoo[model][id]``, ``business.hubspot[object][id]``, ``business.shopify[resource][id]``,
each dict ordered by id. They only ever hold what happened up to the end of ``today``, so the
APIs serve the state "as of now" by serving them. ``truth()`` keeps, for every source record,
the person (and order) it really belongs to.

The business is simulated as it is *before* Puente (``Habits``): nothing moves between its systems
by itself. A share of web orders is retyped into the ERP days late, with mistakes, the rest waits;
a share of won deals is keyed in by a salesperson; the shop's stock follows its own orders until
someone copies the ERP's over. ``integration_truth()`` says what a correct integration would have
done: the yardstick for what Puente does.

The package is split by concern:

- ``population``: the people, their ground truth, how they buy and stop buying;
- ``calendar``: the simulated days, business hours, seasons, and the agenda of follow-ups;
- ``assortment``: the products with their popularity, baskets, the stock moved in a day;
- ``odoo``, ``hubspot``, ``shopify``: one writer per system, recording what happens in its wire
  shapes; ``woocommerce`` and ``tiendanube`` the writers of the stores a business may also run
  (off by default), and ``mercadolibre`` its seller account on the marketplace, on what ``store``
  gives them; ``mercadopago`` and ``stripe`` the payment providers (off by default) collecting the
  Shopify shop's and the WooCommerce store's checkout;
- ``messiness``: how people type other people (and orders) into systems;
- ``integration``: what a correct integration would have done, per web order, won deal, product;
- ``records``: the store the writers fill and the API simulators serve;
- ``simulation``: ``Business``, one day after another, and the processes that span systems.

The company is Colombian by default (``company_country="CO"``): its posted invoices go to the
DIAN, which accepts most at once and leaves some pending for a day or two or rejects them until
the accountant fixes and resends them (Odoo's ``l10n_co_dian`` fields on ``account.move``). A
company elsewhere has no such fields; the rest of the business is the same.

Randomness comes from one ``random.Random(seed)`` consumed in a fixed order, and time from the
simulated calendar only, so the same arguments always give the same records.
"""

from puente.simulators.business.population import Person
from puente.simulators.business.records import BOGOTA, hubspot_ts, money, odoo_ts, shopify_ts
from puente.simulators.business.simulation import Business, Habits

__all__ = ["BOGOTA", "Business", "Habits", "Person", "hubspot_ts", "money", "odoo_ts", "shopify_ts"]
