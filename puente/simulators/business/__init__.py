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

The package is split by concern:

- ``population``: the people, their ground truth, how they buy and stop buying;
- ``calendar``: the simulated days, business hours, seasons, and the agenda of follow-ups;
- ``assortment``: the products with their popularity, baskets, the stock moved in a day;
- ``odoo``, ``hubspot``, ``shopify``: one writer per system, recording what happens in its wire
  shapes;
- ``messiness``: how people type other people into systems (names, tax ids, phones, emails);
- ``records``: the store the writers fill and the API simulators serve;
- ``simulation``: ``Business``, one day after another, and the processes that span systems.

Randomness comes from one ``random.Random(seed)`` consumed in a fixed order, and time from the
simulated calendar only, so the same arguments always give the same records.
"""

from puente.simulators.business.population import Person
from puente.simulators.business.records import BOGOTA, hubspot_ts, money, odoo_ts, shopify_ts
from puente.simulators.business.simulation import Business

__all__ = ["BOGOTA", "Business", "Person", "hubspot_ts", "money", "odoo_ts", "shopify_ts"]
