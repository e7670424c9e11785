# One command to set up and see it work (`make demo`), one to test (`make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench clean

install: $(VENV)/.installed

# The exact dependency set is constraints.txt (see the comment at its top).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

demo: install
	$(BIN)/ledgerflow demo

test: install
	$(BIN)/python -m pytest

# The Fortnox import benchmark runs at Fortnox's real rate limit (~37 minutes for 10,000 invoices):
#   $(BIN)/python benchmarks/fortnox_import.py --supplier-invoices 10000 --customers 2000
bench: install
	$(BIN)/python benchmarks/workcloud_ingest.py --rows 100000 --database sqlite
	$(BIN)/python benchmarks/workcloud_ingest.py --rows 100000 --database postgres
	$(BIN)/python benchmarks/bank_import.py --rows 100000 --database postgres
	$(BIN)/python benchmarks/bank_import.py --megabytes 10 --database postgres
	$(BIN)/python benchmarks/flow_overhead.py
	$(BIN)/python benchmarks/invoice_accuracy.py --count 500
	$(BIN)/python benchmarks/invoice_fields.py --generated 300
	$(BIN)/python benchmarks/invoice_cycle.py --new 100
	$(BIN)/python benchmarks/payment_matching.py --invoices 100000 --database postgres
	$(BIN)/python benchmarks/reconciliation.py --database postgres
	$(BIN)/python benchmarks/rate_limiter.py --pairs 2000
	$(BIN)/python benchmarks/cli_latency.py

clean:
	rm -rf var
