"""Propagation models behind one registry, selectable by name.

``get_model("p526")`` returns the model object; ``available_models()`` lists them with their
references and validity ranges. Each model lives in its own module; numba kernels are in the private
``_*_kernels`` modules.
"""

from __future__ import annotations

from ..errors import InputError
from .base import DistanceModel, ProfileModel, PropagationModel, Validity
from .fspl import FSPL, free_space_loss_db
from .hata import COST231, HATA, cost231_loss_db, hata_loss_db
from .p526 import P526_MODEL, diffraction_loss_db, knife_edge_loss_db
from .p1812 import P1812_MODEL

__all__ = [
    "PropagationModel", "DistanceModel", "ProfileModel", "Validity",
    "register_model", "get_model", "available_models",
    "free_space_loss_db", "hata_loss_db", "cost231_loss_db", "diffraction_loss_db", "knife_edge_loss_db",
]

_REGISTRY: dict[str, PropagationModel] = {}


def register_model(model: PropagationModel) -> PropagationModel:
    """Add a model to the registry under ``model.name`` (replacing any model of that name)."""
    if not isinstance(model, (DistanceModel, ProfileModel)):
        raise InputError("a model must be a DistanceModel or a ProfileModel")
    _REGISTRY[model.name] = model
    return model


def get_model(name: str | PropagationModel) -> PropagationModel:
    """The model registered as ``name`` (a model object passes through)."""
    if isinstance(name, PropagationModel):
        return name
    _load_optional()
    try:
        return _REGISTRY[str(name).lower()]
    except KeyError:
        raise InputError(f"unknown model {name!r}; available: {sorted(_REGISTRY)}") from None


def available_models() -> dict[str, str]:
    """Model name -> one line with its title, reference and validity."""
    _load_optional()
    return {n: f"{m.title} — {m.reference}; valid {m.validity.describe()}" for n, m in sorted(_REGISTRY.items())}


def _load_optional():
    # ITM is a larger module, imported on first use
    if "itm" not in _REGISTRY:
        from .itm import ITM_MODEL

        register_model(ITM_MODEL)


for _m in (FSPL, HATA, COST231, P526_MODEL, P1812_MODEL):
    register_model(_m)
