"""The embedded default: SQLite, inline tasks, in-memory cache, simulated gateway."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
