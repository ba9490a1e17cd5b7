"""Great Expectations suites (``expectations.suites``) and the gates that run them
(``expectations.gates``): raw before dbt, marts after it, sync before the CRM write-back."""

import logging
import os

# Before Great Expectations is imported anywhere in the process: no usage statistics, and
# none of its INFO chatter (thousands of lines per gate) in task logs unless asked for.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
if logging.getLogger("great_expectations").level == logging.NOTSET:
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
