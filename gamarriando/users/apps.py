"""App config for users and auth."""

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "gamarriando.users"
    label = "users"
    verbose_name = "Users"
