"""The marketplace in a portal's admin, mounted at ``/cms/marketplace/`` by the hook."""

from django.urls import path

from marketplace import admin_views as views

app_name = "marketplace_admin"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("installed/", views.installed, name="installed"),
    path("mine/", views.mine, name="mine"),
    path("mine/new/", views.new_listing, name="new_listing"),
    path("mine/payouts/setup/", views.payouts_setup, name="payouts_setup"),
    path("mine/payouts/return/", views.payouts_return, name="payouts_return"),
    path("mine/payouts/pay/", views.payouts_pay, name="payouts_pay"),
    path("mine/<int:listing_id>/version/", views.new_version, name="new_version"),
    path("reviews/<int:review_id>/reply/", views.reply, name="reply"),
    path("purchases/return/", views.purchase_return, name="purchase_return"),
    path("listing/<int:listing_id>/", views.listing_detail, name="listing"),
    path("listing/<int:listing_id>/install/", views.install, name="install"),
    path("listing/<int:listing_id>/buy/", views.buy, name="buy"),
    path("listing/<int:listing_id>/update/", views.update, name="update"),
    path("listing/<int:listing_id>/review/", views.review, name="review"),
]
