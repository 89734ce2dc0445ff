"""/api/saved-searches: create, list and delete named searches (the alerter's SQLite file).

A query is validated by the search parser before it is saved, so a saved search always
runs; the alerter matches each one at ingest (alerts/saved_searches.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from alerts import saved_query, saved_searches, store
from chipwire.settings import Settings

NAME = r"^[A-Za-z0-9_.-]{1,64}$"


class SavedSearchIn(BaseModel):
    name: str = Field(pattern=NAME, description="Letters, digits, '_', '.', '-'")
    query: str = Field(max_length=1000, description="Lucene syntax, as in /api/search")


class SavedSearchOut(BaseModel):
    name: str
    query: str
    created_at: str
    matched: int = Field(description="Articles matched at ingest since it was saved")


class SavedSearchList(BaseModel):
    saved_searches: list[SavedSearchOut]


def create_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api/saved-searches", tags=["saved searches"])

    @contextmanager
    def connection() -> Iterator[sqlite3.Connection]:
        conn = store.connect(settings.alerts_db)
        try:
            yield conn
        finally:
            conn.close()

    @router.get("", response_model=SavedSearchList)
    def list_saved() -> SavedSearchList:
        with connection() as conn:
            found = saved_searches.listing(conn)
        return SavedSearchList(saved_searches=[SavedSearchOut(**s.__dict__) for s in found])

    @router.post("", response_model=SavedSearchOut, status_code=201)
    def save(body: SavedSearchIn) -> SavedSearchOut:
        saved_query.parse(body.query)  # QueryError: 400 with the analyst's message
        with connection() as conn:
            saved = saved_searches.put(conn, body.name, body.query)
        return SavedSearchOut(**saved.__dict__)

    @router.get("/{name}", response_model=SavedSearchOut)
    def one(name: Annotated[str, Path(pattern=NAME)]) -> SavedSearchOut:
        with connection() as conn:
            saved = saved_searches.get(conn, name)
        if saved is None:
            raise HTTPException(status_code=404, detail="no saved search with this name")
        return SavedSearchOut(**saved.__dict__)

    @router.delete("/{name}", status_code=204)
    def delete(name: Annotated[str, Path(pattern=NAME)]) -> None:
        with connection() as conn:
            if not saved_searches.delete(conn, name):
                raise HTTPException(status_code=404, detail="no saved search with this name")

    return router
