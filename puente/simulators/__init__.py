"""Local simulators of the SaaS systems Puente reads from and writes to.

``Business`` generates one Colombian SME (people, products, orders, invoices, CRM activity) and
keeps its records in the wire shapes of Odoo, HubSpot and Shopify; ``create_app`` serves them
through faithful copies of those APIs; ``SimulatorServer`` runs the app in a background thread.
Connectors talk to the simulators exactly as to the real services, with another base URL.
"""

from puente.simulators.app import Credentials, create_app
from puente.simulators.business import Business, Habits
from puente.simulators.limits import FaultRates, Faults, Limits, ManualClock
from puente.simulators.server import SimulatorServer

__all__ = ["Business", "Credentials", "FaultRates", "Faults", "Habits", "Limits", "ManualClock", "SimulatorServer",
           "create_app"]
