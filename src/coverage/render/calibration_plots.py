"""Plots of a calibration or validation: predicted against measured path loss, and error against distance.

Plain arrays in (this layer does not know the analysis objects); matplotlib figures out, saved
atomically when a path is given.
"""

from __future__ import annotations

import numpy as np

from .._atomic import atomic_path

__all__ = ["plot_predicted_vs_measured", "plot_error_vs_distance", "plot_validation"]


def _finite(*arrays):
    a = [np.asarray(x, float) for x in arrays]
    ok = np.logical_and.reduce([np.isfinite(x) for x in a])
    return [x[ok] for x in a]


def plot_predicted_vs_measured(measured_db, predicted_db, *, ax=None, label="model", before_db=None):
    """Scatter of predicted against measured path loss (dB) with the 1:1 line."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    if before_db is not None:
        mb, pb = _finite(measured_db, before_db)
        ax.scatter(mb, pb, s=3, alpha=0.25, color="0.6", label="before", rasterized=True)
    m, p = _finite(measured_db, predicted_db)
    ax.scatter(m, p, s=3, alpha=0.35, color="C0", label=label, rasterized=True)
    if m.size:
        lo, hi = float(min(m.min(), p.min())), float(max(m.max(), p.max()))
        ax.plot([lo, hi], [lo, hi], color="k", lw=1, label="1:1")
        e = p - m
        ax.text(0.03, 0.97, f"n={e.size}\nME={e.mean():+.1f} dB\nσ={e.std():.1f} dB\nRMSE={np.sqrt(np.mean(e * e)):.1f} dB",
                transform=ax.transAxes, va="top", fontsize=8, bbox=dict(facecolor="white", alpha=0.8, lw=0))
    ax.set_xlabel("measured path loss (dB)")
    ax.set_ylabel("predicted path loss (dB)")
    ax.legend(loc="lower right", fontsize=8, markerscale=3)
    return ax


def plot_error_vs_distance(distance_m, measured_db, predicted_db, *, ax=None, bins: int = 12):
    """Error (predicted - measured, dB) against distance (log axis), with the mean and ±σ per distance bin."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    d, m, p = _finite(distance_m, measured_db, predicted_db)
    d = np.maximum(d, 1.0)
    e = p - m
    ax.scatter(d, e, s=3, alpha=0.3, color="C0", rasterized=True)
    ax.axhline(0.0, color="k", lw=1)
    if d.size > 1:
        edges = np.geomspace(d.min(), d.max() * 1.0001, bins + 1)
        idx = np.digitize(d, edges) - 1
        mid, mu, sd = [], [], []
        for k in range(bins):
            sel = idx == k
            if sel.sum() >= 5:
                mid.append(np.sqrt(edges[k] * edges[k + 1]))
                mu.append(e[sel].mean())
                sd.append(e[sel].std())
        mid, mu, sd = map(np.asarray, (mid, mu, sd))
        ax.errorbar(mid, mu, yerr=sd, color="C3", marker="o", ms=4, capsize=3, label="bin mean ± σ")
        ax.legend(fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("distance from site (m)")
    ax.set_ylabel("error, predicted − measured (dB)")
    return ax


def plot_validation(distance_m, measured_db, predicted_db, *, before_db=None, title: str | None = None, path=None):
    """Two panels (predicted vs measured, error vs distance); written atomically to ``path`` if given."""
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.6))
    plot_predicted_vs_measured(measured_db, predicted_db, ax=a, before_db=before_db)
    plot_error_vs_distance(distance_m, measured_db, predicted_db, ax=b)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110)
    return fig
