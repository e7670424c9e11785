"""The review API of seed 002 §5.4: the flagged list and the approve / reject / wait actions.

A small FastAPI app for a portal (or curl). Every request needs ``Authorization: Bearer <token>``
with the token from `LEDGERFLOW_REVIEW_API_TOKEN`; without a configured token the app refuses to
start rather than serve invoices to anyone. Bodies and answers use the seed's camelCase names.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from flows import reviews
from flows.connections import fortnox_client
from flows.settings import Settings
from models.reviews import Review, find
from models.store import open_store


BEARER = HTTPBearer(auto_error=False)  # module level: FastAPI resolves the (string) annotations in module globals


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ApproveBody(Body):
    project_number: str | None = None
    comment: str | None = None
    reviewer: str | None = None


class RejectBody(Body):
    reason: str = Field(min_length=1)
    correct_project: str | None = None
    reviewer: str | None = None


class WaitBody(Body):
    comment: str | None = None
    reviewer: str | None = None


def flagged_item(review: Review) -> dict[str, Any]:
    """One invoice as §5.4 shows it."""
    candidates = (review.analysis or {}).get("candidates", [])
    best = candidates[0] if candidates else None
    return {
        "id": review.id,
        "givenNumber": review.given_number,
        "invoiceNumber": review.invoice_number,
        "supplier": review.supplier_name,
        "total": float(review.total) if isinstance(review.total, Decimal) else review.total,
        "currency": review.currency,
        "dueDate": review.due_date.isoformat() if review.due_date else None,
        "confidence": review.confidence,
        "band": review.band,
        "status": review.status,
        "complaintInterrupted": review.complaint_interrupted,
        "aiSuggestion": {"projectNumber": best["project_number"], "projectName": best.get("project_name"),
                         "reasoning": "; ".join(best.get("reasons", []))} if best else None,
        "alternatives": [{"project": c["project_number"], "confidence": c["score"]} for c in candidates[1:]],
        "checks": [c for c in (review.analysis or {}).get("checks", []) if not c["ok"]],
        "pdfUrl": f"/api/invoices/{review.id}/pdf",
    }


def create_app(settings: Settings | None = None, tenant: str | None = None) -> FastAPI:
    settings = settings or Settings()
    if settings.review_api_token is None:
        raise ValueError("set LEDGERFLOW_REVIEW_API_TOKEN: the review API does not run without a token")
    token = settings.review_api_token.get_secret_value()
    tenant_id = tenant or settings.tenant

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        if credentials is None or not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
            raise HTTPException(401, {"code": "unauthorized", "message": "Saknar eller fel API-token"},
                                headers={"WWW-Authenticate": "Bearer"})

    app = FastAPI(title="ledgerflow review API", dependencies=[Depends(authorised)])

    @app.exception_handler(reviews.ReviewError)
    async def review_error(_: Request, error: reviews.ReviewError) -> JSONResponse:
        return JSONResponse({"code": error.code, "message": error.message}, status_code=error.status)

    @app.get("/api/invoices/flagged")
    def flagged(status: reviews.StatusFilter = "pending",
                confidence: Annotated[reviews.ConfidenceFilter | None, Query()] = None) -> list[dict[str, Any]]:
        return [flagged_item(r) for r in reviews.list_flagged(settings, tenant_id, status, confidence)]

    @app.post("/api/invoices/{key}/approve")
    def approve(key: str, body: ApproveBody) -> dict[str, Any]:
        review = reviews.approve(settings, tenant_id, key, body.reviewer or "api", body.project_number, body.comment)
        return flagged_item(review)

    @app.post("/api/invoices/{key}/reject")
    def reject(key: str, body: RejectBody) -> dict[str, Any]:
        review = reviews.reject(settings, tenant_id, key, body.reviewer or "api", body.reason, body.correct_project)
        return flagged_item(review) | {"complaint": review.complaint}

    @app.post("/api/invoices/{key}/wait")
    def wait(key: str, body: WaitBody) -> dict[str, Any]:
        return flagged_item(reviews.wait(settings, tenant_id, key, body.reviewer or "api", body.comment))

    @app.get("/api/invoices/{key}/pdf")
    def pdf(key: str) -> Response:
        """The invoice's PDF, fetched from the Fortnox archive (we keep only its SHA-256)."""
        engine = open_store(settings.database_url)
        with engine.connect() as connection:
            review = find(connection, tenant_id, key)
        if review is None:
            raise reviews.ReviewError("not_found", f"Ingen granskning av faktura {key}", 404)
        with fortnox_client(settings, engine, tenant_id) as client:
            connections = client.file_connections(review.given_number)
            if not connections:
                raise reviews.ReviewError("no_document", "Fakturan har ingen bifogad PDF i Fortnox", 404)
            data = client.archive_file(connections[0].file_id)
        return Response(data, media_type="application/pdf")

    return app
