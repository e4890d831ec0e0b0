"""The admin portal in a real browser: Debian's chromium and chromium-driver, headless, driven by Selenium,
against the real `keygate serve` over TLS (the session-scoped server in conftest.py; the browser is told to
accept its throwaway CA). Each test gets its own organization from the CLI.

Screenshots of each page go to a temporary folder, or to docs/screenshots/ with KEYGATE_SCREENSHOTS=1
(how the README's pictures were made: `KEYGATE_SCREENSHOTS=1 scripts/test -k portal`).
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from zscaler.oneapi_client import LegacyZIAClient

from conftest import CLOUD, ROOT, keygate_binary

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("KEYGATE_SCREENSHOTS") else pathlib.Path(tempfile.mkdtemp(prefix="kg-shots-"))
PASSWORD = "E2e!passw0rd"
os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download anything

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) or not os.path.exists(CHROMEDRIVER),
                                reason="needs Debian's chromium and chromium-driver (scripts/test installs them)")


def browser(width=1280, height=900):
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                     f"--window-size={width},{height}", f"--user-data-dir={tempfile.mkdtemp(prefix='kg-profile-')}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    return driver


@pytest.fixture
def driver():
    d = browser()
    yield d
    d.quit()


def wait(d, condition, timeout=10):
    # A condition may read an element of the page that is being replaced: try again rather than fail (chromedriver
    # reports a replaced node as stale, or as "Node ... does not belong to the document").
    return WebDriverWait(d, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException,
                                                         WebDriverException)).until(condition)


def navigate(d, action):
    """Runs `action` (a click or a submit that loads a new page) and waits until the page it started on is gone, so
    that what the test reads next comes from the new page however long the server takes: the old page may hold the
    very element the test waits for (a notice, an error, a status)."""
    old = d.find_element(By.TAG_NAME, "html")
    action()
    wait(d, lambda _: _is_gone(old))


def shot(d, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(SHOTS / f"{name}.png"))


def _is_gone(element):
    """Whether the page holding `element` was replaced (chromedriver reports that in more than one way)."""
    try:
        element.tag_name
        return False
    except WebDriverException:
        return True


def sign_in(d, base, login, password=PASSWORD):
    d.get(base + "/portal/signin")
    d.find_element(By.ID, "loginName").send_keys(login)
    d.find_element(By.ID, "password").send_keys(password)
    form = d.find_element(By.TAG_NAME, "form")
    d.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    # The sign-in page has an h1 too: wait for the page the sign-in leads to, not the one it came from.
    wait(d, lambda _: _is_gone(form))
    wait(d, EC.presence_of_element_located((By.TAG_NAME, "h1")))


def key_shown_by_cli(keygate, org):
    """The organization's key as the operator CLI reads it from the database; None when it has none."""
    result = subprocess.run([keygate_binary(), "key", "show", "--org", org["name"], "--reveal", "--database", keygate.database,
                             "--json"], capture_output=True, text=True, env=keygate.env, timeout=60)
    return json.loads(result.stdout)["key"] if result.returncode == 0 else None


def dialog(d, name):
    d.find_element(By.CSS_SELECTOR, f"[data-dialog={name}]").click()
    return wait(d, EC.visibility_of_element_located((By.ID, f"dialog-{name}")))


def obfuscate(key, now):
    n = str(now)[-6:]
    r = str(int(n) >> 1).zfill(6)
    return "".join(key[int(c)] for c in n) + "".join(key[int(c) + 2] for c in r)


def api_session(keygate, org, key):
    now = int(time.time() * 1000)
    response = requests.post(keygate.base + "/api/v1/auth", json={
        "apiKey": obfuscate(key, now), "username": org["username"], "password": org["password"], "timestamp": now})
    assert response.status_code == 200, response.text
    return response.cookies["JSESSIONID"]


def api(keygate, method, path, session, **kwargs):
    return requests.request(method, keygate.base + "/api/v1" + path, cookies={"JSESSIONID": session}, **kwargs)


def test_sign_in_reveal_and_copy_the_key(keygate, org, driver):
    driver.get(keygate.base + "/portal")
    wait(driver, EC.presence_of_element_located((By.ID, "loginName")))
    shot(driver, "sign-in")
    sign_in(driver, keygate.base, org["username"])
    assert driver.find_element(By.TAG_NAME, "h1").text == "API Key Management"
    assert driver.find_element(By.ID, "base-url").text == keygate.base + "/api/v1"
    key = driver.find_element(By.ID, "key-value")
    assert key.text == "•" * 12 and org["api_key"] not in driver.find_element(By.ID, "key-table").text
    headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#key-table th")]
    assert headers == ["Key", "Last Modified By", "Last Modified On", "Status", "Last Used"]
    modified = driver.find_element(By.CSS_SELECTOR, "td[data-column=lastModifiedOn] time")
    assert re.match(r"\d{4}-\d\d-\d\dT", modified.get_attribute("title")), "ISO 8601 on hover"
    shot(driver, "api-key-management")

    reveal = driver.find_element(By.ID, "reveal")
    reveal.click()
    assert key.text == org["api_key"] and reveal.get_attribute("aria-pressed") == "true"
    reveal.click()
    assert key.text == "•" * 12

    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": keygate.base,
                                                        "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    driver.find_element(By.CSS_SELECTOR, "[data-copy=key-value]").click()
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-copy=key-value]").text == "Copied")
    copied = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, (e) => done('error: ' + e));")
    assert copied == org["api_key"]


def test_the_usage_panel_shows_requests_per_admin_after_a_flush(keygate, org, driver):
    session = api_session(keygate, org, org["api_key"])
    for _ in range(9):
        assert api(keygate, "GET", "/apiKeys", session).status_code == 200
    sign_in(driver, keygate.base, org["username"])
    # The shared server writes its counts every second (conftest.py): reload until they are there, within a deadline
    # that a loaded CI machine cannot miss, and never past the exact figure.
    deadline = time.time() + 30
    while driver.find_element(By.ID, "usage-today").text != "9" and time.time() < deadline:
        time.sleep(0.5)
        driver.get(driver.current_url)
    assert driver.find_element(By.ID, "usage-today").text == "9"
    assert driver.find_element(By.ID, "usage-week").text == "9"
    cells = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#usage-table tbody td")]
    assert cells == [org["username"], "9", "9"]
    driver.execute_script("document.getElementById('usage').scrollIntoView()")
    shot(driver, "usage-panel")


def test_the_webhooks_page_adds_an_endpoint_shows_its_secret_once_and_logs_signed_deliveries(keygate, org, driver):
    from test_webhooks import Receiver, verify
    receiver = Receiver()
    try:
        sign_in(driver, keygate.base, org["username"])
        navigate(driver, lambda: driver.find_element(By.LINK_TEXT, "Webhooks").click())
        assert driver.find_element(By.ID, "no-endpoints")
        driver.find_element(By.ID, "webhook-url").send_keys(receiver.url)
        driver.find_element(By.CSS_SELECTOR, "input[name='event.key.regenerated']").click()
        navigate(driver, lambda: driver.find_element(By.ID, "create-webhook").click())
        secret = driver.find_element(By.ID, "webhook-secret").text
        assert secret.startswith("whsec_")
        keygate.secrets.add(secret)
        # A key change through the API: one signed event, which verifies with the secret the page showed.
        session = api_session(keygate, org, org["api_key"])
        key_id = api(keygate, "GET", "/apiKeys", session).json()[0]["id"]
        assert api(keygate, "POST", f"/apiKeys/{key_id}/regenerate", session).status_code == 200
        # Deadlines for deliveries are generous: the delivery loop shares a loaded CI machine with chromium and the
        # rest of the suite (a 20-second wait timed out there once); a passing run waits only as long as it takes.
        deadline = time.time() + 60
        while time.time() < deadline and not receiver.events("key.regenerated"):
            time.sleep(0.1)
        assert verify(receiver.events("key.regenerated")[0], secret)
        # The secret is not shown again; a test event and a failing one, retried from the page.
        driver.get(driver.current_url.split("?")[0])
        assert not driver.find_elements(By.ID, "webhook-secret")
        receiver.status = 500
        endpoint = driver.find_element(By.CSS_SELECTOR, "[data-endpoint]").get_attribute("data-endpoint")
        navigate(driver, lambda: driver.find_element(By.ID, f"test-{endpoint}").click())
        assert "test event" in driver.find_element(By.ID, "done").text

        page = driver.current_url.split("?")[0]

        def rows():
            driver.get(page)
            return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in
                    driver.find_elements(By.CSS_SELECTOR, f"#deliveries-{endpoint} tbody tr")]
        wait(driver, lambda _: any(r[0] == "webhook.test" and r[5] == "500" for r in rows()), timeout=60)
        # Failed attempts are retried on their own (1 s apart here); once the receiver is back it is delivered, and
        # Resend sends the same event (the same webhook-id) again, as a new row.
        receiver.status = 200
        wait(driver, lambda _: any(r[0] == "webhook.test" and r[1] == "Delivered" for r in rows()), timeout=60)
        sent = len(receiver.events("webhook.test"))
        resend = driver.find_element(By.CSS_SELECTOR, f"#deliveries-{endpoint} tbody tr button[id^=resend-]")
        navigate(driver, resend.click)
        assert driver.current_url.startswith(page + "?done=resent")
        assert "sent again" in driver.find_element(By.ID, "done").text
        deadline = time.time() + 60
        while time.time() < deadline and len(receiver.events("webhook.test")) == sent:
            time.sleep(0.1)
        tests = receiver.events("webhook.test")
        assert len(tests) > sent and tests[-1]["headers"]["webhook-id"] == tests[0]["headers"]["webhook-id"]
        assert [r[1] for r in rows() if r[0] == "key.regenerated"] == ["Delivered"]
        shot(driver, "webhooks-deliveries")
    finally:
        receiver.close()


def test_edit_refuses_a_bad_value_then_a_good_one_ends_old_sessions_and_the_sdk_logs_in_with_it(keygate, org, driver,
                                                                                                   monkeypatch):
    old_session = api_session(keygate, org, org["api_key"])
    assert api(keygate, "GET", "/apiKeys", old_session).status_code == 200
    sign_in(driver, keygate.base, org["username"])
    assert "1 live API session will end." in dialog(driver, "edit").text

    field = driver.find_element(By.ID, "new-key")
    field.send_keys("short")
    assert "exactly 12 characters" in driver.find_element(By.ID, "new-key-error").text  # live, before sending
    field.clear()
    field.send_keys(org["api_key"])
    assert "current key" in driver.find_element(By.ID, "new-key-error").text
    # The server checks too: send a bad value past the page's script (form.submit() fires no submit event).
    field.clear()
    field.send_keys("bad value!!!")
    navigate(driver, lambda: driver.execute_script(
        "HTMLFormElement.prototype.submit.call(document.querySelector('#dialog-edit form'))"))
    wait(driver, lambda d: d.find_element(By.ID, "new-key-error").text
         == "API key must contain only the characters A-Z, a-z and 0-9.")
    assert driver.find_element(By.ID, "dialog-edit").is_displayed(), "the dialog is open again with the reason"
    shot(driver, "edit-refused")
    assert key_shown_by_cli(keygate, org) == org["api_key"], "a refused edit changes nothing"
    assert api(keygate, "GET", "/apiKeys", old_session).status_code == 200

    new_key = "Browser0Key1"
    keygate.secrets.add(new_key)
    field = driver.find_element(By.ID, "new-key")
    field.clear()
    field.send_keys(new_key)
    navigate(driver, driver.find_element(By.ID, "confirm-edit").click)
    done = wait(driver, EC.visibility_of_element_located((By.ID, "done")))
    assert "old key no longer works" in done.text and "1 live API session ended" in done.text
    assert key_shown_by_cli(keygate, org) == new_key
    assert api(keygate, "GET", "/apiKeys", old_session).status_code == 401

    monkeypatch.setenv("ZIA_OVERRIDE_URL", keygate.base)
    client = LegacyZIAClient({"username": org["username"], "password": org["password"], "api_key": new_key, "cloud": CLOUD})
    roles, _, err = client.zia.admin_roles.list_roles()
    assert err is None and roles
    client.zia.deauthenticate()


def test_regenerate_then_delete_then_add(keygate, org, driver):
    sign_in(driver, keygate.base, org["username"])
    dialog(driver, "regenerate")
    navigate(driver, driver.find_element(By.ID, "confirm-regenerate").click)
    wait(driver, EC.visibility_of_element_located((By.ID, "done")))
    regenerated = key_shown_by_cli(keygate, org)
    keygate.secrets.add(regenerated)
    assert regenerated != org["api_key"] and re.fullmatch(r"[A-Za-z0-9]{12}", regenerated)
    assert driver.find_element(By.ID, "key-value").get_attribute("data-secret") == regenerated

    dialog(driver, "delete")
    shot(driver, "delete-dialog")
    navigate(driver, driver.find_element(By.ID, "confirm-delete").click)
    empty = wait(driver, EC.visibility_of_element_located((By.ID, "no-key")))
    assert "API access is off" in empty.text
    assert key_shown_by_cli(keygate, org) is None
    shot(driver, "no-key")

    dialog(driver, "add")
    driver.find_element(By.ID, "add-value").send_keys("Added0Again1")
    keygate.secrets.add("Added0Again1")
    navigate(driver, driver.find_element(By.ID, "confirm-add").click)
    wait(driver, EC.visibility_of_element_located((By.ID, "done")))
    assert key_shown_by_cli(keygate, org) == "Added0Again1"


def test_the_column_choice_survives_sign_out_and_another_browser_profile(keygate, org, driver):
    sign_in(driver, keygate.base, org["username"])
    dialog(driver, "columns")
    driver.find_element(By.ID, "col-lastUsed").click()  # hide
    status = driver.find_element(By.CSS_SELECTOR, "#column-list li[data-name=status]")
    for _ in range(3):
        status.find_element(By.CSS_SELECTOR, "[data-move=up]").click()
    shot(driver, "column-chooser")
    navigate(driver, driver.find_element(By.ID, "save-columns").click)
    wait(driver, EC.visibility_of_element_located((By.ID, "done")))
    expected = ["Status", "Key", "Last Modified By", "Last Modified On"]
    assert [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#key-table th")] == expected
    navigate(driver, driver.find_element(By.ID, "sign-out").click)
    wait(driver, EC.presence_of_element_located((By.ID, "loginName")))

    other = browser()  # a new profile: no cookies, no local storage
    try:
        sign_in(other, keygate.base, org["username"])
        assert [th.text for th in other.find_elements(By.CSS_SELECTOR, "#key-table th")] == expected
    finally:
        other.quit()


def test_read_only_sees_no_actions_and_forged_or_csrf_less_posts_are_refused(keygate, org, driver):
    owner = api_session(keygate, org, org["api_key"])
    role = api(keygate, "POST", "/adminRoles", owner,
               json={"name": "Viewers", "featurePermissions": {"APIKEY_MANAGEMENT": "READ_ONLY"}}).json()
    created = api(keygate, "POST", "/adminUsers", owner, json={
        "loginName": f"viewer@{org['name']}", "userName": "Vera Viewer", "email": "v@example.com",
        "role": {"id": role["id"]}, "password": PASSWORD})
    assert created.status_code == 200, created.text

    sign_in(driver, keygate.base, f"viewer@{org['name']}")
    assert driver.find_element(By.ID, "read-only").is_displayed()
    assert not driver.find_elements(By.ID, "edit-key") and not driver.find_elements(By.ID, "delete-key")
    shot(driver, "read-only")

    cookie = driver.get_cookie("kg_portal")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    csrf = driver.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    org_id = re.search(r"/portal/orgs/(\d+)/", driver.current_url).group(1)
    key_id = api(keygate, "GET", "/apiKeys", owner).json()[0]["id"]
    jar = {"kg_portal": cookie["value"]}
    forged = requests.post(f"{keygate.base}/portal/orgs/{org_id}/keys/regenerate", data={"id": key_id, "csrf": csrf},
                           cookies=jar, allow_redirects=False)
    assert forged.status_code == 403 and forged.headers["Content-Type"].startswith("text/html")
    assert key_shown_by_cli(keygate, org) == org["api_key"]

    # The owner's browser session, but a POST without the page's token (what a cross-site form would send).
    sign_in(driver, keygate.base, org["username"])
    owner_cookie = {"kg_portal": driver.get_cookie("kg_portal")["value"]}
    no_token = requests.post(f"{keygate.base}/portal/orgs/{org_id}/keys/regenerate", data={"id": key_id},
                             cookies=owner_cookie, allow_redirects=False)
    assert no_token.status_code == 403 and "<html" in no_token.text
    assert key_shown_by_cli(keygate, org) == org["api_key"]


def test_each_account_adds_its_organization_and_one_key_is_applied_to_all(keygate, driver, request):
    # Login names are unique across the server: one account, with its own login name, per organization.
    stamp = int(time.time() * 1000)
    names = [f"multi-a-{stamp}", f"multi-b-{stamp}"]
    logins = [f"{name}@corp" for name in names]
    for name, login in zip(names, logins):
        out = keygate.cli("org", "create", name, "--admin", login, "--password-stdin", stdin=PASSWORD + "\n")
        keygate.secrets.add(out["apiKey"])
    for login in logins:
        sign_in(driver, keygate.base, login)
    options = [o.text for o in driver.find_elements(By.CSS_SELECTOR, "#org-switch option")]
    assert sorted(options) == sorted(names)
    # Switch with the selector, as a user would.
    other = [o for o in driver.find_elements(By.CSS_SELECTOR, "#org-switch option") if not o.is_selected()][0]
    target = other.text
    other.click()
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "p.sub").text == target)

    dialog(driver, "apply")
    shot(driver, "apply-to-all")
    field = driver.find_element(By.ID, "apply-value")
    field.send_keys("Shared0Key99")
    keygate.secrets.add("Shared0Key99")
    navigate(driver, driver.find_element(By.ID, "confirm-apply").click)
    rows = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#apply-results tbody tr"))
    assert len(rows) == 2 and all(r.get_attribute("data-ok") == "true" for r in rows)
    shot(driver, "apply-results")
    for name in names:
        assert key_shown_by_cli(keygate, {"name": name}) == "Shared0Key99"


def test_the_page_works_at_360_pixels(keygate, org):
    narrow = browser()
    try:
        # A desktop window cannot be made that small; emulate a 360 px phone screen instead.
        narrow.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 360, "height": 780, "deviceScaleFactor": 2, "mobile": True})
        sign_in(narrow, keygate.base, org["username"])
        assert narrow.execute_script("return window.innerWidth") == 360
        width = narrow.execute_script("return document.documentElement.scrollWidth")
        wide = narrow.execute_script(
            "return Array.from(document.querySelectorAll('body *'))"
            ".filter(e => e.getBoundingClientRect().right > 361).map(e => e.tagName + '#' + e.id).slice(0, 8)")
        assert width <= 360, f"the page scrolls sideways at 360 px ({width}): {wide}"
        assert narrow.find_element(By.ID, "edit-key").is_displayed()
        shot(narrow, "mobile-360")
    finally:
        narrow.quit()


def test_provider_console_lists_creates_and_disables(keygate, org, driver):
    login = f"ops-{int(time.time() * 1000)}"
    created = keygate.cli("provider", "create-operator", "--login", login)
    keygate.secrets.add(created["password"])
    driver.get(keygate.base + "/provider")
    wait(driver, EC.presence_of_element_located((By.ID, "loginName"))).send_keys(login)
    driver.find_element(By.ID, "password").send_keys(created["password"])
    driver.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    wait(driver, EC.presence_of_element_located((By.ID, "org-table")))
    # The list pages by 100 and the shared test server holds more: find the organization the way an operator would.
    search = wait(driver, EC.presence_of_element_located((By.ID, "org-search")))
    search.send_keys(org["name"])
    search.submit()
    wait(driver, lambda d: org["name"] in d.find_element(By.ID, "org-table").text)

    name = f"console-{int(time.time() * 1000)}"
    driver.find_element(By.ID, "org-name").send_keys(name)
    driver.find_element(By.ID, "org-admin").send_keys("boss")
    navigate(driver, driver.find_element(By.ID, "create-org").click)
    key = wait(driver, EC.presence_of_element_located((By.ID, "created-key"))).text
    keygate.secrets.update({key, driver.find_element(By.ID, "created-password").text})
    assert key_shown_by_cli(keygate, {"name": name}) == key
    driver.get(keygate.base + "/provider")
    shot(driver, "provider-organizations")

    driver.get(keygate.base + "/provider?q=" + urllib.parse.quote(org["name"]))
    wait(driver, EC.element_to_be_clickable((By.LINK_TEXT, org["name"]))).click()
    session = api_session(keygate, org, org["api_key"])
    navigate(driver, wait(driver, EC.element_to_be_clickable((By.ID, "disable-key"))).click)
    # The page before the click has a status too: wait for the answer's.
    wait(driver, lambda d: "Disabled" in d.find_element(By.ID, "key-status").text)
    wait(driver, lambda d: "key.disabled" in d.find_element(By.ID, "audit-table").text)
    assert api(keygate, "GET", "/apiKeys", session).status_code == 401
    shot(driver, "provider-organization")
    navigate(driver, wait(driver, EC.element_to_be_clickable((By.ID, "enable-key"))).click)
    wait(driver, lambda d: "Enabled" in d.find_element(By.ID, "key-status").text)

    # The CLI disables the operator: their open console session ends at the next page.
    assert keygate.cli("provider", "disable-operator", "--login", login)["disabled"] == "true"
    driver.get(keygate.base + "/provider")
    wait(driver, EC.presence_of_element_located((By.ID, "loginName")))
    assert login in [row["login"] for row in keygate.cli("provider", "list-operators") if row["disabled"]]


def test_the_portal_shows_a_disabled_key_with_the_reason_and_no_actions(keygate, org, driver):
    keygate.cli("key", "disable", "--org", org["name"])
    sign_in(driver, keygate.base, org["username"])
    assert "provider has disabled this key" in driver.find_element(By.ID, "key-disabled").text
    for action in ("edit-key", "regenerate-key", "delete-key"):
        assert not driver.find_element(By.ID, action).is_enabled()
    shot(driver, "key-disabled")


def test_audit_page_filters_and_exports(keygate, org, driver):
    sign_in(driver, keygate.base, org["username"])
    driver.find_element(By.LINK_TEXT, "Audit").click()
    rows = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr"))
    assert "portal.signed_in" in rows[0].text
    Select(driver.find_element(By.ID, "audit-type")).select_by_value("org")
    driver.find_element(By.CSS_SELECTOR, ".filters button[type=submit]").click()
    wait(driver, lambda d: "type=org" in d.current_url)
    assert all("org." in r.text for r in driver.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr"))
    shot(driver, "audit")
    href = driver.find_element(By.ID, "export-csv").get_attribute("href")
    csv = requests.get(href, cookies={"kg_portal": driver.get_cookie("kg_portal")["value"]})
    assert csv.status_code == 200 and csv.text.startswith("time,actor,action,detail")


def test_every_page_passes_the_axe_accessibility_rules(keygate, org, driver):
    """axe-core (bundled by axe-selenium-python, runs offline in the page): labels, contrast (WCAG AA), names of
    buttons and links, landmarks, duplicate ids, and the rest of its rule set, on each page and open dialog."""
    from axe_selenium_python import Axe

    def check(what):
        axe = Axe(driver)
        axe.inject()
        violations = axe.run()["violations"]
        assert not violations, f"{what}: " + "; ".join(f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
                                                     for v in violations)

    driver.get(keygate.base + "/portal/signin")
    check("sign-in")
    sign_in(driver, keygate.base, org["username"])
    check("API Key Management")
    assert driver.find_elements(By.ID, "edit-key"), f"not the key page: {driver.current_url}"
    for name in ("edit", "columns", "delete"):
        dialog(driver, name)
        check(f"{name} dialog")
        driver.find_element(By.CSS_SELECTOR, f"#dialog-{name} [data-close]").click()
    for tab in ("Admins", "Roles", "Audit", "Webhooks"):
        driver.find_element(By.LINK_TEXT, tab).click()
        wait(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text == tab)
        check(tab)
        shot(driver, tab.lower())
    login = f"ops-axe-{int(time.time() * 1000)}"
    password = keygate.cli("provider", "create-operator", "--login", login)["password"]
    keygate.secrets.add(password)
    driver.get(keygate.base + "/provider")
    check("console sign-in")
    shot(driver, "provider-sign-in")
    driver.find_element(By.ID, "loginName").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    wait(driver, EC.presence_of_element_located((By.ID, "org-table")))
    check("console organizations")
    driver.get(keygate.base + "/provider?q=" + urllib.parse.quote(org["name"]))
    wait(driver, EC.element_to_be_clickable((By.LINK_TEXT, org["name"]))).click()
    wait(driver, EC.presence_of_element_located((By.ID, "audit-table")))
    check("console organization")


def test_dialogs_work_from_the_keyboard(keygate, org, driver):
    from selenium.webdriver.common.keys import Keys

    sign_in(driver, keygate.base, org["username"])
    edit = driver.find_element(By.ID, "edit-key")
    edit.send_keys(Keys.ENTER)  # a focused button activates with Enter
    wait(driver, EC.visibility_of_element_located((By.ID, "dialog-edit")))
    active = driver.switch_to.active_element
    assert active.get_attribute("id") == "new-key", "focus moves into the dialog, onto its field"
    active.send_keys(Keys.ESCAPE)
    wait(driver, EC.invisibility_of_element_located((By.ID, "dialog-edit")))
    assert key_shown_by_cli(keygate, org) == org["api_key"]
