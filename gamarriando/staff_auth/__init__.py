"""Staff sign-in to the admin: a lockout after failed attempts and a TOTP code for money staff."""
