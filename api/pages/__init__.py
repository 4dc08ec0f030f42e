"""The service's web pages (Chinese by default, `?lang=en`): office, township head, expert, the month report, the province.

`global_router` (login, logout, the stylesheet, the bureau's province pages) and `community_router`
(every page of one community, included under `/c/{community}`) are what `api.app.create_app` includes;
the pages call the same store, flows and auth functions as the API.
"""

from fastapi import APIRouter, Depends

from api.pages import (
    allowance_pages, calendar_pages, closure_pages, contact_pages, data_pages, lever_pages, login_link_pages, login_pages, office_pages, people_pages, province_pages,
    report_pages, user_pages,
)
from api.pages.csrf import csrf_protect
from api.pages.web import install_csrf_refusal

# Every page route, and any router included here later, runs the CSRF check (api.pages.csrf) before its endpoint.
PAGE_DEPENDENCIES = [Depends(csrf_protect)]

global_router = APIRouter(include_in_schema=False, dependencies=PAGE_DEPENDENCIES)
global_router.include_router(login_pages.router)
global_router.include_router(login_pages.login_router)
global_router.include_router(province_pages.router)

community_router = APIRouter(include_in_schema=False, dependencies=PAGE_DEPENDENCIES)
community_router.include_router(login_pages.login_router)
community_router.include_router(login_pages.community_router)
# The report, closure and calendar routes are more specific than the office month page (/office/{month}), so they come first.
community_router.include_router(report_pages.router)
community_router.include_router(allowance_pages.router)
community_router.include_router(closure_pages.router)
community_router.include_router(calendar_pages.router)
community_router.include_router(data_pages.router)
community_router.include_router(contact_pages.router)
community_router.include_router(login_link_pages.router)  # /login/link/{token} and /office/logins
community_router.include_router(user_pages.router)  # /office/users before /office/{month}
community_router.include_router(lever_pages.router)  # /office/audit before /office/{month}
community_router.include_router(office_pages.router)
community_router.include_router(people_pages.router)

__all__ = ["community_router", "global_router", "install_csrf_refusal"]
