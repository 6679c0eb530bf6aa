"""Manifests: YAML documents on disk → typed, validated resource specs (reads local files only)."""
