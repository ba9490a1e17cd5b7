"""Salesforce REST API: where it lives, its limits, and the sObjects Puente reads.

Per Salesforce's REST API Developer Guide (developer.salesforce.com/docs/platform/api-rest/guide:
"Query" resources-query, "Execute a SOQL Query" dome-query, "QueryAll" resources-queryall,
"Limit Info Header" headers_api_usage, "Status Codes and Error Responses" errorcodes,
"sObject Collections" resources_composite_sobjects_collections_create / _update) and its OAuth 2.0
guides (client credentials flow, refresh token flow, ``/services/oauth2/token``):

- An access token comes from ``POST {login or My Domain URL}/services/oauth2/token``
  (form-encoded: ``grant_type=client_credentials`` with the connected app's ``client_id`` and
  ``client_secret``, or ``grant_type=refresh_token`` with a ``refresh_token`` as well). The answer
  carries ``access_token`` and ``instance_url``: every data request goes to that instance, with
  ``Authorization: Bearer <token>``. An expired session answers 401 with the error code
  ``INVALID_SESSION_ID``; the client asks for a new token once and repeats the request.
- ``GET /services/data/vXX.X/query?q=<SOQL>`` answers ``{"totalSize", "done", "records",
  "nextRecordsUrl"}``: at most 2,000 records a batch (``Sforce-Query-Options: batchSize=n``,
  200 to 2,000, asks for fewer), then ``nextRecordsUrl`` (``/services/data/vXX.X/query/01g…-2000``),
  requested as it is, without parameters, until ``done`` is true. ``queryAll`` answers the same
  and includes deleted records (``IsDeleted`` true, kept in the Recycle Bin about 15 days), which
  is how deletions are read: deleting a record stamps its ``SystemModstamp``.
- Every record carries ``attributes`` (``type``, ``url``) and the fields asked for; ``Id`` (18
  characters, case-safe) is the key and ``SystemModstamp`` (``2026-11-16T14:03:22.000+0000``,
  changed by any write, the system's included) the cursor: Salesforce advises it over
  ``LastModifiedDate`` for replication and indexes it.
- Errors are a JSON list of ``{"message", "errorCode", "fields"}``: ``MALFORMED_QUERY``,
  ``INVALID_FIELD`` (400), ``INVALID_SESSION_ID`` (401), ``REQUEST_LIMIT_EXCEEDED`` (403: the daily
  API request limit, "TotalRequests Limit exceeded", or a concurrency limit such as
  "ConcurrentPerOrgLongTxn Limit exceeded", which passes), ``SERVER_UNAVAILABLE`` (503).
- Every answer carries ``Sforce-Limit-Info: api-usage=n/m``: the org's API requests in the last
  24 hours and its daily allocation, shared by every integration of the org.
- sObject Collections (``/composite/sobjects``: POST creates, PATCH updates) take up to 200
  records a call; with ``allOrNone`` false each record succeeds or fails on its own, and the
  answer lists ``{"id", "success", "errors": [{"statusCode", "message", "fields"}]}`` in the order
  sent. A collection counts as one API request.
"""

from __future__ import annotations

from dataclasses import dataclass

from puente.sources.spec import PersonalData, SourceObject

SYSTEM = "Salesforce"
DEFAULT_LOGIN_URL = "https://login.salesforce.com"
API_VERSION = "v62.0"
DATA_PATH = f"/services/data/{API_VERSION}"
TOKEN_PATH = "/services/oauth2/token"
QUERY_BATCH = 2000  # records a query batch holds at most (and by default)
MIN_QUERY_BATCH = 200
COLLECTION_LIMIT = 200  # records an sObject Collections call takes at most
CURSOR = "SystemModstamp"
# The share of the org's daily API requests Puente leaves untouched, for the business's other
# integrations and its people: a walk stops cleanly (its pages committed) before it eats into it.
DEFAULT_QUOTA_RESERVE = 0.1


@dataclass(frozen=True, kw_only=True)
class SObject(SourceObject):
    """An sObject Puente reads: its SOQL fields are its declared ones (``landed_fields``); ``Id``,
    ``SystemModstamp`` and ``IsDeleted`` are always asked for (key, cursor, deletions)."""

    sobject: str  # the API name SOQL asks for ("OpportunityLineItem"); ``name`` is the raw table's
    key: str = "Id"
    cursor: str = CURSOR
    live_in_quarantine: str = """q.payload not like '%%"IsDeleted": true%%'"""

    @property
    def soql_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(("Id", CURSOR, "IsDeleted", *self.landed_fields)))


# Minimum data: what staging reads (dbt_project/models/staging/salesforce/). Left out, among others:
# descriptions, notes, the lead source, addresses' postal codes and states, the rest of the org's
# custom fields (Puente's own Puente_*__c write-back fields too).
_PERSON = ("FirstName", "LastName", "Email", "Phone", "MobilePhone", "HasOptedOutOfEmail", "Tax_Id__c",
           "Legal_Basis__c", "OwnerId", "CreatedDate")
# Erasure: a Contact and a Lead are both of record kind salesforce_contact (their ids differ in
# their prefix); an Opportunity and a Case are the person's through their ContactId.
_PERSONAL = dict(record_kinds=("salesforce_contact",), identifiers=("Email", "Phone", "MobilePhone", "Tax_Id__c"),
                 names=("FirstName", "LastName"), tax_id="Tax_Id__c")
_OF_CONTACT = PersonalData(refers=(("ContactId", "salesforce_contact"),))
OBJECTS: tuple[SObject, ...] = (
    SObject(name="accounts", sobject="Account", landed_fields=("IsDeleted", "Name", "Website", "Phone", "BillingCity",
                                           "BillingCountry", "CreatedDate")),
    SObject(name="contacts", sobject="Contact", personal=PersonalData(
        **_PERSONAL, other=("HasOptedOutOfEmail", "Legal_Basis__c", "MailingStreet", "MailingCity")), landed_fields=("IsDeleted", *_PERSON, "AccountId", "MailingStreet", "MailingCity",
                                           "MailingCountry")),
    SObject(name="leads", sobject="Lead", personal=PersonalData(
        **_PERSONAL, other=("HasOptedOutOfEmail", "Legal_Basis__c", "Company", "Street", "City")), landed_fields=("IsDeleted", *_PERSON, "Company", "Street", "City", "Country", "Status",
                                        "IsConverted", "ConvertedContactId")),
    SObject(name="opportunities", sobject="Opportunity", personal=_OF_CONTACT, landed_fields=("IsDeleted", "Name", "AccountId", "ContactId", "Amount",
                                               "StageName", "CloseDate", "IsClosed", "IsWon", "CreatedDate")),
    # Service tickets. First_Response__c and Times_Reopened__c are the org's own fields (a flow stamps
    # the desk's first answer and counts reopenings: Salesforce keeps neither on a Case by itself).
    SObject(name="cases", sobject="Case", personal=_OF_CONTACT, landed_fields=("IsDeleted", "ContactId", "Subject", "Type", "Reason",
                                                         "Priority", "IsClosed", "ClosedDate", "First_Response__c",
                                                         "Times_Reopened__c", "CreatedDate")),
    SObject(name="opportunity_line_items", sobject="OpportunityLineItem", landed_fields=("IsDeleted", "OpportunityId", "Name", "ProductCode",
                                                       "Quantity", "UnitPrice", "Discount", "TotalPrice")),
)
