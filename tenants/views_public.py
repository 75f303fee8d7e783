"""Views of the platform site (public schema)."""

from django.shortcuts import render


def platform_home(request):
    return render(request, "tenants/platform_home.html")
