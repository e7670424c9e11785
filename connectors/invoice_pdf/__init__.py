"""Rule-based reading of supplier-invoice PDFs (seed 002, BC11): `read_invoice(bytes) -> Extraction`."""

from connectors.invoice_pdf.reader import read_invoice

__all__ = ["read_invoice"]
