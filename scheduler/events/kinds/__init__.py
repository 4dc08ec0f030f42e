"""Every event kind, one module each; importing this package registers them all.

To add a kind, write its module here: its typed payload, its labels, its hooks and `@register`. Nothing
else lists it: this package imports every module in its folder (in name order, the registry's order), and
`scheduler.events` imports this package, so the registry is complete whenever any part of the events
package is imported. A module without `@register` (a base the kinds share, `item_changes`) registers nothing.
"""

import importlib
import pkgutil

KIND_MODULES = tuple(sorted(module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_")))

for _name in KIND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")
