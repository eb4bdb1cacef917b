"""The admin site's face: its title, and an index that leads to the payments dashboard.

Every app registers its own models in its own admin.py; the back office only adds screens.
"""

from django.contrib import admin

admin.site.site_header = "Gamarriando Payments — back office"
admin.site.site_url = None  # the service has no public site: no "View site" link to a 404
admin.site.site_title = "Gamarriando back office"
admin.site.index_template = "admin/backoffice/index.html"
