"""Rule-based invoice reader: field accuracy on real and generated invoices, and throughput.

Accuracy on the reference corpus (../shared/reference/invoices, 25 PDFs in English, German,
French and Dutch) counts the ground-truth values of expected_normalized.json the reader
finds exactly, per field, and again without the values no text reader can or should find
(`tests/test_invoice_extract.py` lists them with their reasons: issuer data in an image,
ZUGFeRD files whose embedded XML is another invoice, credit notes printed negative).
Accuracy on generated Swedish invoices (connectors.sandbox.invoice_corpus, all five
layouts) compares every field its truth fills, and the project hints.

Throughput is the median over `--runs` of the time `read_invoice` takes per PDF, one
process, bytes already in memory: the extraction step's share of the "1,000 invoices a
minute" the validation flow must sustain on two cores.

    .venv/bin/python benchmarks/invoice_fields.py --generated 300 --runs 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the expectations live with the tests

from connectors.invoice_pdf import read_invoice  # noqa: E402
from connectors.sandbox.invoice_corpus import COMPARED_FIELDS, generate  # noqa: E402
from models.invoice_review import ProjectHint  # noqa: E402
from tests.test_invoice_extract import CORPUS, corpus_expectations  # noqa: E402


def _table(title: str, hits: Counter[str], totals: Counter[str]) -> None:
    print(f"\n{title}")
    for name in totals:
        print(f"  {name:22s} {hits[name]:4d}/{totals[name]:<4d} {100 * hits[name] / totals[name]:5.1f} %")
    print(f"  {'all fields':22s} {sum(hits.values()):4d}/{sum(totals.values()):<4d} "
          f"{100 * sum(hits.values()) / sum(totals.values()):5.1f} %")


def real_corpus() -> list[bytes]:
    expectations = corpus_expectations()
    truth_hits: Counter[str] = Counter()
    reachable_hits: Counter[str] = Counter()
    truth_totals: Counter[str] = Counter()
    reachable_totals: Counter[str] = Counter()
    pdfs = []
    for expectation in expectations:
        pdf = (CORPUS / expectation.file).read_bytes()
        pdfs.append(pdf)
        fields = read_invoice(pdf).fields
        for check in expectation.checks:
            found = getattr(fields, check.field)
            truth_totals[check.field] += 1
            truth_hits[check.field] += found == check.truth
            if check.reachable:
                reachable_totals[check.field] += 1
                reachable_hits[check.field] += found == check.visible
    _table(f"Reference corpus, {len(pdfs)} PDFs: ground truth found exactly", truth_hits, truth_totals)
    print("  where the page differs from the ground truth:")
    for expectation in expectations:
        for check in expectation.checks:
            if check.reason:
                shown = "nothing as text" if check.visible is None else repr(check.visible)
                print(f"    {expectation.file} {check.field}: page shows {shown} ({check.reason})")
    _table("Reference corpus: values printed as text (the tests' list of exclusions applied)",
           reachable_hits, reachable_totals)
    return pdfs


def generated_corpus(count: int) -> list[bytes]:
    invoices = generate(count, seed=7)
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    layouts: Counter[str] = Counter()
    for invoice in invoices:
        layouts[invoice.layout] += 1
        fields = read_invoice(invoice.pdf).fields
        for name in COMPARED_FIELDS:
            totals[name] += 1
            hits[name] += getattr(fields, name) == getattr(invoice.truth.fields, name)
        totals["project_hints"] += 1
        hits["project_hints"] += sorted(map(_hint, fields.project_hints)) == sorted(map(_hint, invoice.truth.hints))
    mix = ", ".join(f"{name} {n}" for name, n in sorted(layouts.items()))
    _table(f"Generated Swedish invoices, {count} ({mix}): truth found exactly", hits, totals)
    return [invoice.pdf for invoice in invoices]


def _hint(hint: ProjectHint) -> tuple[str, str, str]:
    return (hint.kind, hint.value, hint.label or "")


def _typical(pdf: bytes) -> bool:
    """A one-page invoice with a text layer: what most suppliers send."""
    extraction = read_invoice(pdf)
    return extraction.pages == 1 and not extraction.problems


def throughput(name: str, pdfs: Sequence[bytes], runs: int) -> None:
    """Median wall and CPU time per PDF; CPU time is the figure per core when other work shares the machine."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        for pdf in pdfs:
            read_invoice(pdf)
        wall.append((time.perf_counter() - started) / len(pdfs))
        cpu.append((time.process_time() - started_cpu) / len(pdfs))
    per_pdf = statistics.median(cpu)
    print(f"  {name:44s} {1000 * statistics.median(wall):6.2f} ms wall, {1000 * per_pdf:6.2f} ms CPU per PDF"
          f"  = {60 / per_pdf:8,.0f} PDFs/minute per core")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=300, help="generated invoices to read")
    parser.add_argument("--runs", type=int, default=5, help="timed runs; the median is reported")
    args = parser.parse_args(argv)
    real = real_corpus()
    generated = generated_corpus(args.generated)
    one_page = [pdf for pdf in generated if _typical(pdf)]
    print(f"\nThroughput (median of {args.runs} runs)")
    throughput(f"generated, one-page ({len(one_page)} PDFs)", one_page, args.runs)
    throughput(f"generated, all ({len(generated)} PDFs)", generated, args.runs)
    throughput(f"reference corpus ({len(real)} PDFs, 1-4 pages)", real, args.runs)


if __name__ == "__main__":
    main()
