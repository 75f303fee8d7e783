"""Forms of the privacy admin views."""

from __future__ import annotations

from django import forms


class FindUserForm(forms.Form):
    email = forms.EmailField(label="Email address of the user to erase", max_length=254)
