"""The local web page (`rewrite serve`): its JSON endpoints (input limits, errors, verdicts) and,
in a real headless Chromium, the page itself: type tr(A*X*B), see A'*B', open the steps,
download a proof that the checker accepts, verify an identity.  The browser test needs
Debian's chromium and chromium-driver and the selenium package (.ci/run installs them); without
them it is skipped with the reason."""
from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

starlette = pytest.importorskip("starlette", reason="the web extra (starlette, uvicorn) is not installed")
from starlette.testclient import TestClient  # noqa: E402

import rewrite  # noqa: E402
from rewrite.syntax import MAX_CHARS  # noqa: E402
from rewrite.web.app import MAX_BODY, app  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def client():
    return TestClient(app)


def test_the_endpoints_answer(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>rewrite" in page.text
    d = client.post("/api/derive", json={"f": "log(det(X))", "wrt": "X", "vars": ["X: n x n"]}).json()
    assert d["answers"][0]["text"] == "inv(X)'" and d["assumptions"] == ["det(X) > 0"]
    assert rewrite.check(d["proof"]).ok and len(d["steps"]) > 2 and "<math" in d["steps"][1]["mathml"]
    h = client.post("/api/derive", json={"f": "x'*A*x", "wrt": "x", "kind": "hessian"}).json()
    assert [a["text"] for a in h["answers"]] == ["(A + A')*x", "A + A'"]
    v = client.post("/api/verify", json={"claim": "tr(A*X') = tr(A*X)"}).json()
    assert v["status"] == "refuted" and "symmetric" in v["hint"]


@pytest.mark.parametrize("body, status, fragment", [
    ({"f": "tr(A*X*B", "wrt": "X"}, 400, "expected ')'"),
    ({"f": "tr(X)", "wrt": "Y"}, 400, "does not occur"),
    ({"f": "tr(X)", "wrt": "X", "vars": ["X n x n"]}, 400, "NAME: ROWS x COLS"),
    ({"f": "x" * (MAX_CHARS + 1), "wrt": "x"}, 400, "limit"),
    ({"wrt": "X"}, 400, "f is missing"),
    ({"f": "tr(X)", "wrt": "X", "kind": "integral"}, 400, "unknown kind"),
])
def test_bad_input_is_a_400_with_the_message(client, body, status, fragment):
    r = client.post("/api/derive", json=body)
    assert r.status_code == status and fragment in r.json()["error"]


def test_oversized_and_malformed_requests(client):
    assert client.post("/api/derive", content=b"x" * (MAX_BODY + 1)).status_code == 413
    assert client.post("/api/verify", content=b"[1, 2]").status_code == 400
    assert client.post("/api/verify", content=b"{not json").status_code == 400


def test_serve_binds_this_machine_by_default():
    from rewrite.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"


# --- the page in a browser ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("no headless browser: Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1100,1400", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


def _wait(predicate, timeout: float = 30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the page did not show it in time")


def test_the_page_in_a_browser(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server)
    f = browser.find_element(By.ID, "f")
    f.clear()
    f.send_keys("tr(A*X*B)")
    browser.find_element(By.ID, "derive").click()
    answer = _wait(lambda: [e.text for e in browser.find_elements(By.CLASS_NAME, "answer-text") if e.text])
    assert answer == ["A'*B'"]
    browser.find_element(By.ID, "steps-summary").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#steps-table tr")
    assert len(rows) > 3 and rows[1].is_displayed() and "d-tr" in rows[1].text
    href = browser.find_element(By.ID, "download").get_attribute("href")
    assert href.startswith("data:application/json")
    proof = urllib.parse.unquote(href.split(",", 1)[1])
    path = tmp_path / "proof.json"
    path.write_text(proof)
    assert rewrite.check(path).ok
    assert json.loads(proof)["claim"]["gradient"] == "A'*B'"
    browser.find_element(By.ID, "verify").click()
    status = _wait(lambda: [e.text for e in browser.find_elements(By.ID, "verdict-status") if e.text])
    assert status == ["proved"]
    shot = Path(os.environ.get("REWRITE_SCREENSHOT", tmp_path / "page.png"))
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
