"""The extension point of erasure, for apps that keep personal data of their own.

``erasing_user`` is sent by ``services.erase_user`` inside its transaction, after the audit log
has been redacted and before the user row is anonymised, so ``user.email`` and the names are
still the real ones (to find rows that hold a copy of them). A receiver deletes or anonymises
its app's personal data about ``user`` in the current tenant schema. Raising aborts the whole
erasure (it is one transaction), so nothing is half-erased.

    @receiver(erasing_user, dispatch_uid="myapp.erase")
    def erase_my_rows(sender, user, **kwargs):
        MyRow.objects.filter(user=user).delete()
"""

from django.dispatch import Signal

erasing_user = Signal()  # sender: the user model; kwargs: user

# Sent by ``selectors.personal_data``: each receiver returns ``{section name: JSON-ready data}``
# with what its app keeps about ``user``; every section becomes one file of the export.
collecting_personal_data = Signal()  # sender: the user model; kwargs: user
