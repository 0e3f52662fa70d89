"""The projects' configuration API and the events Bloomreach refused, behind the engine's API key.

GET    /bloomreach/config                        every project (secrets masked)
GET    /bloomreach/config/{projectToken}         one
PUT    /bloomreach/config/{projectToken}         create or replace (a masked secret sent back is kept)
DELETE /bloomreach/config/{projectToken}
POST   /bloomreach/config/{projectToken}/validate  checks the tracking API key and the Infobip account
GET    /bloomreach/rejected/{projectToken}       events Bloomreach refused (4xx, `success: false`), with why
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import HostServices
from channel_engine.documents import Documents, api_key_refusal, check_infobip_account, document_routes

from .config import NAMESPACE, Project, account_name
from .tracking import REJECTED_NAMESPACE, Tracker, TrackingApi


def admin_routes(services: HostServices, http: httpx.AsyncClient) -> tuple[list[Route], Tracker]:
    projects: Documents[Project] = Documents(services, NAMESPACE, Project, "project_token")
    api = TrackingApi(http)
    rejected = services.data(REJECTED_NAMESPACE)
    tracker = Tracker(projects, api, rejected)

    async def validate(project: Project) -> list[dict[str, Any]]:
        checks = [await api.check(project)]
        if project.infobip_account is not None:
            checks.append(await check_infobip_account(http, project.infobip_account))
        return checks

    async def saved(project: Project) -> None:
        name = account_name(project)
        if name is not None and project.infobip_account is not None:
            await services.put_account(
                name, project.infobip_account.base_url, project.infobip_account.api_key
            )

    async def list_rejected(request: Request) -> Response:
        if refused := api_key_refusal(services, request):
            return refused
        prefix = request.path_params["project"] + ":"
        stored = await rejected.list()
        items = [await rejected.get_json(key) for key in sorted(stored) if key.startswith(prefix)]
        return JSONResponse({"rejected": sorted(items, key=lambda item: item["at"])})

    routes = document_routes(
        services,
        projects,
        label="Bloomreach project",
        check=Project.problem,
        validate=validate,
        saved=saved,
        list_key="projects",
    )
    return [*routes, Route("/rejected/{project}", list_rejected, methods=["GET"])], tracker
