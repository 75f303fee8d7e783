"""Per-tenant single sign-on: secrets encrypted at rest, each portal's own providers on its own
sign-in page, the redirects to Google, an OIDC issuer and a SAML IdP, and the admin pages.

No test reaches the network: every socket to a non-loopback address and every DNS lookup is
refused, and OIDC discovery is answered at allauth's requests-session boundary.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import socket
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from tenants.audit.models import AuditEvent
from tenants.sso import crypto, services
from tenants.sso.adapter import SocialAccountAdapter
from tenants.sso.models import IdentityProvider

from .conftest import PASSWORD, put_on_plan

pytestmark = pytest.mark.django_db

GOOGLE_SECRET = "GOCSPX-northfield-Zq7x9Vv2Lp4Rt8"
OIDC_SECRET = "oidc-secret-7f3a9c1e5b"
ISSUER = "https://idp.northfield.test/realms/exams"
AUTHORIZE = f"{ISSUER}/protocol/openid-connect/auth"
SAML_ENTITY_ID = "https://idp.northfield.test/saml/metadata"
SAML_SSO_URL = "https://idp.northfield.test/saml/sso"


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def make_portal(make_portal):
    """Single sign-on is a plan feature (Pro and up): the portals here are on Pro; what a
    portal without it sees and may do is in tests/test_entitlements.py."""

    def on_pro(*args, **kwargs):
        portal = make_portal(*args, **kwargs)
        put_on_plan(portal, "pro")
        return portal

    return on_pro


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse DNS lookups and connections to anything but this machine."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def is_local(host) -> bool:
        return host in (None, "localhost", "127.0.0.1", "::1") or str(host).startswith("/")

    def getaddrinfo(host, *args, **kwargs):
        if not is_local(host):
            raise AssertionError(f"a test tried to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if not is_local(host):
            raise AssertionError(f"a test tried to connect to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


class FakeResponse:
    def __init__(self, payload: dict) -> None:
        self.payload = payload

    def raise_for_status(self) -> None:
        return None

    def json(self) -> dict:
        return self.payload


class FakeSession:
    """What allauth's ``get_adapter().get_requests_session()`` returns, answering discovery."""

    def __init__(self, documents: dict[str, dict], requested: list[str]) -> None:
        self.documents = documents
        self.requested = requested

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def get(self, url: str, **kwargs) -> FakeResponse:
        self.requested.append(url)
        if url not in self.documents:
            raise AssertionError(f"unexpected request to {url}")
        return FakeResponse(self.documents[url])


@pytest.fixture
def oidc_discovery(monkeypatch) -> list[str]:
    """A mocked issuer: the URLs allauth fetched through its requests session."""
    requested: list[str] = []
    documents = {
        f"{ISSUER}/.well-known/openid-configuration": {
            "issuer": ISSUER,
            "authorization_endpoint": AUTHORIZE,
            "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
            "userinfo_endpoint": f"{ISSUER}/protocol/openid-connect/userinfo",
            "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
        }
    }
    monkeypatch.setattr(
        SocialAccountAdapter,
        "get_requests_session",
        lambda self: FakeSession(documents, requested),
    )
    return requested


@pytest.fixture(scope="session")
def idp_certificate() -> str:
    """A throwaway self-signed certificate (PEM), as a SAML IdP's signing certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.northfield.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def add_provider(portal, **fields) -> IdentityProvider:
    with portal.activate():
        provider = services.add_identity_provider(**fields)
    connection.set_schema_to_public()
    return provider


def add_google(portal, **overrides) -> IdentityProvider:
    fields = {
        "kind": "google",
        "slug": "northfield-google",
        "name": "Northfield Google",
        "client_id": "northfield.apps.googleusercontent.com",
        "secret": GOOGLE_SECRET,
        **overrides,
    }
    return add_provider(portal, **fields)


def add_oidc(portal) -> IdentityProvider:
    return add_provider(
        portal,
        kind="oidc",
        slug="northfield-sso",
        name="Northfield SSO",
        client_id="viva-exams",
        secret=OIDC_SECRET,
        server_url=ISSUER,
    )


def add_saml(portal, certificate: str) -> IdentityProvider:
    return add_provider(
        portal,
        kind="saml",
        slug="northfield-saml",
        name="Northfield SAML",
        idp_entity_id=SAML_ENTITY_ID,
        idp_sso_url=SAML_SSO_URL,
        idp_x509_cert=certificate,
    )


def raw_row(portal, pk: int) -> tuple[str, str]:
    """The stored secret column and the whole row as text, read with SQL."""
    with portal.activate(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.secret_encrypted, row_to_json(p)::text FROM sso_identityprovider p "
            "WHERE p.id = %s",
            [pk],
        )
        row = cursor.fetchone()
    connection.set_schema_to_public()
    return row


def provider_rows(portal) -> list[dict]:
    with portal.activate():
        rows = list(IdentityProvider.objects.order_by("id").values())
    connection.set_schema_to_public()
    return rows


def sso_events(portal) -> list[tuple]:
    with portal.activate():
        events = list(
            AuditEvent.objects.filter(action="settings.changed")
            .order_by("id")
            .values_list("actor_label", "object_type", "object_id", "object_label", "detail")
        )
    connection.set_schema_to_public()
    return events


def all_audit_text(portal) -> str:
    with portal.activate():
        text = json.dumps(list(AuditEvent.objects.values()), default=str)
    connection.set_schema_to_public()
    return text


def sign_in_buttons(page: str) -> list[tuple[str, str, str]]:
    """The provider buttons of a sign-in page: label, link, allauth provider type."""
    return re.findall(
        r'<a title="Sign in with ([^"]+)" href="([^"]+)" data-provider="([^"]+)">', page
    )


def query(response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response["Location"]).query)


# --- Encryption at rest ----------------------------------------------------------------------


def test_the_secret_is_encrypted_at_rest_and_decrypts(two_portals):
    a, _ = two_portals
    provider = add_google(a)
    stored, whole_row = raw_row(a, provider.pk)
    assert stored != GOOGLE_SECRET
    assert GOOGLE_SECRET not in stored
    assert GOOGLE_SECRET not in whole_row
    assert GOOGLE_SECRET.encode() not in base64.urlsafe_b64decode(stored)  # not just encoded
    assert crypto.decrypt(stored) == GOOGLE_SECRET
    with a.activate():
        assert IdentityProvider.objects.get().get_secret() == GOOGLE_SECRET


def test_keys_rotate_old_tokens_still_decrypt_and_can_be_reencrypted(two_portals, settings):
    a, _ = two_portals
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.VIVA_FIELD_ENCRYPTION_KEYS = [old_key]
    old_token = crypto.encrypt("rotate me")
    provider = add_google(a)
    stored_with_old_key, _ = raw_row(a, provider.pk)

    settings.VIVA_FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert crypto.decrypt(old_token) == "rotate me"
    new_token = crypto.encrypt("rotate me")
    with a.activate():
        assert IdentityProvider.objects.get().get_secret() == GOOGLE_SECRET
        assert services.reencrypt_provider_secrets() == 1

    settings.VIVA_FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is retired
    assert crypto.decrypt(new_token) == "rotate me"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(old_token)
    stored_with_new_key, _ = raw_row(a, provider.pk)
    assert stored_with_new_key != stored_with_old_key
    assert crypto.decrypt(stored_with_new_key) == GOOGLE_SECRET


def test_without_configured_keys_the_key_is_derived_from_the_secret_key(settings):
    settings.VIVA_FIELD_ENCRYPTION_KEYS = []
    settings.SECRET_KEY = "first-secret-key"
    token = crypto.encrypt("derived")
    assert crypto.decrypt(token) == "derived"
    assert Fernet(crypto.derive_key("first-secret-key")).decrypt(token.encode()) == b"derived"
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


# --- Validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"kind": "google", "slug": "g", "name": "G"},
            {
                "client_id": ["Google needs the client ID issued for this portal."],
                "secret": ["Google needs the client secret issued for this portal."],
            },
        ),
        (
            {"kind": "oidc", "slug": "o", "name": "O", "client_id": "c", "secret": "s"},
            {"server_url": ["OpenID Connect needs the issuer URL of the identity provider."]},
        ),
        (
            {
                "kind": "oidc",
                "slug": "o",
                "name": "O",
                "client_id": "c",
                "secret": "s",
                "server_url": "http://idp.example.org",
            },
            {"server_url": ["Use an https:// address."]},
        ),
        (
            {"kind": "saml", "slug": "s", "name": "S"},
            {
                "idp_entity_id": ["SAML needs the identity provider's entity ID."],
                "idp_sso_url": ["SAML needs the identity provider's single sign-on URL."],
                "idp_x509_cert": ["SAML needs the identity provider's signing certificate."],
            },
        ),
        (
            {
                "kind": "saml",
                "slug": "s",
                "name": "S",
                "idp_entity_id": "e",
                "idp_sso_url": "https://idp.example.org/sso",
                "idp_x509_cert": "not a cert",
            },
            {
                "idp_x509_cert": [
                    "This is not an X.509 certificate: paste the PEM text, "
                    "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
                ]
            },
        ),
        (
            {"kind": "github", "slug": "saml", "name": "G", "client_id": "c", "secret": "s"},
            {"slug": ["“saml” is reserved by the sign-in system; choose another short name."]},
        ),
    ],
)
def test_each_kind_is_validated_with_a_clear_message(make_portal, fields, errors):
    portal = make_portal("gamma")
    with portal.activate():
        with pytest.raises(ValidationError) as caught:
            services.add_identity_provider(**fields)
        assert caught.value.message_dict == errors
        assert IdentityProvider.objects.count() == 0


def test_a_local_http_issuer_is_accepted_in_development_only(make_portal, settings):
    portal = make_portal("gamma")
    fields = {
        "kind": "oidc",
        "slug": "local-keycloak",
        "name": "Local Keycloak",
        "client_id": "viva",
        "secret": "s",
        "server_url": "http://localhost:8080/realms/viva",
    }
    with portal.activate():
        with pytest.raises(ValidationError) as caught:
            services.add_identity_provider(**fields)
        assert caught.value.message_dict == {"server_url": ["Use an https:// address."]}
        settings.DEBUG = True
        provider = services.add_identity_provider(**fields)
        assert provider.server_url == "http://localhost:8080/realms/viva"


def test_a_portal_has_one_google_provider_at_most(make_portal):
    portal = make_portal("gamma")
    add_google(portal)
    with portal.activate():
        with pytest.raises(ValidationError) as caught:
            services.add_identity_provider(
                kind="google", slug="second", name="Second", client_id="c", secret="s"
            )
        assert caught.value.messages == ["This portal already has a provider of this kind."]
        assert IdentityProvider.objects.count() == 1


# --- Sign-in pages and redirects -------------------------------------------------------------


def test_each_sign_in_page_lists_only_its_own_portals_providers(two_portals, idp_certificate):
    a, b = two_portals
    add_google(a)
    add_oidc(a)
    add_saml(a, idp_certificate)
    add_google(a, kind="github", slug="old-github", name="Old GitHub", enabled=False)
    add_provider(
        b, kind="github", slug="beta-github", name="Beta GitHub", client_id="b", secret="b"
    )

    page_a = a.client.get("/accounts/login/").content.decode()
    assert sign_in_buttons(page_a) == [
        ("Northfield Google", "/accounts/google/login/?process=login", "google"),
        ("Northfield SAML", "/accounts/saml/northfield-saml/login/?process=login", "saml"),
        ("Northfield SSO", "/accounts/oidc/northfield-sso/login/?process=login", "openid_connect"),
    ]
    assert "Sign in with Northfield Google" in page_a
    assert "Old GitHub" not in page_a  # disabled
    assert "Beta GitHub" not in page_a

    page_b = b.client.get("/accounts/login/").content.decode()
    assert sign_in_buttons(page_b) == [
        ("Beta GitHub", "/accounts/github/login/?process=login", "github")
    ]
    assert "Northfield" not in page_b
    assert "northfield" not in page_b


def test_the_platform_sign_in_page_has_no_tenant_providers(two_portals):
    a, _ = two_portals
    add_google(a)
    response = Client(HTTP_HOST="localhost").get("/accounts/login/")
    assert response.status_code == 200
    assert sign_in_buttons(response.content.decode()) == []
    assert "Northfield" not in response.content.decode()


def test_google_sign_in_redirects_to_google_with_this_portals_client_id(two_portals):
    a, b = two_portals
    add_google(a)
    confirm = a.client.get("/accounts/google/login/")  # GET only asks to confirm
    assert confirm.status_code == 200
    assert "Northfield Google" in confirm.content.decode()

    response = a.client.post("/accounts/google/login/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    params = query(response)
    assert params["client_id"] == ["northfield.apps.googleusercontent.com"]
    assert params["redirect_uri"] == [f"http://{a.domain}/accounts/google/login/callback/"]
    assert params["response_type"] == ["code"]
    assert GOOGLE_SECRET not in response["Location"]

    refused = b.client.post("/accounts/google/login/")
    assert refused.status_code == 404
    assert "Location" not in refused


def test_a_disabled_provider_cannot_start_a_sign_in(two_portals):
    a, _ = two_portals
    provider = add_google(a)
    with a.activate():
        services.set_identity_provider_enabled(provider=provider, enabled=False)
    connection.set_schema_to_public()
    assert a.client.post("/accounts/google/login/").status_code == 404
    assert sign_in_buttons(a.client.get("/accounts/login/").content.decode()) == []


def test_oidc_sign_in_uses_discovery_and_this_portals_client_id(two_portals, oidc_discovery):
    a, b = two_portals
    add_oidc(a)

    response = a.client.post("/accounts/oidc/northfield-sso/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{AUTHORIZE}?")
    params = query(response)
    assert params["client_id"] == ["viva-exams"]
    assert params["redirect_uri"] == [
        f"http://{a.domain}/accounts/oidc/northfield-sso/login/callback/"
    ]
    assert set(params["scope"][0].split()) == {"openid", "email", "profile"}  # a set in allauth
    assert params["code_challenge_method"] == ["S256"]
    assert oidc_discovery == [f"{ISSUER}/.well-known/openid-configuration"]

    assert b.client.post("/accounts/oidc/northfield-sso/login/").status_code == 404
    assert oidc_discovery == [f"{ISSUER}/.well-known/openid-configuration"]  # B fetched nothing


def test_linkedin_is_openid_connect_at_linkedins_issuer(two_portals, monkeypatch):
    a, _ = two_portals
    add_provider(
        a, kind="linkedin", slug="linkedin-login", name="LinkedIn", client_id="li", secret="s"
    )
    requested: list[str] = []
    documents = {
        "https://www.linkedin.com/oauth/.well-known/openid-configuration": {
            "issuer": "https://www.linkedin.com/oauth",
            "authorization_endpoint": "https://www.linkedin.com/oauth/v2/authorization",
            "token_endpoint": "https://www.linkedin.com/oauth/v2/accessToken",
        }
    }
    monkeypatch.setattr(
        SocialAccountAdapter, "get_requests_session", lambda self: FakeSession(documents, requested)
    )
    response = a.client.post("/accounts/oidc/linkedin-login/login/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://www.linkedin.com/oauth/v2/authorization?")
    assert query(response)["client_id"] == ["li"]
    assert requested == ["https://www.linkedin.com/oauth/.well-known/openid-configuration"]


def test_saml_sign_in_redirects_to_this_portals_idp(two_portals, idp_certificate):
    a, b = two_portals
    add_saml(a, idp_certificate)

    response = a.client.post("/accounts/saml/northfield-saml/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{SAML_SSO_URL}?")
    params = query(response)
    request_xml = zlib.decompress(base64.b64decode(params["SAMLRequest"][0]), -15).decode()
    assert f'Destination="{SAML_SSO_URL}"' in request_xml
    acs = f"http://{a.domain}/accounts/saml/northfield-saml/acs/"
    assert f'AssertionConsumerServiceURL="{acs}"' in request_xml
    sp_entity_id = f"http://{a.domain}/accounts/saml/northfield-saml/metadata/"
    assert f">{sp_entity_id}</saml:Issuer>" in request_xml

    assert b.client.post("/accounts/saml/northfield-saml/login/").status_code == 404


def test_saml_metadata_names_this_portals_host_and_only_here(two_portals, idp_certificate):
    a, b = two_portals
    add_saml(a, idp_certificate)

    response = a.client.get("/accounts/saml/northfield-saml/metadata/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    metadata = response.content.decode()
    assert f'entityID="http://{a.domain}/accounts/saml/northfield-saml/metadata/"' in metadata
    assert f'Location="http://{a.domain}/accounts/saml/northfield-saml/acs/"' in metadata
    assert b.domain not in metadata

    assert b.client.get("/accounts/saml/northfield-saml/metadata/").status_code == 404


# --- The admin pages -------------------------------------------------------------------------


def test_the_admin_adds_a_provider_with_the_secret_encrypted_and_audited(two_portals):
    a, _ = two_portals
    a.login_admin()
    form_page = a.client.get("/cms/sso/add/")
    assert form_page.status_code == 200
    assert re.findall(r'<input type="password" name="secret"[^>]*>', form_page.content.decode())
    response = a.client.post(
        "/cms/sso/add/",
        {
            "kind": "google",
            "name": "Northfield Google",
            "slug": "northfield-google",
            "enabled": "on",
            "client_id": "northfield.apps.googleusercontent.com",
            "secret": GOOGLE_SECRET,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/cms/sso/"

    [row] = provider_rows(a)
    assert (row["kind"], row["slug"], row["name"], row["enabled"], row["client_id"]) == (
        "google",
        "northfield-google",
        "Northfield Google",
        True,
        "northfield.apps.googleusercontent.com",
    )
    stored, whole_row = raw_row(a, row["id"])
    assert GOOGLE_SECRET not in whole_row
    assert crypto.decrypt(stored) == GOOGLE_SECRET
    assert sso_events(a) == [
        (
            a.admin_email,
            "sso.IdentityProvider",
            str(row["id"]),
            "Northfield Google (Google)",
            {"sso": "added", "kind": "google"},
        )
    ]
    assert GOOGLE_SECRET not in all_audit_text(a)

    listing = a.client.get("/cms/sso/").content.decode()
    assert "Northfield Google" in listing
    assert f"http://{a.domain}/accounts/google/login/callback/" in listing
    edit_page = a.client.get(f"/cms/sso/{row['id']}/").content.decode()
    assert "A secret is stored." in edit_page
    [secret_input] = re.findall(r'<input type="password" name="secret"[^>]*>', edit_page)
    assert "value=" not in secret_input
    assert GOOGLE_SECRET not in listing + edit_page
    assert stored not in listing + edit_page


def test_the_admin_page_explains_a_refusal_and_adds_nothing(two_portals):
    a, _ = two_portals
    a.login_admin()
    form_page = a.client.get("/cms/sso/add/")
    assert form_page.status_code == 200
    assert re.findall(r'<input type="password" name="secret"[^>]*>', form_page.content.decode())
    response = a.client.post(
        "/cms/sso/add/", {"kind": "saml", "name": "Northfield SAML", "slug": "northfield-saml"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "SAML needs the identity provider&#x27;s signing certificate." in page
    assert "SAML needs the identity provider&#x27;s single sign-on URL." in page
    assert provider_rows(a) == []
    assert sso_events(a) == []


def test_editing_with_a_blank_secret_keeps_it(two_portals):
    a, _ = two_portals
    provider = add_google(a)
    stored_before, _ = raw_row(a, provider.pk)
    a.login_admin()
    form = {
        "name": "Northfield Google Workspace",
        "enabled": "on",
        "client_id": "northfield.apps.googleusercontent.com",
        "secret": "",
    }
    assert a.client.post(f"/cms/sso/{provider.pk}/", form).status_code == 302
    [row] = provider_rows(a)
    assert row["name"] == "Northfield Google Workspace"
    assert row["secret_encrypted"] == stored_before

    form["secret"] = "a-brand-new-secret"
    assert a.client.post(f"/cms/sso/{provider.pk}/", form).status_code == 302
    [row] = provider_rows(a)
    assert crypto.decrypt(row["secret_encrypted"]) == "a-brand-new-secret"
    assert [detail for *_, detail in sso_events(a)] == [
        {"sso": "added", "kind": "google"},
        {"sso": "changed", "kind": "google", "fields": ["name"]},
        {"sso": "changed", "kind": "google", "fields": ["secret"]},
    ]
    assert "a-brand-new-secret" not in all_audit_text(a)


def test_the_admin_disables_and_deletes_a_provider(two_portals):
    a, _ = two_portals
    provider = add_google(a)
    a.login_admin()
    assert a.client.post(f"/cms/sso/{provider.pk}/disable/").status_code == 302
    assert [row["enabled"] for row in provider_rows(a)] == [False]
    assert a.client.get(f"/cms/sso/{provider.pk}/delete/").status_code == 200
    assert a.client.post(f"/cms/sso/{provider.pk}/delete/").status_code == 302
    assert provider_rows(a) == []
    assert [detail for *_, detail in sso_events(a)] == [
        {"sso": "added", "kind": "google"},
        {"sso": "changed", "kind": "google", "fields": ["enabled"]},
        {"sso": "removed", "kind": "google"},
    ]


def test_another_portals_admin_cannot_open_change_or_delete_a_provider(two_portals):
    a, b = two_portals
    provider = add_google(a)
    rows_before, events_before = provider_rows(a), sso_events(a)
    b.login_admin()
    assert "Northfield" not in b.client.get("/cms/sso/").content.decode()
    assert b.client.get(f"/cms/sso/{provider.pk}/").status_code == 404
    assert (
        b.client.post(
            f"/cms/sso/{provider.pk}/",
            {"name": "Hijacked", "enabled": "on", "client_id": "evil", "secret": "evil"},
        ).status_code
        == 404
    )
    assert b.client.post(f"/cms/sso/{provider.pk}/disable/").status_code == 404
    assert b.client.get(f"/cms/sso/{provider.pk}/delete/").status_code == 404
    assert b.client.post(f"/cms/sso/{provider.pk}/delete/").status_code == 404
    assert provider_rows(a) == rows_before
    assert sso_events(a) == events_before
    assert provider_rows(b) == []
    assert sso_events(b) == []


def test_only_the_tenant_admin_manages_providers(two_portals):
    a, _ = two_portals
    provider = add_google(a)
    rows_before = provider_rows(a)
    with a.activate():
        editor = get_user_model().objects.create_user(
            email="editor@alpha.test", password=PASSWORD, is_staff=True
        )
        editor.user_permissions.add(
            Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin")
        )
    client = Client(HTTP_HOST=a.domain)
    with a.activate():
        client.force_login(editor)
    connection.set_schema_to_public()

    assert client.get("/cms/sso/").status_code in (302, 403)
    assert client.get(f"/cms/sso/{provider.pk}/").status_code in (302, 403)
    refused_add = client.post(
        "/cms/sso/add/",
        {"kind": "github", "name": "Editor GitHub", "slug": "gh", "client_id": "c", "secret": "s"},
    )
    assert refused_add.status_code in (302, 403)
    assert client.post(f"/cms/sso/{provider.pk}/disable/").status_code in (302, 403)
    assert client.post(f"/cms/sso/{provider.pk}/delete/").status_code in (302, 403)
    assert b"/cms/sso/" not in client.get("/cms/").content
    assert provider_rows(a) == rows_before
    assert sso_events(a) == [
        (
            "",
            "sso.IdentityProvider",
            str(provider.pk),
            "Northfield Google (Google)",
            {"sso": "added", "kind": "google"},
        )
    ]

    a.login_admin()
    assert b"/cms/sso/" in a.client.get("/cms/").content


# --- Joining through SSO ---------------------------------------------------------------------


def _first_sso_sign_in(portal, email: str):
    """What allauth does when an identity provider vouches for a person new to the portal."""
    from allauth.socialaccount.models import SocialAccount, SocialLogin
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get("/accounts/oidc/northfield/login/callback/")
    request.tenant = portal.tenant
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    login = SocialLogin(
        user=get_user_model()(email=email),
        account=SocialAccount(provider="openid_connect", uid=f"sub-{email}"),
    )
    return SocialAccountAdapter(request).save_user(request, login), request


def test_a_person_joining_through_sso_is_a_candidate_with_a_seat_or_refused_when_full(
    make_portal,
):
    from allauth.core.exceptions import ImmediateHttpResponse
    from allauth.socialaccount.models import SocialAccount

    from billing.models import SeatAssignment, Subscription
    from tenants.access.permissions import has_role

    portal = make_portal("alpha")
    Subscription.objects.filter(tenant=portal.tenant).update(seats=1)
    with portal.activate():
        user, _ = _first_sso_sign_in(portal, "first@alpha.test")
        assert has_role(user, "candidate")
        with pytest.raises(ImmediateHttpResponse) as refused:
            _first_sso_sign_in(portal, "second@alpha.test")
        assert refused.value.response["Location"] == "/accounts/login/"
        # Nothing of the refused person is kept: no account, no SSO link.
        assert not get_user_model().objects.filter(email="second@alpha.test").exists()
        assert not SocialAccount.objects.filter(uid="sub-second@alpha.test").exists()
    connection.set_schema_to_public()
    seats = SeatAssignment.objects.counted(portal.tenant.pk).values_list("email", "source")
    assert list(seats) == [("first@alpha.test", "signup")]
