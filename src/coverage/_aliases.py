"""Import paths of the flat 0.1 layout, kept for one release.

``coverage.plot``, ``coverage.kmz``, ``coverage.interactive``, ``coverage.itm``, ``coverage.p1812`` and
``coverage.p2108`` are public modules
and stay, without a warning. The other old module paths (``coverage.terrain``, ``coverage.villages``,
...) still import, with a :class:`DeprecationWarning` that names the new place; a module that was split
in two (``villages``, ``survey``) answers for the names of both halves.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

#: Public modules: the old dotted name is the same module object, no warning.
PUBLIC = {
    "coverage.itm": "coverage.propagation.itm",
    "coverage.p1812": "coverage.propagation.p1812",
    "coverage.p2108": "coverage.propagation.p2108",
    "coverage.plot": "coverage.render.plot",
    "coverage.kmz": "coverage.render.kmz",
    "coverage.interactive": "coverage.render.interactive",
}

#: Deprecated module paths -> the modules that now hold their names (searched in order).
DEPRECATED = {
    "coverage.terrain": ("coverage.io.terrain",),
    "coverage.sites": ("coverage.io.sites", "coverage.propagation.antenna"),
    "coverage.villages": ("coverage.io.villages", "coverage.analysis.assess", "coverage.analysis.run"),
    "coverage.survey": ("coverage.io.survey", "coverage.analysis.survey"),
    "coverage.indicator": ("coverage.analysis.indicator",),
    "coverage.export": ("coverage.render.export",),
    "coverage.predict": ("coverage.engine.predict", "coverage.engine.prepare"),
    "coverage.tiles": ("coverage.engine.tiles",),
    "coverage.result": ("coverage.engine.result",),
    "coverage.sweep": ("coverage.engine.sweep",),
    "coverage._sweep_kernels": ("coverage.engine._kernels", "coverage.propagation._kernels.antenna"),
    "coverage.cli_maps": ("coverage.cli.maps",),
    "coverage.cli_villages": ("coverage.cli.villages",),
    "coverage.propagation._itm_kernels": ("coverage.propagation._kernels.itm",),
    "coverage.propagation._itm_sweep": ("coverage.propagation._kernels.itm_sweep",),
    "coverage.propagation._p526_kernels": ("coverage.propagation._kernels.p526",),
    "coverage.propagation._empirical_kernels": ("coverage.propagation._kernels.empirical",),
}


class _Redirect(types.ModuleType):
    """A stand-in for an old module path: attribute lookups go to the modules that hold them now.

    It sits in ``sys.modules`` from ``import coverage`` on, so importing the old path never rebinds the
    package's attribute of that name (``coverage.predict`` stays the function); the warning comes with
    the first name taken from it.
    """

    def __init__(self, name: str, targets: tuple[str, ...]):
        super().__init__(name, f"Deprecated alias of {', '.join(targets)}.")
        self.__targets = targets
        self.__warned = False

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if not self.__warned:
            self.__warned = True
            warnings.warn(f"{self.__name__} is deprecated and will be removed in the next release; import from "
                          f"{' / '.join(self.__targets)} (or the top-level coverage API) instead",
                          DeprecationWarning, stacklevel=2)
        for name in self.__targets:
            mod = importlib.import_module(name)
            if hasattr(mod, attr):
                return getattr(mod, attr)
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")

    def __dir__(self):
        return sorted({n for t in self.__targets for n in dir(importlib.import_module(t))})


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the public old names as the very module objects that now hold them."""

    def __init__(self):
        self._specs: dict = {}

    def find_spec(self, fullname, path=None, target=None):
        if fullname in PUBLIC:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        module = importlib.import_module(PUBLIC[spec.name])
        self._specs[spec.name] = module.__spec__  # the import system overwrites __spec__: restore it below
        return module

    def exec_module(self, module):
        spec = self._specs.pop(module.__spec__.name, None)
        if spec is not None:
            module.__spec__ = spec


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    for name, targets in DEPRECATED.items():
        sys.modules.setdefault(name, _Redirect(name, targets))
