"""The package version: the only place it is written. pyproject.toml reads it at build time
(setuptools' dynamic `attr`, parsed without importing fastact), and fastact.__version__ imports
it, so an in-place build_ext tree and an installed wheel report the same version."""

__version__ = "0.1.0"
