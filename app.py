"""Entry point: the Dash page and the voice WebSocket on one Flask server.

``python app.py`` loads the models once, warms them up and serves on
http://127.0.0.1:8050 (gunicorn, one process, a thread per open socket).
"""

from __future__ import annotations

import importlib.util
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dash
import flask
from dash import Input, Output, dcc, html

from components import admin_page, callbacks, i18n, layout, theme, transcript
from components.i18n_scripts import script_words
from core import log_format
from core.phone.routes import install_phone_routes
from core.providers.choice import allowed_base_urls
from core.providers.speech.choice import page_urls
from core.runtime import VoiceRuntime
from core.session.session_settings import SessionSettings
from core.settings import Settings, SettingsError
from core.store.conversations import ConversationStore, StoreError
from core.transport.access import AccessPolicy, install_ticket_route
from core.transport.client_address import ClientAddresses, trusted_networks
from core.transport.health import install_health_routes
from core.transport.hosts import HostPolicy
from core.transport.http_guards import install_http_guards
from core.transport.routes import install_voice_socket
from core.transport.static_cache import install_static_cache
from monitoring.metrics.admin_api import install_admin_routes
from monitoring.metrics.monitor import PerformanceMonitor, monitor_of

log = logging.getLogger("voicechat")
DRAIN_WAIT_S = 3.0  # how long a SIGTERM waits for the clients to be told and parked


def assets_folder() -> str:
    """assets/ beside this file in a checkout; the installed copy (voicechat_assets) otherwise."""
    beside = Path(__file__).resolve().parent / "assets"
    if beside.is_dir():
        return str(beside)
    spec = importlib.util.find_spec("voicechat_assets")  # a folder of files, not a module
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the page's assets are missing (assets/, or voicechat_assets installed)")
    return str(next(iter(spec.submodule_search_locations)))


def create_app(runtime: VoiceRuntime) -> dash.Dash:
    app = dash.Dash(
        __name__,
        assets_folder=assets_folder(),
        title="Voice chat",
        update_title=None,
        assets_path_ignore=["worklets"],  # loaded by audioWorklet.addModule, not as a page script
        serve_locally=True,
        suppress_callback_exceptions=True,  # each path renders only its own page's components
    )
    settings = runtime.settings
    access = ("passcode" if settings.access_passcode else "link") if settings.access_required else None
    words = script_words(app.config.assets_folder)
    drawn: dict[str, html.Div] = {}  # the voice page, drawn once per language

    def voice_page(language: str) -> html.Div:
        if language not in drawn:
            with i18n.using(language):
                privacy = transcript.privacy_note(runtime.store is not None, settings.store_retention_days)
                drawn[language] = layout.render(SessionSettings.defaults(settings),
                                                allowed_base_urls(settings), privacy, access, words,
                                                page_urls(settings))
        return drawn[language]

    app.layout = theme.provider([dcc.Location(id="page-location"), html.Div(id="page-root")])
    callbacks.register(app)  # (the component modules, imported above, declared them)
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)  # (i18n.js sets the page's)

    @app.callback(Output("page-root", "children"), Output("theme", "locale"),
                  Input("page-location", "pathname"), Input("page-location", "search"))
    def route(pathname: str | None, search: str | None) -> tuple[html.Div, Any]:
        """The voice page at / (and any other path) in the person's language, the
        metrics page at /admin (in English)."""
        if (pathname or "").rstrip("/") == admin_page.ADMIN_PATH:
            return admin_page.render(bool(settings.admin_token), runtime.history is not None), dash.no_update
        query = parse_qs((search or "").lstrip("?")).get("lang", [None])[0]
        request = flask.request
        language = i18n.negotiate(query, request.cookies.get(i18n.COOKIE), request.accept_languages)
        locale = theme.locale_of(language)
        # (setting the provider's prop, even to the value it has, draws the whole page again)
        return voice_page(language), dash.no_update if locale == theme.DEFAULT_LOCALE else locale

    server = app.server
    server.config["VOICE_RUNTIME"] = runtime
    hosts = HostPolicy(settings)
    addresses = ClientAddresses(trusted_networks(settings.trusted_proxies))
    install_http_guards(server, hosts, runtime.metrics, addresses)
    install_static_cache(server)
    policy = AccessPolicy(settings)
    install_voice_socket(server, runtime, hosts, policy)
    if settings.access_passcode:
        install_ticket_route(server, policy, runtime.metrics)
    install_admin_routes(server, runtime)
    if runtime.history is not None:  # (the admin page's charts beyond the live hour)
        monitor_of(runtime).keep_history(runtime.history.record)
    if settings.phone_enabled:
        install_phone_routes(server, runtime)
    install_health_routes(server, runtime)

    return app


def tell_clients_on_sigterm(runtime: VoiceRuntime) -> None:
    """Before gunicorn's own SIGTERM handling (stop taking requests, let them end), every
    connected client's conversation is parked (in Redis, when shared) and the client told
    to reconnect, on a thread of its own, waited for at most ``DRAIN_WAIT_S``."""
    gunicorns = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        draining = threading.Thread(target=runtime.drain, name="drain", daemon=True)
        draining.start()
        draining.join(DRAIN_WAIT_S)  # (parked in Redis before the process may exit)
        if callable(gunicorns):
            gunicorns(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)


def serve(settings: Settings) -> None:
    from gunicorn.app.base import BaseApplication

    class VoiceServer(BaseApplication):  # type: ignore[misc]
        """gunicorn with gthread workers: sockets hold a thread each, callbacks stay quick."""

        def __init__(self) -> None:
            self.runtime: VoiceRuntime | None = None
            super().__init__()

        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", 1)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", settings.threads)
            self.cfg.set("timeout", 120)
            self.cfg.set("graceful_timeout", 5)
            self.cfg.set("accesslog", None)
            self.cfg.set("control_socket_disable", True)
            self.cfg.set("worker_exit", lambda _server, _worker: self._close())

        def load(self) -> Any:
            # Runs in the worker process: models are loaded after the fork.
            runtime = self.runtime = VoiceRuntime(settings, metrics=PerformanceMonitor())
            runtime.warm_up()
            tell_clients_on_sigterm(runtime)
            log.info("ready on http://%s:%d", settings.host, settings.port)
            return create_app(self.runtime).server

        def _close(self) -> None:
            if self.runtime is not None:
                self.runtime.close()

    VoiceServer().run()


def main() -> None:
    try:
        settings = Settings.from_env()
        if problem := settings.exposure_problem():
            raise SettingsError(problem)
        if settings.store_location:  # fail here, with a clear message, not in the worker
            ConversationStore(settings.store_location).close()
    except (SettingsError, StoreError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    log_format.configure(settings.log_level, settings.log_format)
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    serve(settings)


def cli(argv: list[str] | None = None) -> None:
    """The ``voicechat`` command (``pip install .``): ``serve`` (settings from
    ``VOICECHAT_*`` variables, as README lists them) or ``ticket`` (mint a session ticket)."""
    import argparse

    parser = argparse.ArgumentParser(prog="voicechat", description="Real-time voice chat in the browser.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the page and the voice socket (VOICECHAT_HOST:VOICECHAT_PORT)")
    commands.add_parser("ticket", help="mint a session ticket with VOICECHAT_TICKET_SECRET", add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "ticket":
        from core.transport.tickets import main as mint

        sys.exit(mint(rest))
    if rest:
        parser.error(f"unknown arguments: {' '.join(rest)}")
    main()


if __name__ == "__main__":
    main()
