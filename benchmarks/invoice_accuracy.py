"""Invoice validation accuracy and speed: a fresh labelled corpus, PDF -> decision, against its truth.

Seed 002 (BC11) asks for the right project first, and never the wrong project auto-approved
(risk H3); targets: top-1 project accuracy >= 95 % on the invoices whose project a perfect
matcher can name (`Truth.findable`), 0 wrong auto-approvals, >= 1,000 invoices a minute from
PDF bytes to decision. The corpus is made before the clock starts; the clock covers reading
each PDF (`connectors.invoice_pdf.read_invoice`) and analysing it (`analyze`), one by one.

    .venv/bin/python benchmarks/invoice_accuracy.py --count 500 --seed 11
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from connectors.invoice_pdf import read_invoice
from connectors.sandbox import invoice_corpus as corpus
from connectors.sandbox.workcloud import generate_company
from models.invoice_review import Analysis, Band
from tasks.invoice_analysis.registry import Registry
from tasks.invoice_analysis.scoring import analyze

BANDS = list(Band)


def confusion(pairs: Counter[tuple[Band, Band]]) -> str:
    """Expected band per row, band got per column."""
    width = max(len(band.value) for band in BANDS) + 2
    lines = ["expected \\ got".ljust(width) + "".join(band.value.rjust(width) for band in BANDS)]
    for expected in BANDS:
        lines.append(expected.value.ljust(width) + "".join(str(pairs[expected, got]).rjust(width) for got in BANDS))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    company = generate_company(options.seed)
    registry = Registry.from_records(company.projects, company.work_orders)
    buyer = corpus.BUYER
    invoices = corpus.generate(options.count, seed=options.seed, company=company)
    analyze("warm-up.pdf", read_invoice(invoices[0].pdf), registry, buyer, today=corpus.LATEST)

    started = time.perf_counter()
    analyses: list[Analysis] = [
        analyze(f"{index}.pdf", read_invoice(invoice.pdf), registry, buyer, today=corpus.LATEST)
        for index, invoice in enumerate(invoices)
    ]
    elapsed = time.perf_counter() - started

    findable = [(i, a) for i, a in zip(invoices, analyses, strict=True) if i.truth.findable]
    right = sum(a.project == i.truth.project_number for i, a in findable)
    missed = Counter(i.scenario for i, a in findable if a.project != i.truth.project_number)
    wrong_auto = [i for i, a in zip(invoices, analyses, strict=True)
                  if a.band is Band.AUTO_APPROVE and a.project != i.truth.project_number]
    bands = Counter((i.truth.expected_band, a.band) for i, a in zip(invoices, analyses, strict=True))
    off_band = Counter(i.scenario for i, a in zip(invoices, analyses, strict=True) if a.band != i.truth.expected_band)

    print(f"{options.count} invoices, seed {options.seed}")
    print(f"top-1 project accuracy on findable invoices: {right}/{len(findable)} = "
          f"{100 * right / max(len(findable), 1):.1f} % (target >= 95 %)")
    if missed:
        print(f"  missed, by scenario: {dict(missed)}")
    print(f"wrong auto-approvals: {len(wrong_auto)} (target 0)"
          + (f" {[(i.scenario, i.truth.project_number) for i in wrong_auto]}" if wrong_auto else ""))
    print(f"band as expected: {sum(bands[b, b] for b in BANDS)}/{options.count}")
    if off_band:
        print(f"  off band, by scenario: {dict(off_band)}")
    print(confusion(bands))
    print(f"throughput PDF -> decision: {options.count / elapsed * 60:,.0f} invoices/minute (target >= 1,000)")


if __name__ == "__main__":
    main()
