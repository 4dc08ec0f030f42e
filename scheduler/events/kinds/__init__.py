"""Every event kind, one module each; importing this package registers them all (the order is the registry's).

To add a kind: write its module here (payload, labels, hooks, `@register`) and add it to this list.
"""

from scheduler.events.kinds import (  # noqa: F401  (each module registers its kind)
    leave,
    closure,
    reopen,
    request,
    swap,
    demand,
    township,
    expert,
    department,
    links,
    calendar,
    rules,
    revert,
    forced,
)
