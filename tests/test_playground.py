"""The playground at GET /: served statically beside the API, and driven in
a real browser (Debian's chromium through chromedriver and Selenium)
against the real stack: a learner types a program, it is autosaved, runs,
and a reload finds the code and the run history. One browser serves the
whole module; each test opens its own session. A screenshot of the page
is saved as $BUILD/playground.png (an interactive run answered) and
$BUILD/playground-running.png (the same run waiting for its input).
"""

import os
import re
import shutil
import tempfile
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from stack import REPO

WAIT_S = 20
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SCREENSHOT = REPO / os.environ.get("BUILD", "build") / "playground.png"
SCREENSHOT_RUNNING = SCREENSHOT.with_name("playground-running.png")  # waiting for input


# ---- served beside the API --------------------------------------------

def test_root_is_the_playground_page(stack):
    status, headers, body = stack.request("GET", "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<script src="/playground/playground.js"></script>' in body


def test_root_with_a_query_is_the_same_page(stack):
    assert stack.request("GET", "/?session=abc")[2] == stack.request("GET", "/")[2]


@pytest.mark.parametrize("asset,ctype", [("playground.js", "text/javascript; charset=utf-8"),
                                         ("playground.css", "text/css; charset=utf-8")])
def test_playground_assets_are_served(stack, asset, ctype):
    status, headers, body = stack.request("GET", f"/playground/{asset}")
    assert status == 200
    assert headers["Content-Type"] == ctype
    assert len(body) > 1000


def test_missing_playground_asset_is_a_json_404(stack):
    status, headers, body = stack.request("GET", "/playground/no-such-file.js")
    assert status == 404
    assert headers["Content-Type"].startswith("application/json")
    assert body["error"]["code"] == "NOT_FOUND"


def test_other_methods_on_root_are_405(stack):
    status, headers, body = stack.request("POST", "/", body={})
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
    assert body["error"]["code"] == "METHOD_NOT_ALLOWED"


# ---- in a browser -----------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    assert shutil.which("chromium"), "chromium is missing: make test installs Debian's chromium"
    assert shutil.which("chromedriver"), "chromedriver is missing: make test installs chromium-driver"
    profile = tempfile.mkdtemp(prefix="engine-playground-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Page:
    """The playground as a learner sees it."""

    def __init__(self, driver, stack):
        self.d = driver
        self.stack = stack

    def open(self, fragment=""):
        self.d.get(f"http://127.0.0.1:{self.stack.port}/{fragment}")
        self.wait(lambda: self.d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "yes",
                  "the page never became ready")
        return self

    def wait(self, condition, what, timeout=WAIT_S):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.05).until(lambda _: condition())
        except Exception as e:
            raise AssertionError(f"{what}; output {self.output()!r}, status {self.status()!r}, "
                                 f"error {self.text('run-error')!r}") from e

    def el(self, id_):
        return self.d.find_element(By.ID, id_)

    def text(self, id_):
        return self.el(id_).get_attribute("textContent")

    def session_id(self):
        m = re.fullmatch(rf".*#s=({UUID})", self.d.current_url)
        assert m, f"no session id in {self.d.current_url}"
        return m.group(1)

    def texts(self, selector, attribute="textContent"):
        """One attribute of every match, read at once (the page re-renders
        lists, so elements found one by one can go stale)."""
        return self.d.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(e => e[arguments[1]] ??"
            " e.getAttribute(arguments[1]))", selector, attribute)

    def code(self):
        return "\n".join(self.texts("#editor .cm-line"))

    def type_code(self, program):
        """Replaces the editor's text by typing, one line per Enter. Lines
        start at column 0: the editor indents after Enter by itself."""
        content = self.d.find_element(By.CSS_SELECTOR, "#editor .cm-content")
        content.click()
        content.send_keys(Keys.CONTROL, "a")
        content.send_keys(Keys.DELETE)
        content.send_keys(program)

    def save_state(self):
        return self.el("save-state").get_attribute("data-state")

    def wait_saved(self):
        self.wait(lambda: self.save_state() == "saved", "the code was never saved")

    def status(self):
        return self.text("status")

    def output(self):
        return self.text("output")

    def run(self):
        self.el("run").click()

    def wait_status(self, *statuses):
        self.wait(lambda: self.status() in statuses, f"the run never reached {statuses}")

    def record_run_pane(self):
        """From now on the page keeps (output, status, clock) at every
        change of the run pane."""
        self.d.execute_script("""
            const text = (id) => document.getElementById(id).textContent;
            window.runPaneSeen = [];
            new MutationObserver(() => window.runPaneSeen.push([text("output"), text("status"), text("elapsed")]))
                .observe(document.getElementById("run-pane"), {subtree: true, childList: true, characterData: true});
        """)

    def recorded(self):
        return [tuple(r) for r in self.d.execute_script("return window.runPaneSeen")]

    def history(self):
        return self.texts("#history li", "data-status")


@pytest.fixture
def page(browser, stack):
    return Page(browser, stack)


def test_opening_the_page_creates_a_python_session_in_the_url(page, stack):
    page.open()
    sid = page.session_id()
    status, _, session = stack.request("GET", f"/code-sessions/{sid}")
    assert status == 200
    assert session["language"] == "python"
    assert page.code() == 'print("Hello, world!")\n'
    assert page.save_state() == "saved"
    assert page.text("session-id") == sid
    # What the page found in GET /openapi.json: every live operation of this engine.
    assert page.d.find_element(By.TAG_NAME, "body").get_attribute("data-features") == \
        "interactive stdin cancel waitMs"


def test_an_unknown_session_in_the_url_gets_a_new_one(page, stack):
    missing = "00000000-0000-4000-8000-000000000000"
    page.open(f"#s={missing}")  # a new page, or only a new fragment of this one
    page.wait(lambda: page.session_id() != missing, "the page kept the unknown session")
    sid = page.session_id()
    assert stack.request("GET", f"/code-sessions/{sid}")[0] == 200
    assert page.text("run-error").startswith(f"Session {missing} could not be opened (NOT_FOUND: ")
    assert page.text("run-error").endswith("); this is a new one.")


def test_language_picker_lists_the_engines_languages(page, stack):
    page.open()
    languages = stack.request("GET", "/languages")[2]["languages"]
    options = Select(page.el("language")).options
    assert [o.get_attribute("value") for o in options] == [lang["id"] for lang in languages]
    assert [o.text for o in options] == [f"{lang['name']} {lang['version']}".strip() for lang in languages]
    assert Select(page.el("language")).first_selected_option.get_attribute("value") == "python"


def test_typed_code_is_autosaved_and_runs(page, stack):
    page.open()
    sid = page.session_id()
    page.type_code('print("sum", 2 + 3)\nprint("done")')
    assert page.save_state() in ("unsaved", "saving")
    page.wait_saved()
    assert stack.request("GET", f"/code-sessions/{sid}")[2]["source_code"] == \
        'print("sum", 2 + 3)\nprint("done")'
    page.run()
    page.wait_status("COMPLETED")
    assert page.output() == "sum 5\ndone\n"
    assert page.text("exit") == "exit 0"
    assert re.fullmatch(r"\d+ ms", page.text("time")), page.text("time")
    assert re.fullmatch(r"\d+(\.\d)? [KM]B", page.text("memory")), page.text("memory")
    page.wait(lambda: page.history() == ["COMPLETED"], "the run was not listed as COMPLETED")


def test_output_appears_while_the_program_runs(page):
    """Over the events stream: the first line shows while the program
    sleeps, with the running clock; the second when it ends. The page
    records what it showed at every change, so a slow test machine cannot
    miss the moment."""
    page.open()
    page.type_code('import time\nprint("first", flush=True)\ntime.sleep(2.5)\nprint("second")')
    page.record_run_pane()
    page.run()
    page.wait_status("COMPLETED")
    assert page.output() == "first\nsecond\n"
    assert page.text("elapsed") == ""
    seen = page.recorded()
    first = next(r for r in seen if r[0] == "first\n")
    second = next(r for r in seen if "second" in r[0])
    assert first[1] == "RUNNING", seen
    assert re.fullmatch(r"\d+\.\d s", first[2]) and re.fullmatch(r"\d+\.\d s", second[2]), seen
    # The program slept 2.5 s between its lines; the page showed them that far apart.
    assert float(second[2][:-2]) - float(first[2][:-2]) >= 1.5, (first, second)


def test_without_the_events_stream_the_page_polls(page):
    """An engine (or a proxy) without the events stream: the page falls
    back to GET /executions/{id} and shows the result when it ends."""
    page.d.execute_cdp_cmd("Network.enable", {})
    page.d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/events"]})
    try:
        page.open()
        page.type_code('import sys\nprint("out")\nprint("err", file=sys.stderr)')
        page.run()
        page.wait_status("COMPLETED")
        assert page.output() == "out\nerr\n"
        assert page.texts("#output span", "className") == ["stdout", "stderr"]
    finally:
        page.d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        page.d.execute_cdp_cmd("Network.disable", {})


def test_an_input_prompt_is_answered_in_the_input_line(page, stack):
    """An interactive run: the prompt (no newline) shows before the program
    blocks; the typed line is sent, shown in its own colour, and read."""
    page.open()
    assert page.el("interactive").is_selected() and page.el("interactive").is_enabled()
    page.type_code('name = input("name? ")\nprint("hi", name)')
    page.run()
    page.wait(lambda: (page.output(), page.status()) == ("name? ", "RUNNING"),
              "the prompt never showed while the program waited")
    assert page.el("input-line").is_displayed()
    page.wait(lambda: page.history() == ["RUNNING"], "the runs list never showed the run running")
    page.el("stdin-line").send_keys("Ada")
    page.d.save_screenshot(str(SCREENSHOT_RUNNING))
    page.el("stdin-line").send_keys(Keys.ENTER)
    page.wait_status("COMPLETED")
    assert page.output() == "name? Ada\nhi Ada\n"
    assert page.texts("#output span", "className") == ["stdout", "echo", "stdout"]
    assert not page.el("input-line").is_displayed()
    latest = stack.request("GET", f"/code-sessions/{page.session_id()}/executions")[2]["executions"][0]
    assert latest["stdout"] == "name? hi Ada\n"
    page.d.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10000


def test_eof_ends_the_programs_input(page):
    page.open()
    page.type_code('import sys\ndata = sys.stdin.read()\nprint(len(data), "bytes")')
    page.run()
    page.wait(lambda: page.el("input-line").is_displayed(), "the input line never showed")
    page.el("stdin-line").send_keys("abc", Keys.ENTER)
    page.el("send-eof").click()
    page.wait_status("COMPLETED")
    assert page.output() == "abc\n4 bytes\n"


def test_stop_ends_a_long_run(page):
    page.open()
    page.type_code('import time\nprint("working", flush=True)\ntime.sleep(30)\nprint("never")')
    page.run()
    page.wait(lambda: (page.output(), page.status()) == ("working\n", "RUNNING"),
              "the run never started")
    started = time.monotonic()
    page.el("stop").click()
    page.wait_status("FAILED")
    assert time.monotonic() - started < 10
    assert page.text("status-detail").startswith("CANCELLED: ")
    assert page.output() == "working\n"
    assert not page.el("stop").is_enabled()
    page.wait(lambda: page.history() == ["FAILED"], "the stopped run was not listed")


def test_a_runtime_error_shows_stderr_and_the_error_code(page):
    page.open()
    page.type_code('print("before")\n1 / 0')
    page.run()
    page.wait_status("FAILED")
    assert page.output().startswith("before\nTraceback (most recent call last):\n")
    assert page.output().endswith("ZeroDivisionError: division by zero\n")
    assert page.d.find_element(By.CSS_SELECTOR, "#output .stderr").text.endswith("division by zero")
    assert page.text("status-detail").startswith("RUNTIME_ERROR: ")
    assert page.text("exit") == "exit 1"


def test_a_plot_is_shown_and_other_files_offered_as_downloads(page):
    page.open()
    page.type_code("import matplotlib.pyplot as plt\nplt.figure(figsize=(3, 2), dpi=100)\n"
                   "plt.plot([1, 2], [2, 1])\nplt.show()\nopen('out/data.csv', 'w').write('a\\n1\\n')")
    page.run()
    page.wait_status("COMPLETED")
    page.wait(lambda: page.texts("#artifacts img", "naturalWidth") == [300], "the plot was never shown")
    assert page.texts("#artifacts img", "alt") == ["figure-1.png"]
    assert page.texts("#artifacts a", "download") == ["data.csv"]
    assert page.texts("#artifacts a") == ["⤓ data.csv (4 bytes)"]


def test_run_saves_the_last_edit_first(page, stack):
    """Run right after typing, inside the autosave delay: the run uses the
    typed code, because the page saves before it runs."""
    page.open()
    page.type_code('print("fresh")')
    page.run()
    page.wait_status("COMPLETED")
    assert page.output() == "fresh\n"


def test_stdin_given_at_the_start(page):
    page.open()
    page.type_code('name = input()\nprint("hi", name)')
    if page.el("interactive").is_selected():
        page.el("interactive").click()
    page.d.find_element(By.CSS_SELECTOR, "#stdin-box summary").click()
    page.el("stdin-text").send_keys("Ada\n")
    page.run()
    page.wait_status("COMPLETED")
    assert page.output() == "hi Ada\n"


def test_reload_finds_the_autosaved_code_and_the_run_history(page):
    page.open()
    sid = page.session_id()
    page.type_code('print("one")')
    page.run()
    page.wait_status("COMPLETED")
    page.type_code('print("two")')
    page.run()
    page.wait(lambda: page.output() == "two\n", "the second run never printed")
    page.wait_status("COMPLETED")
    page.type_code('print("three")  # not run')
    page.wait_saved()
    page.d.refresh()
    page.wait(lambda: page.d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "yes",
              "the reloaded page never became ready")
    assert page.session_id() == sid
    assert page.code() == 'print("three")  # not run'
    page.wait(lambda: page.history() == ["COMPLETED", "COMPLETED"], "the run history never showed")
    # The latest run is shown; a click on the older one shows its output.
    page.wait(lambda: page.output() == "two\n", "the latest run was not shown")
    page.d.find_elements(By.CSS_SELECTOR, "#history li")[1].click()
    page.wait(lambda: page.output() == "one\n", "the older run was not shown")


def test_a_reload_during_a_run_picks_it_up_again(page):
    """The reloaded page shows the live run from its start (the events
    stream replays what was printed) and follows it to its end."""
    page.open()
    page.type_code('import time\nprint("first", flush=True)\ntime.sleep(3)\nprint("second")')
    page.run()
    page.wait(lambda: page.output() == "first\n", "the first line never showed")
    page.d.refresh()
    page.wait(lambda: page.d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "yes",
              "the reloaded page never became ready")
    page.wait(lambda: (page.output(), page.status()) == ("first\n", "RUNNING"),
              "the reloaded page did not show the live run")
    assert page.el("stop").is_enabled()
    page.wait_status("COMPLETED")
    assert page.output() == "first\nsecond\n"
    page.wait(lambda: page.history() == ["COMPLETED"], "the run was not listed as COMPLETED")


def test_another_language_is_a_new_session(page, stack):
    page.open()
    first = page.session_id()
    Select(page.el("language")).select_by_value("c")
    page.wait(lambda: page.session_id() != first, "the URL kept the python session")
    second = page.session_id()
    assert stack.request("GET", f"/code-sessions/{second}")[2]["language"] == "c"
    assert page.code().startswith("#include <stdio.h>")
    page.run()
    page.wait_status("COMPLETED")
    assert page.output() == "Hello, world!\n"
    assert re.fullmatch(r"compile \d+ ms( \(cached\))?", page.text("compile")), page.text("compile")
    page.d.back()
    page.wait(lambda: page.session_id() == first and page.code() == 'print("Hello, world!")\n',
              "Back did not return to the python session")


def test_check_marks_the_findings_in_the_editor(page, stack):
    page.open()
    page.type_code('import os\nprint(x)')
    page.el("check").click()
    page.wait_status("COMPLETED")
    assert page.texts("#diagnostics li") == [
        "1:1 warning: 'os' imported but unused",
        "2:7 warning: undefined name 'x'",
    ]
    assert page.texts("#editor .cm-lintRange-warning") == ["i", "x"]
    page.wait(lambda: page.history() == ["COMPLETED"], "the run was not listed as COMPLETED")
    assert page.texts("#history li .badge") == ["check COMPLETED"]


# ---- with auth = token ------------------------------------------------------------

@pytest.fixture(scope="module")
def token_stack(tmp_path_factory):
    from test_auth import secret_file, stack_with, write_config
    tmp = tmp_path_factory.mktemp("playground-token")
    s = stack_with(write_config(tmp, ["auth = token", f"auth_hs256_secret_file = {secret_file(tmp)}"]))
    yield s
    s.stop()
    s.cleanup()


def test_the_page_takes_a_token_from_the_address_and_runs_with_it(browser, token_stack):
    from test_auth import bearer, hs256
    page = Page(browser, token_stack).open("#token=" + hs256(sub="learner-in-browser", iss=None, aud=None))
    sid = page.session_id()            # the address now holds the session, not the token
    assert "token" not in page.d.current_url
    assert token_stack.request("GET", f"/code-sessions/{sid}")[0] == 401
    status, _, session = token_stack.request("GET", f"/code-sessions/{sid}",
                                             headers=bearer(hs256(sub="learner-in-browser")))
    assert status == 200, session      # the page's session is the token's learner's
    assert token_stack.request("GET", f"/code-sessions/{sid}", headers=bearer(hs256(sub="someone-else")))[0] == 404
    page.type_code('print("with a token")')
    page.wait_saved()
    page.run()
    page.wait_status("COMPLETED")
    assert page.output() == "with a token\n"
    page.open(f"#s={sid}")             # the token stays with the tab
    assert page.session_id() == sid and page.code() == 'print("with a token")'


def test_without_a_token_the_page_says_what_is_missing(browser, token_stack):
    browser.get(f"http://127.0.0.1:{token_stack.port}/openapi.json")   # the page's origin: its storage
    browser.execute_script("sessionStorage.clear()")
    page = Page(browser, token_stack).open()
    page.wait(lambda: page.text("run-error") != "", "no error was shown")
    assert page.text("run-error") == \
        "Could not create a session: UNAUTHORIZED: this request needs an Authorization: Bearer token"
