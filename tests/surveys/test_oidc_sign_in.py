"""Staff sign in through their agency's own OpenID Connect provider, over real HTTP: surveys
served on loopback, a real provider on loopback, and a real HTTP client following the
redirects between them as a browser does."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

from services.surveys.models import AuditLog, StaffUser
from shared.bus import utcnow
from shared.config import ConfigError, settings_from_env
from shared.db import new_session
from shared.staff import COOKIE_NAME
from tests.fakes.oidc_provider import FakeOidcProvider, Person, new_signing_key
from tests.oidc import CLIENTS, LiveSurveys, surveys_with_oidc
from tests.scenario import setup_agencies
from tests.staff import add_staff

OLU = Person(sub="council-0001", email="Olu.Officer@Council.example", name="Olu Officer")


@pytest.fixture(scope="module")
def provider():
    server = FakeOidcProvider().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live(provider, database_urls, redis_server, smtp_server, sms_gateway):
    with surveys_with_oidc(provider, database_urls, redis_server.url, smtp_server,
                           sms_gateway) as served:
        yield served


@pytest.fixture
def staff(apps, pump, provider):
    """The agencies, an officer of the council, an analyst of the police."""
    provider.clear()
    setup_agencies(apps, pump)
    add_staff(apps, email="olu.officer@council.example", agency="council", role="officer",
              name="Olu Officer")
    add_staff(apps, email="pat.analyst@police.example", agency="police", role="analyst",
              name="Pat Analyst")
    yield
    provider.clear()


def button(live: LiveSurveys, browser: requests.Session, agency: str,
           next_url: str | None = None) -> str:
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    page = browser.get(f"{live.url}/sign-in{query}")
    assert page.status_code == 200
    return live.url + live.button_paths(page.text)[agency]


def callback_address(live: LiveSurveys, browser: requests.Session, agency: str,
                     next_url: str | None = None) -> str:
    """Press the agency's button and sign in at the provider; stop where it sends us back."""
    to_provider = browser.get(button(live, browser, agency, next_url), allow_redirects=False)
    assert to_provider.status_code == 302
    back = browser.get(to_provider.headers["Location"], allow_redirects=False)
    assert back.status_code == 302
    return back.headers["Location"]


def signed_in(live: LiveSurveys, browser: requests.Session) -> bool:
    answer = browser.get(f"{live.url}/surveys", allow_redirects=False)
    return answer.status_code == 200


def test_an_officer_signs_in_with_their_agencys_provider_and_reaches_their_surveys(
        apps, live, provider, staff):
    provider.signs_in(OLU)
    browser = requests.Session()
    landed = browser.get(button(live, browser, "council"))
    assert landed.status_code == 200 and landed.url == f"{live.url}/surveys"
    assert "Olu Officer, Riverside Council" in landed.text
    [hop_to_provider, hop_back, hop_in] = landed.history
    authorize = parse_qs(urlsplit(hop_to_provider.headers["Location"]).query)
    assert authorize["code_challenge_method"] == ["S256"] and authorize["nonce"][0]
    assert authorize["client_id"] == [CLIENTS["council"][0]]
    assert authorize["redirect_uri"] == [f"{live.url}/sign-in/oidc/council/callback"]
    cookie = hop_in.headers["Set-Cookie"]
    assert cookie.startswith(COOKIE_NAME) and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The state, PKCE verifier and nonce are in Redis: the browser's cookie never holds them.
    assert authorize["state"][0] not in browser.cookies.get("civicpanel_surveys", "")
    with apps["surveys"].app_context(), new_session() as session:
        [audit] = session.query(AuditLog).filter_by(action="sign_in").all()
        assert (audit.actor, audit.agency, audit.detail) == (
            "olu.officer@council.example", "council", {"how": "oidc"})
        user = session.query(StaffUser).filter_by(email="olu.officer@council.example").one()
        assert user.oidc_subject == "council-0001" and user.last_signed_in_at is not None


def test_signing_in_goes_on_to_the_page_asked_for_and_never_off_site(live, provider, staff):
    provider.signs_in(OLU)
    wanted = f"{live.url}/surveys?status=live"
    browser = requests.Session()
    back = callback_address(live, browser, "council", next_url=wanted)
    finished = browser.get(back, allow_redirects=False)
    assert finished.status_code == 303 and finished.headers["Location"] == wanted

    elsewhere = requests.Session()
    back = callback_address(live, elsewhere, "council", next_url="https://evil.example/x")
    assert elsewhere.get(back, allow_redirects=False).headers["Location"] == \
        f"{live.url}/surveys"


def test_the_sign_in_page_offers_each_configured_provider_and_none_by_default(
        clients, live, staff):
    page = requests.get(f"{live.url}/sign-in").text
    assert "Sign in with Riverside Council staff account" in page
    assert "Sign in with Riverside Police directory" in page
    assert "Email me a sign-in link" in page
    plain = clients["surveys"].get("/sign-in")
    assert plain.status_code == 200 and b"Sign in with" not in plain.data


def refusal(live: LiveSurveys, agency: str, person: Person, provider) -> requests.Response:
    provider.signs_in(person)
    browser = requests.Session()
    answer = browser.get(button(live, browser, agency))
    assert not signed_in(live, browser)
    return answer


def test_a_user_of_another_agency_is_refused_exactly_as_an_unknown_address(
        live, provider, staff):
    police_user = Person(sub="council-0002", email="pat.analyst@police.example")
    nobody = Person(sub="council-0003", email="nobody.here@police.example")
    other_agency = refusal(live, "council", police_user, provider)
    unknown = refusal(live, "council", nobody, provider)
    assert other_agency.status_code == unknown.status_code == 403
    assert "no active console account for pat.analyst@police.example" in other_agency.text
    assert other_agency.text.replace("pat.analyst", "X") == unknown.text.replace("nobody.here",
                                                                                  "X")


def test_a_disabled_user_is_refused_and_so_is_an_unconfirmed_address(
        apps, live, provider, staff):
    with apps["surveys"].app_context(), new_session() as session:
        session.query(StaffUser).filter_by(email="olu.officer@council.example").update(
            {"disabled_at": utcnow()})
        session.commit()
    disabled = refusal(live, "council", OLU, provider)
    assert disabled.status_code == 403 and "no active console account" in disabled.text

    for unconfirmed in (False, "false"):
        answer = refusal(live, "council", Person(sub="council-0001", email=OLU.email,
                                                 email_verified=unconfirmed), provider)
        assert answer.status_code == 403
        assert "has not confirmed your email address" in answer.text


def test_without_email_verified_only_an_address_in_the_agencys_own_domains_is_taken(
        live, provider, staff):
    """As Microsoft Entra ID signs in: no email_verified claim at all."""
    outside = refusal(live, "council", Person(sub="council-0005", email="olu@elsewhere.example",
                                              email_verified=None), provider)
    assert outside.status_code == 403
    assert "has not confirmed your email address" in outside.text
    police = refusal(live, "police", Person(sub="police-0001", email="pat.analyst@police.example",
                                            email_verified=None), provider)
    assert police.status_code == 403  # the police listed no domains of their own

    provider.signs_in(Person(sub="council-0001", email=OLU.email, email_verified=None))
    browser = requests.Session()
    assert browser.get(button(live, browser, "council")).url == f"{live.url}/surveys"
    assert signed_in(live, browser)


def test_an_address_taken_over_by_someone_else_at_the_provider_is_refused(
        live, provider, staff):
    provider.signs_in(OLU)
    first = requests.Session()
    assert first.get(button(live, first, "council")).url == f"{live.url}/surveys"
    someone_else = refusal(live, "council", Person(sub="council-9999", email=OLU.email),
                           provider)
    assert someone_else.status_code == 403


def test_a_tampered_or_foreign_state_signs_nobody_in(live, provider, staff):
    provider.signs_in(OLU)
    browser = requests.Session()
    back = urlsplit(callback_address(live, browser, "council"))
    query = parse_qs(back.query)
    query["state"] = [query["state"][0][:-1] + ("A" if query["state"][0][-1] != "A" else "B")]
    tampered = browser.get(urlunsplit(back._replace(query=urlencode(query, doseq=True))))
    assert tampered.status_code == 400 and "not started in this browser" in tampered.text
    assert not signed_in(live, browser)

    # A sign-in started in an attacker's browser and finished in the victim's: refused, and
    # the attacker's own browser cannot finish it either once its state is spent.
    attacker = requests.Session()
    attackers_callback = callback_address(live, attacker, "council")
    victim = requests.Session()
    assert victim.get(attackers_callback).status_code == 400
    assert not signed_in(live, victim)


def test_the_callback_of_one_agency_cannot_finish_another_agencys_sign_in(
        live, provider, staff):
    provider.signs_in(OLU)
    browser = requests.Session()
    back = callback_address(live, browser, "council")
    moved = back.replace("/sign-in/oidc/council/", "/sign-in/oidc/police/")
    assert browser.get(moved).status_code == 400
    assert not signed_in(live, browser)


def test_a_callback_is_good_once(live, provider, staff):
    provider.signs_in(OLU)
    browser = requests.Session()
    back = callback_address(live, browser, "council")
    assert browser.get(back).status_code == 200
    del browser.cookies[COOKIE_NAME]
    again = browser.get(back)
    assert again.status_code == 400 and not signed_in(live, browser)


@pytest.mark.parametrize("tampering", [
    pytest.param({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, id="expired"),
    pytest.param({"aud": "someone-else"}, id="wrong-audience"),
    # azp naming us does not make up for an audience that does not.
    pytest.param({"aud": "someone-else", "azp": CLIENTS["council"][0]},
                 id="wrong-audience-with-our-azp"),
    pytest.param({"aud": None}, id="no-audience"),
    pytest.param({"iss": "http://127.0.0.1:1"}, id="wrong-issuer"),
    pytest.param({"nonce": "not-the-nonce-we-sent"}, id="wrong-nonce"),
    pytest.param({"nonce": None}, id="no-nonce"),
    pytest.param({"signed_with": "forged"}, id="signed-by-another-key"),
])
def test_an_id_token_failing_a_check_signs_nobody_in(live, provider, staff, tampering):
    if tampering.get("signed_with") == "forged":
        tampering = {"signed_with": new_signing_key()}
    provider.tamper_id_tokens(**tampering)
    answer = refusal(live, "council", OLU, provider)
    assert answer.status_code == 400
    assert "could not verify" in answer.text or "did not accept" in answer.text
    assert provider.token_requests == 1


def test_cancelling_at_the_provider_says_so(live, provider, staff):
    provider.signs_in(None)
    browser = requests.Session()
    answer = browser.get(button(live, browser, "council"))
    assert answer.status_code == 400
    assert "did not finish signing in with Riverside Council staff account" in answer.text
    assert provider.token_requests == 0


def test_a_provider_that_does_not_answer_is_named(live, staff):
    browser = requests.Session()
    answer = browser.get(button(live, browser, "health"))
    assert answer.status_code == 502
    assert "Riverside Health sign-in is not answering" in answer.text


def test_an_agency_without_a_provider_has_no_oidc_sign_in(live, staff):
    assert requests.get(f"{live.url}/sign-in/oidc/college").status_code == 404
    assert requests.get(f"{live.url}/sign-in/oidc/college/callback?code=x&state=y"
                        ).status_code == 404


def test_the_providers_setting_is_read_and_checked():
    assert settings_from_env("surveys", {})["OIDC_PROVIDERS"] == ()
    one = ('[{"agency": "council", "name": "Council account", "issuer": '
           '"https://login.council.example", "client_id": "cp", "client_secret": "s3cret"}]')
    [provider] = settings_from_env("surveys", {"OIDC_PROVIDERS": one})["OIDC_PROVIDERS"]
    assert provider.discovery_url == \
        "https://login.council.example/.well-known/openid-configuration"
    assert "s3cret" not in repr(provider) and provider.email_domains == ()
    [entra] = settings_from_env("surveys", {"OIDC_PROVIDERS": one.replace(
        '"s3cret"', '"s3cret", "email_domains": [" Riverside.GOV.uk "]')})["OIDC_PROVIDERS"]
    assert entra.email_domains == ("riverside.gov.uk",)
    http = one.replace("https://", "http://")
    assert settings_from_env("surveys", {"OIDC_PROVIDERS": http})["OIDC_PROVIDERS"]
    for value, reason in (
            ("{", "not JSON"), ('{"agency": "council"}', "a JSON list"),
            (one.replace('"client_secret": "s3cret"', '"client_secret": " "'), "client_secret"),
            (one.replace(', "client_id": "cp"', ""), "exactly"),
            (one[:-1] + ", " + one[1:], "more than one provider for council"),
            (one.replace("https://login.council.example", "login.council.example"), "issuer"),
            (one.replace('"s3cret"', '"s3cret", "email_domains": "council.example"'),
             "email_domains must be a list of mail domains"),
            (one.replace('"s3cret"', '"s3cret", "email_domains": ["not a domain"]'),
             "email_domains"),
            (one.replace('"s3cret"', '"s3cret", "tenant": "x"'), "exactly")):
        with pytest.raises(ConfigError, match=reason):
            settings_from_env("surveys", {"OIDC_PROVIDERS": value})
    with pytest.raises(ConfigError, match="issuer must be an https address"):
        settings_from_env("surveys", {"OIDC_PROVIDERS": http, "CIVICPANEL_ENV": "production"})
