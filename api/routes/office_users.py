"""A community's office users, for its office: list, add, disable, enable again, set a new password (`/office-users`).

The same scheduler.office_users functions as `rota user ...` and the office's users page: the same rules and
messages for names and passwords (422 naming the field), 409 for a name the community already has or an office
user disabling their own account, 404 for a user of another community. Disabling ends the user's page sessions
at once; a new password ends them too. Enabling a disabled user lets them log in again with their password;
enabling or disabling a user already so answers 200 with the user and changes nothing. Every change is in the audit trail with the caller as its actor.
"""

# No `from __future__ import annotations`: the generated routes need their body models as real objects.

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import Factory, Office
from api.schemas import OfficeUserCreate, OfficeUserOut, OfficeUserPassword
from scheduler import office_users
from scheduler.db import transaction

router = APIRouter(tags=["office users"])
UserId = Annotated[int, Path(ge=1, le=2_147_483_647, description="the user's id")]


def _out(user: office_users.OfficeUserView) -> OfficeUserOut:
    return OfficeUserOut(id=user.id, name=user.name, created_at=user.created_at, disabled=user.disabled, disabled_at=user.disabled_at,
                         last_login_at=user.last_login_at)


@router.get("/office-users", response_model=list[OfficeUserOut])
def list_office_users(factory: Factory, tenant: Office) -> list[OfficeUserOut]:
    """The community's office users, oldest first, with when each last logged in."""
    with factory() as session:
        return [_out(user) for user in office_users.list_users(session, tenant.id)]


@router.post("/office-users", status_code=status.HTTP_201_CREATED, response_model=OfficeUserOut)
def create_office_user(body: OfficeUserCreate, factory: Factory, tenant: Office) -> OfficeUserOut:
    """Add an office user who logs in to the pages with this name and password (409 if the name is taken)."""
    with transaction(factory) as session:
        user_id = office_users.create_user(session, tenant.id, body.name, body.password)
        return _out(office_users.get_user(session, tenant.id, user_id))


@router.get("/office-users/{user_id}", response_model=OfficeUserOut)
def get_office_user(user_id: UserId, factory: Factory, tenant: Office) -> OfficeUserOut:
    """One office user of the community (404 for an id it does not have)."""
    with factory() as session:
        return _out(office_users.get_user(session, tenant.id, user_id))


@router.post("/office-users/{user_id}/disable", response_model=OfficeUserOut)
def disable_office_user(user_id: UserId, factory: Factory, tenant: Office) -> OfficeUserOut:
    """Disable an office user: no more logins, their page sessions end now (409 for one's own account; again: no change)."""
    with transaction(factory) as session:
        name = office_users.get_user(session, tenant.id, user_id).name
        office_users.disable_user(session, tenant.id, name, acting_user_id=tenant.caller.user_id)
        return _out(office_users.get_user(session, tenant.id, user_id))


@router.post("/office-users/{user_id}/enable", response_model=OfficeUserOut)
def enable_office_user(user_id: UserId, factory: Factory, tenant: Office) -> OfficeUserOut:
    """Enable a disabled office user: they log in again with their password (an active user: no change)."""
    with transaction(factory) as session:
        name = office_users.get_user(session, tenant.id, user_id).name
        office_users.enable_user(session, tenant.id, name)
        return _out(office_users.get_user(session, tenant.id, user_id))


@router.put("/office-users/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def set_office_user_password(user_id: UserId, body: OfficeUserPassword, factory: Factory, tenant: Office) -> Response:
    """Give an office user a new password; every page session of theirs ends."""
    with transaction(factory) as session:
        name = office_users.get_user(session, tenant.id, user_id).name
        office_users.set_password(session, tenant.id, name, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
