"""The package version, in one place (read by the API, the CLI and the tiled engine's cache key)."""

__version__ = "0.1.0"
