"""Regenerate ``openapi-subset.json``: the part of Fortnox's official OpenAPI description that the
Fortnox sandbox serves (its paths, every schema they reference transitively, and
``fortnox_MetaInformation``, which list bodies carry although no path's schema mentions it).

The contract test reads only the subset, so it runs on a clean clone; regenerate it when the
sandbox serves a new path or the spec is updated:

    .venv/bin/python tests/data/fortnox/make_openapi_subset.py [path/to/fortnox-openapi.json]

The default source is ``../shared/reference/apis/openapi/fortnox-openapi.json`` next to the project.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SOURCE = HERE.parents[3] / "shared" / "reference" / "apis" / "openapi" / "fortnox-openapi.json"
TARGET = HERE / "openapi-subset.json"
PATHS = (
    "/3/supplierinvoices",
    "/3/supplierinvoices/{GivenNumber}",
    "/3/supplierinvoices/{GivenNumber}/bookkeep",
    "/3/supplierinvoices/{GivenNumber}/cancel",
    "/3/supplierinvoices/{GivenNumber}/credit",
    "/3/supplierinvoicefileconnections",
    "/3/supplierinvoicefileconnections/{FileId}",
    "/3/archive/{id}",
    "/3/companyinformation",
    "/3/projects",
    "/3/projects/{ProjectNumber}",
    "/3/suppliers",
    "/3/suppliers/{SupplierNumber}",
    "/3/customers",
    "/3/customers/{CustomerNumber}",
    "/3/invoices",
    "/3/invoices/{DocumentNumber}",
    "/3/articles",
    "/3/articles/{ArticleNumber}",
    "/3/employees",
    "/3/employees/{EmployeeId}",
    "/3/offers",
    "/3/offers/{DocumentNumber}",
    "/3/attendancetransactions",
    "/3/salarytransactions",
)
EXTRA_SCHEMAS = ("fortnox_MetaInformation",)
SCHEMA_PREFIX = "#/components/schemas/"


def references(node: Any) -> Iterator[str]:
    """The schema names `node` refers to, at any depth."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX):
            yield ref.removeprefix(SCHEMA_PREFIX)
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def subset(spec: dict[str, Any]) -> dict[str, Any]:
    paths = {path: spec["paths"][path] for path in PATHS}
    schemas = spec["components"]["schemas"]
    wanted, pending = set(), [*references(paths), *EXTRA_SCHEMAS]
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(references(schemas[name]))
    return {
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"],
                 "description": "Subset of the official Fortnox API description; made by make_openapi_subset.py."},
        "servers": spec["servers"],
        "paths": paths,
        "components": {"schemas": {name: schemas[name] for name in sorted(wanted)}},
    }


def main(source: Path = SOURCE) -> None:
    spec = json.loads(source.read_text(encoding="utf-8"))
    TARGET.write_text(json.dumps(subset(spec), indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{TARGET}: {len(PATHS)} paths")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
