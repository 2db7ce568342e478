#!/usr/bin/env python3
"""Take the app-store screenshots of clinic_sms_reminders in headless Chromium.

Builds (or reuses) the demo database ``shots_demo`` (the addon with its demo
data, as scripts/demo.sh does), sends the due demo messages through the
sandbox provider so the dashboard and the history have something to show,
serves it on a loopback port, logs in as admin / admin and saves PNG files in
clinic_sms_reminders/static/description/.

Chromium is driven through the DevTools protocol (websocket-client); every
capture waits until the page has no request in flight and the expected
element is on screen.

    python3 scripts/screenshots.py              # reuse shots_demo if it exists
    python3 scripts/screenshots.py --rebuild    # fresh demo database first

Needs Odoo 19.0 importable (``import odoo``), a local PostgreSQL and Chromium
(``chromium``, or the path in $CHROMIUM).
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parents[1]
ADDON = "clinic_sms_reminders"
OUTPUT = ROOT / ADDON / "static" / "description"
DB = os.environ.get("CLINIC_SHOTS_DB", "shots_demo")  # e.g. one per engineer
HOST = "127.0.0.1"
WIDTH, HEIGHT = 1440, 900
# the patient's personal page is shot as a phone shows it (CSS pixels, scale)
LIST_ROW = ".o_list_view .o_data_row"
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


def log(message):
    print(f"[screenshots] {message}", flush=True)


def odoo_addons_path():
    """Core addons next to the imported odoo package, then this repository;
    or $CLINIC_ADDONS_PATH (as in the tests), e.g. to shoot a clean export."""
    if os.environ.get("CLINIC_ADDONS_PATH"):
        return os.environ["CLINIC_ADDONS_PATH"]
    import odoo

    for path in odoo.__path__:
        core = Path(path).resolve().parent / "addons"
        if (core / "calendar" / "__manifest__.py").is_file():
            return f"{core},{ROOT}"
    sys.exit("Odoo's core addons folder was not found next to the odoo package")


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def psql(query, db="postgres"):
    done = subprocess.run(
        ["psql", "-d", db, "-tAc", query], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else ""


# ----------------------------------------------------------------------
# Database
# ----------------------------------------------------------------------
def ensure_database(addons, rebuild):
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB}'") == "1"
    installed = exists and (
        psql(f"SELECT state FROM ir_module_module WHERE name = '{ADDON}'", DB)
        == "installed"
    )
    if exists and (rebuild or not installed):
        log(f"dropping {DB}")
        subprocess.run(["dropdb", "--if-exists", DB], check=True)
        installed = False
    if installed:
        log(f"reusing {DB}")
        return
    log(f"building {DB} (addon and demo data)")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "-d",
            DB,
            f"--addons-path={addons}",
            "-i",
            ADDON,
            "--with-demo",
            "--load-language=fr_FR",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
        ],
        check=True,
    )


PREPARE = """
import json
from datetime import timedelta
from odoo import fields
# screenshots in English (a database built with --load-language=fr_FR may
# have French only); patients keep their own languages
env["res.lang"]._activate_lang("en_US")
admin = env.ref("base.user_admin")
admin.write({"lang": "en_US", "tz": "Europe/Paris"})
# loopback only: no company enrichment call to Odoo's partner autocomplete
if "iap_enrich_auto_done" in env["res.company"]._fields:
    env["res.company"].search([]).iap_enrich_auto_done = True
# the demo data leaves the company name alone; a screenshot may show the clinic
env.ref("base.main_company").name = "Cabinet Dentaire du Parc"
# the demo confirmations are past their undo window (R-9.4) at once, then the
# due messages go out through the sandbox provider
env.cr.execute(
    "UPDATE clinic_sms_message"
    " SET scheduled_at = now() AT TIME ZONE 'UTC' - interval '1 minute'"
    " WHERE state = 'queued' AND kind = 'confirmation'"
    " AND scheduled_at < now() AT TIME ZONE 'UTC' + interval '15 minutes'"
)
env.cr.commit()  # the dispatch claims its rows in transactions of its own
env["clinic.sms.message"]._cron_dispatch()
ref = lambda xmlid: env.ref("clinic_sms_reminders." + xmlid).id
patient = lambda name: env.ref("clinic_sms_reminders.patient_" + name)
company = env.ref("base.main_company")
# replies that are no keyword land in the conversations inbox (R-9.2); the
# provider's ids make them arrive once however often this runs
# (from patients who were sent a message: a reply is matched to it)
provider = company.clinic_sms_provider_id
for external_id, name, text in (
    ("shots-1", "camille_dubois", "Can I come at 11 instead? I have a meeting at 9."),
    ("shots-2", "emily_clarke", "Is there a car park near the practice?"),
    ("shots-3", "lea_fontaine", "Bonjour, faut-il venir à jeun ?"),
):
    sent = env["clinic.sms.message"].search(
        [("partner_id", "=", patient(name).id), ("state", "in", ("sent", "delivered"))],
        limit=1,
    )
    if sent:
        env["clinic.sms.inbound"]._receive(
            sent.provider_id,
            {"from": sent.phone, "text": text, "external_id": external_id},
        )
# patients waiting for an earlier slot (R-9.3)
Waitlist = env["clinic.sms.waitlist"]
if not Waitlist.search_count([("company_id", "=", company.id)]):
    practitioner = env.ref("clinic_sms_reminders.practitioner_claire_martin")
    today = fields.Date.context_today(admin)
    for sequence, name, days in (
        (1, "oliver_smith", 10),
        (2, "ines_garnier", 14),
        (3, "pierre_lambert", 21),
    ):
        Waitlist.create(
            {
                "partner_id": patient(name).id,
                "company_id": company.id,
                "practitioner_id": practitioner.id,
                "date_from": today,
                "date_to": today + timedelta(days=days),
                "sequence": sequence,
            }
        )
# the personal page of an appointment (R-9.1), as its short link opens it
# (one a few days ahead, not confirmed yet: it can still be confirmed or
# cancelled there)
link_event = env["calendar.event"].search(
    [
        ("clinic_patient_id", "!=", False),
        ("clinic_status", "=", "scheduled"),
        ("start", ">", fields.Datetime.now() + timedelta(days=3)),
    ],
    order="start",
    limit=1,
)
link_event._clinic_link_short_url()
link_path = "/clinic_sms/" + link_event.sudo().clinic_link_tracker_id.url.split(
    "/clinic_sms/", 1
)[1]
data = {
    "menu": env.ref("clinic_sms_reminders.menu_clinic_sms_root").id,
    "appointment": ref("appointment_01"),
    "template": ref("template_reminder"),
    "wizard_template": ref("template_done_thanks"),
    "wizard_partners": [
        ref(name)
        for name in (
            "patient_camille_dubois",
            "patient_oliver_smith",
            "patient_emily_clarke",
            "patient_julien_lefevre",
            "patient_ines_garnier",
            "patient_nicolas_girard",
            "patient_pierre_lambert",
        )
    ],
    "link_path": link_path,
}
env.cr.commit()
print("SHOTS_DATA=" + json.dumps(data))
"""


def prepare_data(addons):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "shell",
            "-d",
            DB,
            f"--addons-path={addons}",
            "--no-http",
            "--log-level=warn",
        ],
        input=PREPARE,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("SHOTS_DATA="):
            return json.loads(line.split("=", 1)[1])
    sys.exit(f"preparing {DB} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


# ----------------------------------------------------------------------
# Processes
# ----------------------------------------------------------------------
def wait_http(url, timeout=120, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit(f"{url}: the process ended with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            time.sleep(0.5)
    sys.exit(f"{url} did not answer within {timeout} s")


def start_odoo(addons, port, logfile):
    command = [
        sys.executable,
        "-m",
        "odoo",
        "-d",
        DB,
        f"--addons-path={addons}",
        f"--db-filter=^{DB}$",
        f"--http-interface={HOST}",
        f"--http-port={port}",
        "--max-cron-threads=0",
        "--log-level=warn",
    ]
    log(f"starting Odoo on http://{HOST}:{port}")
    process = subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT)
    wait_http(f"http://{HOST}:{port}/web/health", process=process)
    return process


def chromium_binary():
    for candidate in (
        os.environ.get("CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    sys.exit("Chromium not found: install it or set $CHROMIUM")


def start_chromium(port, profile):
    command = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--user-data-dir={profile}",
        f"--remote-debugging-address={HOST}",
        f"--remote-debugging-port={port}",
        "about:blank",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_http(f"http://{HOST}:{port}/json/version", process=process)
    return process


def stop(process):
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ----------------------------------------------------------------------
# DevTools protocol
# ----------------------------------------------------------------------
def devtools_call(ws, method, message_id=1, on_event=None, **params):
    """One DevTools command on ``ws``, its result once answered; the events
    that come before the answer go to ``on_event``."""
    ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
    while True:
        message = json.loads(ws.recv())
        if message.get("id") == message_id:
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            return message.get("result", {})
        if on_event:
            on_event(message)


class Page:
    """One Chromium tab driven over the DevTools protocol, synchronously."""

    def __init__(self, devtools_port, ws_url=None, metrics=None):
        self.devtools_port = devtools_port
        if ws_url is None:
            targets = json.loads(wait_http(f"http://{HOST}:{devtools_port}/json/list"))
            page = next(target for target in targets if target["type"] == "page")
            ws_url = page["webSocketDebuggerUrl"]
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.metrics = metrics or {
            "width": WIDTH,
            "height": HEIGHT,
            "deviceScaleFactor": 1,
            "mobile": False,
        }
        self.next_id = 0
        self.in_flight = {}
        self.last_activity = time.monotonic()
        self.errors = []
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", **self.metrics)

    @contextmanager
    def phone(self):
        """A phone-sized tab in a browser context of its own: no cookie of
        this tab's session, as a patient opening the link."""
        version = json.loads(
            wait_http(f"http://{HOST}:{self.devtools_port}/json/version")
        )
        browser = websocket.create_connection(
            version["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        context = devtools_call(browser, "Target.createBrowserContext")
        context_id = context["browserContextId"]
        target = devtools_call(
            browser,
            "Target.createTarget",
            message_id=2,
            url="about:blank",
            browserContextId=context_id,
        )
        phone = Page(
            self.devtools_port,
            ws_url=f"ws://{HOST}:{self.devtools_port}/devtools/page/"
            f"{target['targetId']}",
            metrics=PHONE,
        )
        try:
            yield phone
        finally:
            self.errors += phone.errors
            phone.close()
            devtools_call(
                browser, "Target.closeTarget", message_id=3, targetId=target["targetId"]
            )
            devtools_call(
                browser,
                "Target.disposeBrowserContext",
                message_id=4,
                browserContextId=context_id,
            )
            browser.close()

    def close(self):
        self.ws.close()

    def _event(self, message):
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if "websocket_worker" not in url:  # the bus worker's own script
                self.in_flight[params["requestId"]] = (url, time.monotonic())
            self.last_activity = time.monotonic()
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            self.in_flight.pop(params["requestId"], None)
            self.last_activity = time.monotonic()
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            exception = details.get("exception", {}).get("description")
            self.errors.append(exception or details.get("text"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            # e.g. a bundle that failed to load: the web client stays blank
            entry = params["entry"]
            self.errors.append(f"{entry.get('url', '')}: {entry['text']}")
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            self.errors.append(
                " ".join(
                    str(arg.get("value", arg.get("description", "")))
                    for arg in params["args"]
                )
            )

    def send(self, method, **params):
        self.next_id += 1
        return devtools_call(
            self.ws, method, message_id=self.next_id, on_event=self._event, **params
        )

    def js(self, expression):
        result = self.send(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url):
        self.in_flight.clear()  # requests of the page we leave never finish
        self.send("Page.navigate", url=url)
        self.last_activity = time.monotonic()

    def wait_for(self, selector, timeout=60):
        deadline = time.monotonic() + timeout
        check = f"!!document.querySelector({json.dumps(selector)})"
        while time.monotonic() < deadline:
            try:
                if self.js(check):
                    return
            except RuntimeError:
                pass  # the page is navigating
            time.sleep(0.2)
        raise TimeoutError(f"{selector} did not appear")

    def wait_idle(self, quiet=0.8, timeout=60):
        """No request in flight for ``quiet`` seconds, no Odoo loading
        indicator or blocking overlay, web fonts loaded, two frames painted."""
        deadline = time.monotonic() + timeout
        busy = (
            "document.readyState !== 'complete'"
            " || !!document.querySelector('.o_loading_indicator, .o_blockUI,"
            " .o_view_sample_data .o_loading, .fa-spin')"
        )
        while time.monotonic() < deadline:
            self.js("1")  # also drains pending protocol events
            now = time.monotonic()
            pending = [
                url for url, start in self.in_flight.values() if now - start < 20
            ]
            if (
                not pending
                and time.monotonic() - self.last_activity >= quiet
                and not self.js(busy)
            ):
                self.js(
                    "document.fonts.ready.then(() => new Promise(r =>"
                    " requestAnimationFrame(() => requestAnimationFrame(r))))"
                )
                return
            time.sleep(0.1)
        raise TimeoutError(f"the page stayed busy: {pending}")

    def click(self, selector):
        """A real mouse click in the middle of the element."""
        box = self.js(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                el.scrollIntoView({{block: 'center'}});
                const r = el.getBoundingClientRect();
                return [r.x + r.width / 2, r.y + r.height / 2];
            }})()"""
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    def type_text(self, selector, text):
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)

    def screenshot(self, path):
        # no hover effect or tooltip left by the last click
        self.send(
            "Input.dispatchMouseEvent",
            type="mouseMoved",
            x=self.metrics["width"] - 1,
            y=self.metrics["height"] - 1,
        )
        time.sleep(0.3)
        self.js(
            "document.activeElement && document.activeElement.blur();"
            "window.getSelection().removeAllRanges()"
        )
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        log(f"{path.name}: {path.stat().st_size // 1024} KB")


# ----------------------------------------------------------------------
# Screens
# ----------------------------------------------------------------------
def login(page, base):
    page.goto(f"{base}/web/login")
    page.wait_for("form.oe_login_form input[name=password]")
    page.js(
        "document.querySelector('input[name=login]').value = 'admin';"
        "document.querySelector('input[name=password]').value = 'admin';"
        "document.querySelector('form.oe_login_form').submit()"
    )
    # the login answers with a redirect to the web client, or the login
    # page again with a message (wrong password, database not found)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            where = page.js(
                "[location.pathname, document.readyState,"
                " (document.querySelector('.oe_login_form .alert-danger') || {})"
                ".textContent]"
            )
        except RuntimeError:
            where = None  # the page is navigating
        if where and where[0] != "/web/login" and where[1] != "loading":
            break
        if where and where[2]:
            sys.exit(f"the login was refused: {where[2].strip()}")
        time.sleep(0.2)
    # the first visit builds the asset bundles: that can take a while; a page
    # that stays blank is a web client that failed to start (its errors are
    # printed), not a slow one
    try:
        page.wait_for(".o_main_navbar", timeout=300)
    except TimeoutError:
        text = page.js("document.body ? document.body.innerText.slice(0, 500) : ''")
        raise TimeoutError(
            f"no web client on {page.js('location.href')}: page text {text!r},"
            f" errors {page.errors}"
        ) from None


def open_action(page, base, data, xmlid, suffix="", ready=".o_view_controller"):
    """Open an action of the addon in the SMS app (``menu_id`` sets the app)."""
    query = f"?menu_id={data['menu']}"
    if "?" in suffix:
        suffix, extra = suffix.split("?", 1)
        query += f"&{extra}"
    page.goto(f"{base}/odoo/action-{ADDON}.{xmlid}{suffix}{query}")
    page.wait_for(ready)
    page.wait_idle()


def shot_dashboard(page, base, data):
    open_action(
        page,
        base,
        data,
        "clinic_sms_dashboard_action",
        ready=".o_clinic_sms_dashboard .o_clinic_sms_balance",
    )
    return "screenshot_dashboard.png"


def shot_appointment(page, base, data):
    open_action(
        page,
        base,
        data,
        "clinic_appointment_action",
        f"/{data['appointment']}",
        ready=".o_form_view .o_field_widget[name='clinic_patient_id']",
    )
    page.click(".o_notebook .nav-link[name='clinic_sms']")
    page.wait_for(".o_field_widget[name='clinic_sms_message_ids'] .o_data_row")
    page.wait_idle()
    # the patient, the status buttons and the SMS tab on one screen
    page.js("document.querySelector('.o_content').scrollTop = 0")
    return "screenshot_appointment.png"


def shot_template(page, base, data):
    open_action(
        page,
        base,
        data,
        "clinic_sms_template_action",
        f"/{data['template']}",
        ready=".o_form_view .o_field_widget[name='worst_chars_left']",
    )
    page.type_text(".o_field_widget[name='preview_event_id'] input", "Lucas")
    item = ".o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item a"
    page.wait_for(item)
    page.wait_idle(quiet=0.4)
    page.click(item)
    page.wait_for(".o_field_widget[name='preview_body'] :is(span, div, textarea)")
    page.wait_idle()
    return "screenshot_template.png"


def shot_send_wizard(page, base, data):
    open_action(page, base, data, "clinic_sms_message_action")
    page.js(
        f"""(async () => {{
            const env = odoo.__WOWL_DEBUG__.root.env;
            const model = "clinic.sms.send.wizard";
            const [id] = await env.services.orm.create(model, [{{
                template_id: {data["wizard_template"]},
                partner_ids: [[6, 0, {json.dumps(data["wizard_partners"])}]],
            }}]);
            const action = await env.services.orm.call(model, "action_review", [[id]]);
            // as the Next button would (call_button adds the views)
            await env.services.action.doAction({{...action, views: [[false, "form"]]}});
        }})()"""
    )
    page.wait_for(".modal .o_field_widget[name='line_ids'] .o_data_row")
    page.wait_idle()
    return "screenshot_send_wizard.png"


def from_dashboard(page, base, data, button, ready):
    """Open the dashboard, then the view one of its buttons opens."""
    shot_dashboard(page, base, data)
    page.click(button)
    page.wait_for(ready)
    page.wait_idle()


def shot_history(page, base, data):
    # as from the dashboard's History button: today's messages
    from_dashboard(
        page,
        base,
        data,
        ".o_statusbar_buttons button[name='action_open_history']",
        ".o_list_view .o_data_row .o_field_badge",
    )
    return "screenshot_history.png"


def shot_conversations(page, base, data):
    open_action(page, base, data, "clinic_sms_conversation_action", ready=LIST_ROW)
    return "screenshot_conversations.png"


def shot_waitlist(page, base, data):
    open_action(page, base, data, "clinic_sms_waitlist_action", ready=LIST_ROW)
    return "screenshot_waitlist.png"


def shot_forecast(page, base, data):
    # the dashboard's chart of the next 7 days' planned messages (R-10.1)
    from_dashboard(
        page,
        base,
        data,
        "button[name='action_open_forecast']",
        ".o_graph_view .o_graph_canvas_container canvas",
    )
    return "screenshot_forecast.png"


def shot_link_page(page, base, data):
    """The patient's personal page (R-9.1) on a phone, without login: a
    separate browser context, so the admin's session is not used."""
    with page.phone() as phone:
        phone.goto(f"{base}{data['link_path']}")
        phone.wait_for(".o_clinic_link form button")
        phone.wait_idle()
        phone.screenshot(data["output"] / "screenshot_link_page.png")


def shot_settings(page, base, data):
    open_action(
        page,
        base,
        data,
        "clinic_sms_config_settings_action",
        ready=f".app_settings_block[data-key='{ADDON}'] .o_setting_box",
    )
    return "screenshot_settings.png"


SCREENS = [
    shot_dashboard,
    shot_appointment,
    shot_template,
    shot_send_wizard,
    shot_history,
    shot_settings,
    shot_conversations,
    shot_waitlist,
    shot_forecast,
    shot_link_page,
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rebuild", action="store_true", help=f"drop and rebuild {DB} first"
    )
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, help="folder of the PNG files"
    )
    parser.add_argument(
        "--only", nargs="*", help="names of the screens to take (e.g. dashboard)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("CLINIC_SHOTS_PORT") or 0),
        help="HTTP port of the Odoo server ($CLINIC_SHOTS_PORT; default: a free one)",
    )
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    addons = odoo_addons_path()
    ensure_database(addons, args.rebuild)
    data = prepare_data(addons)
    data["output"] = args.output

    odoo_port, devtools_port = args.port or free_port(), free_port()
    base = f"http://{HOST}:{odoo_port}"
    odoo_process = chromium = page = None
    with (
        tempfile.TemporaryDirectory(prefix="shots_") as profile,
        tempfile.NamedTemporaryFile(
            "w+", prefix="shots_odoo_", suffix=".log"
        ) as odoo_log,
    ):
        try:
            odoo_process = start_odoo(addons, odoo_port, odoo_log)
            chromium = start_chromium(devtools_port, profile)
            page = Page(devtools_port)
            login(page, base)
            for screen in SCREENS:
                name = screen.__name__.removeprefix("shot_")
                if args.only and name not in args.only:
                    continue
                filename = screen(page, base, data)
                if filename:  # else the screen took its own picture
                    page.screenshot(args.output / filename)
            if page.errors:
                log(f"JavaScript errors: {page.errors}")
        except Exception:
            odoo_log.seek(0)
            print(odoo_log.read()[-4000:], file=sys.stderr)
            if page:
                failure = Path(tempfile.gettempdir()) / "shots_failure.png"
                page.screenshot(failure)
                log(f"failed on {page.js('location.href')}, see {failure}")
                log(f"JavaScript errors: {page.errors}")
            raise
        finally:
            if page:
                page.close()
            stop(chromium)
            stop(odoo_process)


if __name__ == "__main__":
    main()
