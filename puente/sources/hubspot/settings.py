"""HubSpot CRM v3: endpoints, limits, and the objects Puente reads.

Per HubSpot's CRM v3 docs and OpenAPI specs: every object is ``{"id", "properties", "createdAt",
"updatedAt", "archived"}``; ``id`` is the key and ``updatedAt`` (kept equal to the modification
date property) the cursor. The search endpoint filters and sorts on the modification date
property, whose name differs between contacts and the other objects. Contacts carry their owner
(``hubspot_owner_id``, an id of ``GET /crm/v3/owners``); deals' products are line items
(``line_items``, 0-8), each associated with its deal (line items guide), which they carry the way
deals carry their contacts. Tickets (0-5, the service desk: ``subject``, ``hs_pipeline_stage``,
``hs_ticket_category``, ``hs_ticket_priority``, ``createdate``, ``first_agent_reply_date``,
``closed_date``) carry their contacts too; a ticket moved out of the closed stage of the default
support pipeline (stage ``4``) has ``hs_v2_date_exited_4`` set (HubSpot keeps the last exit only:
it says a ticket was reopened, not how often). Their read scope is ``tickets`` (HubSpot's scopes
list), not ``crm.objects.tickets.read``.
"""

from __future__ import annotations

from dataclasses import dataclass

from puente.sources.spec import PersonalData, SourceObject

SYSTEM = "HubSpot"
DEFAULT_URL = "https://api.hubapi.com"
OBJECTS_PATH = "/crm/v3/objects"
PROPERTIES_PATH = "/crm/v3/properties"
ASSOCIATIONS_PATH = "/crm/v4/associations"
LIST_LIMIT = 100  # GET /crm/v3/objects/{object}: at most 100 a page
SEARCH_LIMIT = 200  # search: at most 200 a page
SEARCH_CAP = 10_000  # search never pages past 10,000 results
BATCH_LIMIT = 100  # batch read/update: at most 100 inputs a call


@dataclass(frozen=True, kw_only=True)
class HubSpotObject(SourceObject):
    """A CRM object: the properties Puente reads (docs/contracts.md), the property search filters
    on, and the object whose associations its records carry.

    Minimum data (``puente.sources.fields``): ``properties`` is the declaration, read by the staging
    models (dbt_project/models/staging/hubspot/) and nothing else. What lands of a record is its
    ``id``, ``updatedAt``, ``archived``, ``createdAt`` (staging's fallback for ``createdate``), those
    properties and the ids of its associations (``landed_fields``, derived here): no custom property
    of the portal (Puente's own ``puente_*`` write-back ones included), no ``hs_object_id`` or
    ``archivedAt`` HubSpot adds, no association type.
    """

    key: str = "id"
    cursor: str = "updatedAt"
    # Deleting archives: a quarantined record is live unless it says it is archived.
    live_in_quarantine: str = """q.payload not like '%%"archived": true%%'"""
    properties: tuple[str, ...]
    modified_property: str = "hs_lastmodifieddate"
    associations: str | None = None
    read_scope: str = ""  # the private app's scope to read the records: crm.objects.<name>.read unless said

    def __post_init__(self) -> None:
        object.__setattr__(self, "landed_fields", (
            *(["createdAt"] if "createdate" in self.properties else []),  # the fallback of createdate
            "archived", *(f"properties.{p}" for p in self.properties),
            *([f"associations.{self.associations}.results[].id"] if self.associations else [])))
        super().__post_init__()


# A deal or a ticket is the person's through its association to their contact (erasure).
_OF_CONTACT = PersonalData(refers=(("associations.contacts.results[].id", "hubspot_contact"),))
OBJECTS: tuple[HubSpotObject, ...] = (
    HubSpotObject(name="contacts", modified_property="lastmodifieddate", personal=PersonalData(
        record_kinds=("hubspot_contact",),
        identifiers=("properties.email", "properties.phone", "properties.mobilephone", "properties.tax_id"),
        names=("properties.firstname", "properties.lastname"),
        other=("properties.company", "properties.address", "properties.city", "properties.hs_marketable_status",
               "properties.hs_legal_basis"), tax_id="properties.tax_id"), properties=(
        "email", "firstname", "lastname", "phone", "mobilephone", "company", "address", "city", "country",
        "lifecyclestage", "hs_marketable_status", "hs_legal_basis", "tax_id", "hubspot_owner_id", "createdate",
        "lastmodifieddate")),
    HubSpotObject(name="companies", properties=(
        "name", "domain", "phone", "city", "country", "createdate", "hs_lastmodifieddate")),
    HubSpotObject(name="deals", associations="contacts", personal=_OF_CONTACT, properties=(
        "dealname", "amount", "deal_currency_code", "dealstage", "pipeline", "closedate", "createdate",
        "hs_lastmodifieddate")),
    HubSpotObject(name="line_items", associations="deals", properties=(
        "name", "hs_sku", "quantity", "price", "discount", "hs_discount_percentage", "amount",
        "hs_lastmodifieddate")),
    HubSpotObject(name="tickets", associations="contacts", read_scope="tickets", personal=_OF_CONTACT, properties=(
        "subject", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_priority", "source_type",
        "createdate", "first_agent_reply_date", "closed_date", "hs_v2_date_exited_4", "hs_lastmodifieddate")),
)
PROPERTIES: dict[str, list[str]] = {o.name: list(o.properties) for o in OBJECTS}
MODIFIED_PROPERTY: dict[str, str] = {o.name: o.modified_property for o in OBJECTS}
ASSOCIATIONS: dict[str, str] = {o.name: o.associations for o in OBJECTS if o.associations}

# The private app's scopes Puente needs (Settings > Integrations > Private Apps > Scopes): to read
# each object and its property definitions, and for the activations to write the contact
# properties Puente owns and the tasks (tasks are engagements, under the contacts' scopes).
READ_SCOPES: tuple[str, ...] = (*(o.read_scope or f"crm.objects.{o.name}.read" for o in OBJECTS),
                                *(f"crm.schemas.{o.name}.read" for o in OBJECTS))
WRITE_SCOPES: tuple[str, ...] = ("crm.objects.contacts.write", "crm.schemas.contacts.write")
TOKEN_INFO_PATH = "/oauth/v2/private-apps/get/access-token-info"  # a token's scopes; no Authorization
