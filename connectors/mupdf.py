"""The one lock around MuPDF for the whole process.

MuPDF's context is not thread-safe, and PDFs are read (invoice validation), rendered (the Fortnox
sandbox, the invoicing guidelines) and fetched in thread pools within one process, so every use
of `pymupdf` holds this lock. Re-entrant, so a helper that renders may call one that reads.
"""

import threading

LOCK = threading.RLock()
