"""The custom user: email is the login."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from gamarriando.users.emails import sign_in_key


class UserManager(BaseUserManager):
    """Create users and superusers by email."""

    use_in_migrations = True

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, email):
        user = self.get(email__iexact=email)
        # iexact is PostgreSQL's UPPER(), which also folds look-alikes ("ſ" to "S", "ı" to
        # "I") that Python's lower() keeps apart; the sign-in throttle and the admin lockout
        # count under lower(), so such a spelling would sign in past both. Only a spelling
        # with the stored email's key is the user.
        if sign_in_key(user.email) != sign_in_key(email):
            raise self.model.DoesNotExist(f"No user signs in as {email!r}.")
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or a staff member, identified by email."""

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self):
        return self.email
