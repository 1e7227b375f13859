"""Pydantic v2 models of every Discogs API object, generated from spec/discogs.yaml."""

from ._models import *  # noqa: F403
