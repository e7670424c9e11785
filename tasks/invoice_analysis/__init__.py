"""Supplier-invoice validation (seed 002 BC11): PDF -> fields -> project match -> checks -> confidence."""
