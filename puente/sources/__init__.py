"""Connectors to the systems Puente extracts from: Odoo (ERP), HubSpot (CRM), Shopify (shop).

Each connector walks one object at a time and yields ``base.Page``s; ``puente.extract`` lands
them and keeps the cursors. ``http`` is the HTTP layer they share.
"""
