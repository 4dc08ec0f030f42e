"""The service's web pages (Chinese by default, `?lang=en`): office, township head, expert, and the month report.

`router` is what `api.app.create_app` includes; the pages call the same store, flows and auth functions as the API.
"""

from fastapi import APIRouter

from api.pages import login_pages, office_pages, people_pages, report_pages

router = APIRouter(include_in_schema=False)
router.include_router(login_pages.router)
# The report routes are more specific than the office month page, so they come first.
router.include_router(report_pages.router)
router.include_router(office_pages.router)
router.include_router(people_pages.router)

__all__ = ["router"]
