"""The systems Puente extracts from, one folder each: ``odoo`` (ERP), ``hubspot`` (CRM), ``shopify`` (shop).

``registry`` lists them and says which ones this business runs; ``spec`` is what each folder
declares (its kind, its objects with their key and cursor, its config and connector). Each
connector walks one object at a time and yields ``base.Page``s; ``puente.extract`` lands them
and keeps the cursors. ``http`` is the HTTP layer they share.
"""
