"""CMS: the Wagtail page types of a tenant's portal."""
