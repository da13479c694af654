"""``kuaijian demo``: the whole chain on embedded defaults, each part a real process.

LIMS (SQLite under the data dir) → enrol a gateway → simulated instruments on
ptys / TCP → gateway daemon → results on the LIMS page; optionally stop after N
results and export an audit bundle.
"""

from __future__ import annotations

import secrets
import signal
import shutil
import socket
import subprocess
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
import tomli_w
from rich.console import Console

from .demo_evidence import REPLAY_EVERY, camera_section, start_camera, with_plausibility
from .demo_room import (
    CHECKPOINT_EVERY_S,
    DemoBusy,
    ResultPrinter,
    at_room_pace,
    room_labeller,
    claim_folder,
    sign_checkpoint,
    stopped_simulators,
)
from .procs import Child, ChildError, python_module, start

SITE = {"id": "yz-market-07", "kind": "market", "name": "渝中区七星岗农贸市场"}
GATEWAY_ID = "gw-demo-01"
TECHNICIAN = "tech-001"
"""The demo room's technician: the gateway's default operator (``gateway init``), enrolled at the site."""
DISTRICT_ID = "yz"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> str | None:
    """Why the LIMS cannot listen on 127.0.0.1:``port`` (another server holds it), or None when it can."""
    if port == 0:
        return None
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return (f"port {port} on 127.0.0.1 is in use ({exc.strerror}); another server is listening there. "
                    f"Choose another port: kuaijian demo --port 8701 (make demo DEMO_PORT=8701), "
                    f"or --port 0 to take any free port (the pages' addresses are printed)")
    return None


def simulators(data_dir: Path) -> list[tuple[str, list[str], dict[str, object]]]:
    """(name, simulator argv, gateway instrument entry) for each demo instrument."""
    enzyme_link, rtu_link, astm_link, line_link = (str(data_dir / name)
                                                   for name in ("ttyEI01", "ttyGR01", "ttyFS01", "ttyNY01"))
    tcp_port, cg8_port = free_port(), free_port()
    gold = ("firmware_sim", "gold", "--interval", "0.5")
    return [
        (
            "sim-enzyme",
            python_module("firmware_sim", "enzyme", "--link", enzyme_link, "--interval", "0.5",
                          "--channels", "4", "--seed", "7", "--replay-every", str(REPLAY_EVERY)),
            {"id": "ei-01", "driver": "enzyme_inhibition", "options": {"port": enzyme_link}},
        ),
        (
            "sim-gold-rtu",
            python_module(*gold, "--profile", "gr100", "--rtu-link", rtu_link, "--seed", "8", "--serial", "GR2026001"),
            {"id": "gr-rtu-01", "driver": "modbus_profile",
             "options": {"profile": "gr100", "transport": "rtu", "port": rtu_link, "poll_interval_s": 0.2}},
        ),
        (
            "sim-gold-tcp",
            python_module(*gold, "--profile", "gr100", "--tcp", f"127.0.0.1:{tcp_port}", "--seed", "9",
                          "--serial", "GR2026002"),
            {"id": "gr-tcp-01", "driver": "modbus_profile",
             "options": {"profile": "gr100", "transport": "tcp", "host": "127.0.0.1", "port": tcp_port,
                         "poll_interval_s": 0.2}},
        ),
        (
            "sim-cg8-tcp",
            python_module(*gold, "--profile", "huaxin-cg8", "--tcp", f"127.0.0.1:{cg8_port}", "--seed", "10",
                          "--serial", "CG8-0042"),
            {"id": "cg8-01", "driver": "modbus_profile",
             "options": {"profile": "huaxin-cg8", "transport": "tcp", "host": "127.0.0.1", "port": cg8_port,
                         "poll_interval_s": 0.2}},
        ),
        (
            "sim-astm",
            python_module("firmware_sim", "astm", "--link", astm_link, "--interval", "1.0", "--seed", "11",
                          "--reply-timeout", "2"),
            {"id": "fs-01", "driver": "astm_quantitative", "options": {"port": astm_link}},
        ),
        (
            "sim-line",
            python_module("firmware_sim", "line", "--profile", "ny10-line", "--link", line_link, "--interval", "1.0",
                          "--seed", "12"),
            {"id": "ny-01", "driver": "serial_line_profile", "options": {"profile": "ny10-line", "port": line_link}},
        ),
    ]


def wait_http(url: str, timeout: float, child: Child) -> None:
    """Poll ``url`` until it answers 200, failing early if ``child`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise ChildError(f"{child.name} exited with {child.process.returncode}; see {child.log_path}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise ChildError(f"{url} did not answer within {timeout:.0f} s; see {child.log_path}")


@dataclass
class Lims:
    """A running LIMS child with what a caller needs to talk to it."""

    child: Child
    url: str
    db_url: str
    admin_token: str


DEMO_TREE_HEAD_MIN = 0.5
"""The demo signs a tree head every 30 s (production: 10 min), so new results are provable soon."""


def start_lims(data_dir: Path, port: int, logs: Path) -> Lims:
    """Start the LIMS on 127.0.0.1:``port`` (0: a free port) with SQLite under ``data_dir``."""
    return start_lims_on(data_dir, logs, port=port or free_port(),
                         db_url=f"sqlite:///{(data_dir / 'lims.sqlite3').resolve()}",
                         admin_token=secrets.token_urlsafe(16))


def start_lims_on(data_dir: Path, logs: Path, *, port: int, db_url: str, admin_token: str) -> Lims:
    """Start the LIMS on 127.0.0.1:``port`` with the database at ``db_url`` (a restart passes the same three)."""
    child = start("lims", python_module("lims_api", "serve", "--host", "127.0.0.1", "--port", str(port),
                                        "--db", db_url, "--data-dir", str(data_dir)), logs,
                  env={"KUAIJIAN_LIMS_ADMIN_TOKEN": admin_token,  # never in argv, which every user can read
                       "KUAIJIAN_LIMS_TREE_HEAD_INTERVAL_MIN": str(DEMO_TREE_HEAD_MIN)})
    lims = Lims(child, f"http://127.0.0.1:{port}", db_url, admin_token)
    wait_http(f"{lims.url}/healthz", 30, child)
    return lims


def prepare_gateway(data_dir: Path, lims: Lims, instruments: list[dict[str, object]], room_port: int = 0,
                    camera_url: str | None = None) -> Path:
    """Create the gateway's config and key with the CLI and enrol its key; return the config path.

    The room page listens on ``room_port`` (0: any free port, see the status file); with ``camera_url``
    the room takes a snapshot per result from that camera.
    """
    gw_dir = data_dir / "gateway"
    subprocess.run(
        python_module("kuaijian.cli", "gateway", "init", "--dir", str(gw_dir), "--gateway-id", GATEWAY_ID,
                      "--site-id", SITE["id"], "--site-kind", SITE["kind"], "--site-name", SITE["name"],
                      "--lims-url", lims.url),
        check=True, capture_output=True,
    )
    config_path = gw_dir / "gateway.toml"
    config = tomllib.loads(config_path.read_text("utf-8"))
    config["instruments"] = instruments
    config["lims"]["retry_max_s"] = 2.0
    config["room_page"] = {"port": room_port}
    if camera_url is not None:
        config["camera"] = camera_section(camera_url)
    config_path.write_text(tomli_w.dumps(config), "utf-8")
    out = subprocess.run(python_module("kuaijian.cli", "gateway", "pubkey", "--config", str(config_path)),
                         check=True, capture_output=True, text=True).stdout
    enrol = httpx.post(f"{lims.url}/api/v1/gateways", headers={"Authorization": f"Bearer {lims.admin_token}"},
                       json={"gateway": GATEWAY_ID, "site": SITE, "public_key": out.split()[0]}, timeout=10)
    enrol.raise_for_status()
    return config_path


def create_demo_people(lims: Lims) -> dict[str, tuple[str, str]]:
    """Put the demo site in district 渝中区 and create its technician (the gateway's operator), market manager
    and the district's regulator.

    Returns role -> (username, password).
    """
    def admin(method: str, path: str, body: dict[str, object]) -> None:
        answer = httpx.request(method, f"{lims.url}/api/v1/admin{path}", json=body, timeout=10,
                               headers={"Authorization": f"Bearer {lims.admin_token}"})
        answer.raise_for_status()

    admin("POST", "/districts", {"id": DISTRICT_ID, "name": "渝中区"})
    admin("PUT", f"/sites/{SITE['id']}", {"kind": SITE["kind"], "name": SITE["name"], "district_id": DISTRICT_ID})
    people = {}
    for role, scope in (("technician", {"site_ids": [SITE["id"]]}), ("manager", {"site_ids": [SITE["id"]]}),
                        ("regulator", {"district_id": DISTRICT_ID})):
        people[role] = (TECHNICIAN if role == "technician" else f"demo.{role}", secrets.token_urlsafe(9))
        admin("POST", "/users", {"username": people[role][0], "password": people[role][1], "role": role, **scope})
    return people


DEMO_BADGE, DEMO_PIN, DEMO_TECHNICIAN_NAME = "DEMO-T-0001", "2468", "王芳"
"""How the demo's technician signs in at the room page (badge barcode, or name + PIN)."""


def enrol_demo_technician(lims: Lims) -> str:
    """Give the demo technician a room-page badge and PIN (the gateway fetches them at start); their id."""
    answer = httpx.put(f"{lims.url}/api/v1/admin/users/{TECHNICIAN}/room-sign-in", timeout=10,
                       headers={"Authorization": f"Bearer {lims.admin_token}"},
                       json={"display_name": DEMO_TECHNICIAN_NAME, "pin": DEMO_PIN, "badge": DEMO_BADGE})
    answer.raise_for_status()
    return str(answer.json()["technician_id"])


def start_gateway(config_path: Path, logs: Path) -> Child:
    """Start ``kuaijian gateway run`` on ``config_path`` as a child process."""
    return start("gateway", python_module("kuaijian.cli", "gateway", "run", "--config", str(config_path)), logs)


def stored_count(lims: Lims) -> int:
    """How many of the demo gateway's envelopes the LIMS holds (0 while it does not answer)."""
    try:
        chain = httpx.get(f"{lims.url}/api/v1/gateways/{GATEWAY_ID}/chain", timeout=2.0,
                          headers={"Authorization": f"Bearer {lims.admin_token}"})
    except httpx.HTTPError:
        return 0
    return int(chain.json().get("count", 0)) if chain.status_code == 200 else 0


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM stops the demo like Ctrl-C, so its child processes are stopped too."""
    raise KeyboardInterrupt


def run_demo(*, results: int, export: Path | None, data_dir: Path, port: int, console: Console,
             fast: bool = True) -> int:
    """Run the demo; returns the process exit code (2: the LIMS port or the folder is taken, nothing started)."""
    busy = port_in_use(port)
    if busy is not None:
        console.print(f"[red]demo not started:[/red] {busy}")
        return 2
    try:
        folder_lock = claim_folder(data_dir)  # held until this process exits
    except DemoBusy as exc:
        console.print(f"[red]demo not started:[/red] {exc}")
        return 2
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    shutil.rmtree(data_dir, ignore_errors=True)
    logs = data_dir / "logs"
    logs.mkdir(parents=True)
    children: list[Child] = []
    labeller = None
    started = time.monotonic()
    try:
        lims = start_lims(data_dir, port, logs)
        children.append(lims.child)
        instruments, sims = [], []
        for name, argv, instrument in simulators(data_dir):
            sims.append((name, instrument))
            children.append(start(name, argv if fast else at_room_pace(name, argv), logs, ready_prefix="READY"))
            instruments.append(with_plausibility(instrument))
        camera, camera_url = start_camera(logs)
        children.append(camera)
        room_port = free_port()
        config_path = prepare_gateway(data_dir, lims, instruments, room_port, camera_url)
        people = create_demo_people(lims)
        technician_id = enrol_demo_technician(lims)
        children.append(start_gateway(config_path, logs))
        if not fast:  # the room's technician labels each sample before it is tested
            labeller = room_labeller(f"http://127.0.0.1:{room_port}", sims, TECHNICIAN)
            labeller.start()
        console.print(f"test-room page:   [bold]http://127.0.0.1:{room_port}/[/bold]  (label samples here; sign in"
                      f" with badge {DEMO_BADGE}, or {DEMO_TECHNICIAN_NAME} + PIN {DEMO_PIN}: results carry"
                      f" {technician_id})")
        console.print(f"公示 public notice: [bold]{lims.url}/public/sites/{SITE['id']}[/bold]")
        console.print(f"market board:     [bold]{lims.url}/board/{SITE['id']}[/bold]"
                      f"  (log in as {' / '.join(people['manager'])})")
        console.print(f"regulator console: [bold]{lims.url}/console[/bold]  (log in as {' / '.join(people['regulator'])})")
        console.print(f"flagged results:  [bold]{lims.url}/console/flagged[/bold]  (replayed readings, too-fast "
                      "channels, camera snapshots)")
        console.print(f"result check:     each 公示 row's QR code opens {lims.url}/public/results/<id>, verified in "
                      f"the browser (a Merkle tree head is signed every {DEMO_TREE_HEAD_MIN * 60:.0f} s)")
        console.print(f"logs in {logs}")
        _wait_for_results(lims, results, {str(i["id"]) for i in instruments}, children, console, data_dir)
        console.print(f"{stored_count(lims)} result(s) stored at the LIMS after {time.monotonic() - started:.1f} s")
        _stop(children[1:])
        if export is not None:
            shutil.rmtree(export, ignore_errors=True)
            subprocess.run(python_module("lims_api", "checkpoint", "--db", lims.db_url, "--data-dir", str(data_dir)),
                           check=True, capture_output=True)
            subprocess.run(python_module("lims_api", "export", "--db", lims.db_url, "--out", str(export)), check=True)
            console.print(f"bundle written to {export}; check it with: kuaijian audit verify {export}")
        return 0
    except (ChildError, httpx.HTTPError, subprocess.CalledProcessError) as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        return 1
    finally:
        if labeller is not None:
            labeller.stop.set()
        _stop(children)
        folder_lock.close()


def instruments_seen(lims: Lims) -> set[str]:
    """Instrument ids among the LIMS's newest results (empty while it does not answer)."""
    try:
        answer = httpx.get(f"{lims.url}/api/v1/results", params={"site": SITE["id"], "limit": 1000},
                           headers={"Authorization": f"Bearer {lims.admin_token}"}, timeout=5.0)
    except httpx.HTTPError:
        return set()
    if answer.status_code != 200:
        return set()
    return {item["result"]["instrument"]["id"] for item in answer.json()["results"]}


def _wait_for_results(lims: Lims, results: int, instruments: set[str], children: list[Child],
                      console: Console, data_dir: Path) -> None:
    """Block until ``results`` are stored and every instrument has delivered one (forever when 0).

    Prints one line per stored result and signs a checkpoint once results arrive and every
    ``CHECKPOINT_EVERY_S``. A simulator that stops is reported as an outage; the LIMS, the gateway or
    the camera stopping ends the demo.
    """
    printer = ResultPrinter(lims.url, lims.admin_token, SITE["id"], console)
    reported: set[str] = set()
    next_checkpoint = None
    try:
        while results <= 0 or stored_count(lims) < results or not instruments <= instruments_seen(lims):
            for child in children:
                if not child.name.startswith("sim-") and child.process.poll() is not None:
                    raise ChildError(f"{child.name} exited with {child.process.returncode}; see {child.log_path}")
            stopped_simulators(children, reported, console)
            if printer.poll() and next_checkpoint is None:
                next_checkpoint = time.monotonic()
            if next_checkpoint is not None and time.monotonic() >= next_checkpoint:
                sign_checkpoint(lims.db_url, data_dir, console)
                next_checkpoint = time.monotonic() + CHECKPOINT_EVERY_S
            time.sleep(0.5)
        printer.poll()  # the results stored since the last round
    except KeyboardInterrupt:
        console.print("stopping…")


def _stop(children: list[Child]) -> None:
    for child in reversed(children):
        child.stop()
