"""Without keys the server trusts its own machine; a web page the local user opens runs on that
machine too. So a keyless server answers only requests addressed to it by a loopback name (or a
name of KQ_ALLOWED_HOSTS: DNS rebinding cannot use them), refuses what another site's page sends
(Origin, Sec-Fetch-Site), and refuses a request that a proxy forwards for a client beyond
loopback or without saying for whom. The web app (same origin) and clients without a browser
(curl, the CLI: no Origin, no Sec-Fetch-*) keep working; with keys none of this applies, as
browsers never send a key by themselves.

Through the in-process app on a SQLite file, called from a loopback address."""

import pytest

from api.auth import is_loopback
from tests.support.fast import TEXT, FastApi, api_for, fast_settings, without_shell_settings

KEY = {"Authorization": "Bearer kq-browser-key"}
# What a browser sends with the web app's own fetch calls (opened at http://localhost:8000)
WEB_APP = {"Origin": "http://localhost:8000", "Sec-Fetch-Site": "same-origin",
           "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}  # fmt: skip
# ... and with another site's page: a form or fetch aimed at this machine
CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site",
              "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "empty"}  # fmt: skip


@pytest.fixture(autouse=True)
def clean_env():
    with without_shell_settings():
        yield


def local_api(tmp_path, base_url="http://127.0.0.1:8000", **fields) -> FastApi:
    api = api_for(fast_settings(tmp_path, **fields))
    api.http.base_url = base_url
    return api


@pytest.fixture
def api(tmp_path) -> FastApi:
    return local_api(tmp_path, base_url="http://localhost:8000")


def submit(api: FastApi, headers: dict, **options):
    """A multipart submission, as an HTML form of any site can send it."""
    files = {"file": ("book.txt", TEXT.encode(), "text/plain")}
    return api.http.post("/v1/jobs", files=files, headers=headers, **options)


# Another site's pages


@pytest.mark.parametrize(
    "headers",
    [
        CROSS_SITE,
        {"Origin": "https://evil.example"},  # a browser without Fetch Metadata
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},  # a sandboxed frame
        {"Origin": "null"},  # a page opened from a file
        {"Origin": "http://localhost.evil.example:8000", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
    ],
    ids=lambda headers: ",".join(f"{k}={v}" for k, v in headers.items()),
)
def test_another_sites_page_cannot_submit(api, unchanged, headers):
    """Bug: a cross-site multipart POST /v1/jobs was accepted (202)."""
    answer = submit(api, headers)
    assert answer.status_code == 403, answer.text
    detail = answer.json()["detail"]
    assert "another site" in detail and "KQ_ALLOWED_HOSTS" in detail


def test_another_sites_page_cannot_cancel_or_delete(api):
    job = submit(api, {}).json()
    for method, path in (
        ("POST", f"/v1/jobs/{job['id']}/cancel"),
        ("DELETE", f"/v1/jobs/{job['id']}"),
    ):
        answer = api.http.request(method, path, headers=CROSS_SITE)
        assert answer.status_code == 403, (method, answer.text)
    assert api.http.get(f"/v1/jobs/{job['id']}").json()["status"] == job["status"]


def test_another_sites_page_cannot_make_the_server_fetch_or_order(api, unchanged):
    """A GET an <audio> or <img> of another site sends: a sample would be ordered."""
    headers = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors",
               "Sec-Fetch-Dest": "audio"}  # fmt: skip
    for path in ("/v1/voices/af_heart/sample?text=Hello", "/v1/jobs"):
        assert api.http.get(path, headers=headers).status_code == 403, path


def test_a_link_from_another_site_still_opens_the_app(api):
    headers = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
               "Sec-Fetch-Dest": "document"}  # fmt: skip
    answer = api.http.get("/", headers=headers)
    assert answer.status_code == 200, answer.text


# DNS rebinding: another site's name, resolved to 127.0.0.1


@pytest.mark.parametrize(
    "host",
    [
        "rebind.evil.example",
        "rebind.evil.example:8000",
        "localhost.evil.example",
        "127.0.0.1.nip.io:8000",
        "evil-localhost",
        "[::2]:8000",
        "192.0.2.1",
    ],
)
def test_a_host_name_of_another_site_is_refused(api, host):
    """Bug: `Host: rebind.evil.example` listed every job."""
    answer = api.http.get("/v1/jobs", headers={"Host": host})
    assert answer.status_code == 403, answer.text
    detail = answer.json()["detail"]
    assert "KQ_ALLOWED_HOSTS" in detail and "DNS rebinding" in detail


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:8000",
        "LOCALHOST:8000",
        "127.0.0.1",
        "127.0.0.1:8000",
        "127.1.2.3:9",
        "[::1]:8000",
        "[::1]",
        "kq.localhost:8000",
        "a.b.localhost",
    ],
)
def test_loopback_host_names_are_served_with_any_port(api, host):
    answer = api.http.get("/v1/jobs", headers={"Host": host})
    assert answer.status_code == 200, (host, answer.text)


def test_kq_allowed_hosts_adds_names_and_their_origins(tmp_path):
    api = local_api(tmp_path, allowed_hosts="kq.example.com, *.lan.example")
    for host in ("kq.example.com", "KQ.example.com:8443", "box.lan.example", "a.b.lan.example"):
        assert api.http.get("/v1/jobs", headers={"Host": host}).status_code == 200, host
    for host in ("example.com", "lan.example", "evil.kq.example.com", "xlan.example"):
        assert api.http.get("/v1/jobs", headers={"Host": host}).status_code == 403, host
    from_it = {"Host": "kq.example.com", "Origin": "https://kq.example.com",
               "Sec-Fetch-Site": "same-origin"}  # fmt: skip
    assert submit(api, from_it).status_code == 202
    sibling = {"Host": "kq.example.com", "Origin": "https://blog.example.com",
               "Sec-Fetch-Site": "same-site"}  # fmt: skip
    assert submit(api, sibling).status_code == 403


def test_the_host_the_api_listens_on_is_served(tmp_path):
    api = local_api(tmp_path, base_url="http://192.168.7.20:8000", host="192.168.7.20")
    assert api.http.get("/v1/jobs").status_code == 200


# The web app and clients without a browser


def test_the_web_apps_own_requests_are_served(api):
    navigate = {
        "Sec-Fetch-Site": "none",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
    }
    assert api.http.get("/", headers=navigate).status_code == 200
    script = {**WEB_APP, "Sec-Fetch-Dest": "script"}
    assert api.http.get("/app/js/api.js", headers=script).status_code == 200
    same_origin_get = {k: v for k, v in WEB_APP.items() if k != "Origin"}
    assert api.http.get("/v1/voices", headers=same_origin_get).status_code == 200
    preview = api.http.post("/v1/text/preview", json={"text": TEXT}, headers=WEB_APP)
    assert preview.status_code == 200, preview.text
    job = api.http.post("/v1/jobs", json={"text": TEXT}, headers=WEB_APP)
    assert job.status_code == 202, job.text
    form = submit(api, WEB_APP)
    assert form.status_code == 202, form.text
    job_id = job.json()["id"]
    assert api.http.post(f"/v1/jobs/{job_id}/cancel", headers=WEB_APP).status_code == 200
    assert api.http.delete(f"/v1/jobs/{job_id}", headers=WEB_APP).status_code == 204


def test_a_page_on_another_local_port_is_served(api):
    """Loopback origins are this machine's own pages (a development server, say)."""
    headers = {"Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-site"}
    assert submit(api, headers).status_code == 202


def test_clients_without_a_browser_are_served(tmp_path):
    api = local_api(tmp_path)  # Host 127.0.0.1:8000, as httpx and curl send it
    assert submit(api, {}).status_code == 202
    assert api.http.post("/v1/jobs", json={"text": TEXT}).status_code == 202
    assert len(api.http.get("/v1/jobs").json()["jobs"]) == 2


def test_with_keys_browser_headers_do_not_matter(tmp_path):
    """A key is never sent by a browser on its own: a request with one was meant by its sender."""
    api = local_api(tmp_path, api_keys="browser=kq-browser-key")
    headers = {**KEY, **CROSS_SITE, "Host": "rebind.evil.example"}
    assert submit(api, headers).status_code == 202
    assert api.http.get("/v1/jobs", headers=headers).status_code == 200
    assert submit(api, CROSS_SITE).status_code == 401  # and no key is no key


# Proxies: a loopback peer that forwards someone else


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.7"},
        {"X-Forwarded-For": "127.0.0.1, 203.0.113.7"},
        {"X-Forwarded-For": "203.0.113.7, 127.0.0.1"},
        {"X-Forwarded-For": "unknown"},
        {"X-Real-IP": "203.0.113.7"},
        {"X-Real-IP": "203.0.113.7", "X-Forwarded-For": "127.0.0.1"},
        {"Forwarded": "for=203.0.113.7;proto=https"},
        {"Forwarded": 'for="[2001:db8::17]:4711"'},
        {"Forwarded": "for=127.0.0.1, for=198.51.100.2"},
        {"Forwarded": "for=_hidden"},
        # A proxy that says nothing of the client: it may be forwarding anyone
        {"Via": "1.1 proxy"},
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-Host": "localhost"},
        {"Forwarded": "proto=https;host=localhost"},
        # A client on this machine, through a proxy for another name
        {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": "kq.example.com"},
        {"Forwarded": "for=127.0.0.1;host=kq.example.com"},
    ],
    ids=lambda headers: ",".join(f"{k}={v}" for k, v in headers.items()),
)
def test_a_proxied_client_beyond_loopback_or_unnamed_is_refused(api, headers):
    """Bug: behind a proxy on this machine every client looked like loopback."""
    answer = api.http.get("/v1/jobs", headers=headers)
    assert answer.status_code == 403, answer.text
    assert "proxy" in answer.json()["detail"]
    assert "X-Forwarded-For" in answer.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "127.0.0.1"},
        {"X-Forwarded-For": "::1, 127.0.0.1", "X-Forwarded-Proto": "https", "Via": "1.1 caddy"},
        {"X-Real-IP": "::1"},
        {"Forwarded": 'for="[::1]:51234";proto=https;host=localhost:8443'},
        {"Forwarded": "for=127.0.0.1:4711"},
        {"X-Forwarded-For": "::ffff:127.0.0.1", "X-Forwarded-Host": "kq.localhost"},
    ],
    ids=lambda headers: ",".join(f"{k}={v}" for k, v in headers.items()),
)
def test_a_proxy_forwarding_a_client_on_this_machine_is_served(api, headers):
    answer = api.http.get("/v1/jobs", headers=headers)
    assert answer.status_code == 200, answer.text


def test_a_proxied_client_with_a_key_is_served(tmp_path):
    api = local_api(tmp_path, api_keys="browser=kq-browser-key")
    answer = api.http.get("/v1/jobs", headers={**KEY, "X-Forwarded-For": "203.0.113.7"})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("::ffff:192.0.2.1", False),
        ("192.0.2.1", False),
        ("", False),
        ("testclient", False),
    ],
)
def test_loopback_addresses(address, loopback):
    assert is_loopback(address) is loopback
