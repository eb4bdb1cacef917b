"""The production settings, serving the bench URLconf; nothing else differs."""

from gamarriando.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
