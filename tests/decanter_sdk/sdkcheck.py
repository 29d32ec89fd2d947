"""What every SDK script under tests/decanter_sdk/ shares: the check counter that prints a
line per check and a summary at the end, an observer of the server that uses plain
`requests` (never to drive the SDK), the common command line and the SDK connection.

Each script is run by tests/decanter_sdk.rs against a fresh automl-server as

    python SCRIPT.py --host http://127.0.0.1:PORT --user U --password P --workdir DIR
"""
import argparse
import asyncio
import logging
import math
import os
import sys
import traceback

import requests

from decanter import core


# ---------------------------------------------------------------------------- checks


class CheckFailed(Exception):
    pass


class Checks:
    def __init__(self, keep_going):
        self.keep_going = keep_going
        self.passed = 0
        self.failed = []

    def __call__(self, cond, what, detail=None):
        if not cond:
            message = what if detail is None else "%s: %s" % (what, detail)
            print("FAIL: %s" % message, flush=True)
            raise CheckFailed(message)
        self.passed += 1
        print("ok %3d  %s" % (self.passed, what), flush=True)

    def scenario(self, title, body):
        """Runs one scenario; a failed check ends it (and, unless keep_going, the run)."""
        print("== %s" % title, flush=True)
        try:
            body()
        except CheckFailed as err:
            self.failed.append("%s: %s" % (title, err))
            if not self.keep_going:
                finish(self)
        except Exception as err:  # an SDK call blew up: report it as a failure
            traceback.print_exc()
            message = "%s: unexpected %s: %s" % (title, type(err).__name__, err)
            print("FAIL: %s" % message, flush=True)
            self.failed.append(message)
            if not self.keep_going:
                finish(self)


def script_name():
    """`workflow`, `cluster`, ...: the running script's name, for the summary line."""
    return os.path.splitext(os.path.basename(sys.argv[0]))[0]


def finish(checks):
    if checks.failed:
        print(
            "%s: %d checks passed, %d failed:" % (script_name(), checks.passed, len(checks.failed)),
            flush=True,
        )
        for failure in checks.failed:
            print("  - %s" % failure, flush=True)
        sys.exit(1)
    print("%s: %d checks passed" % (script_name(), checks.passed), flush=True)
    sys.exit(0)


def is_number(value):
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )



class Server:
    """Observes the server directly (never drives the workflow)."""

    def __init__(self, host, user, password):
        self.host = host
        self.auth = (user, password)

    def get(self, path):
        resp = requests.get(self.host + path, auth=self.auth, timeout=20)
        resp.raise_for_status()
        return resp.json()



def arguments(description, extra=None):
    """The common command line (plus `extra(parser)` additions), parsed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--keep-going", action="store_true")
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def connect(args, check):
    """A CoreClient for the server; exits with a FAIL line if its health check fails."""
    try:
        client = core.CoreClient(username=args.user, password=args.password, host=args.host)
    except SystemExit as err:  # Context.healthy(): GET /v2/worker/status failed
        print(
            "FAIL: CoreClient(): the health check (GET /v2/worker/status) failed: %s"
            % (str(err) or "a non-2xx answer"),
            flush=True,
        )
        sys.exit(1)
    check(True, "CoreClient(): connected, health check passed")
    return client


class SdkErrors(logging.Handler):
    """Collects the SDK's ERROR log lines (a failed submit is only logged by the SDK)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.lines = []
        logging.getLogger("decanter").addHandler(self)

    def emit(self, record):
        self.lines.append(record.getMessage())


def run_stage(client, check, title, errors=None):
    """client.run() for the jobs declared since the last run; a raise is a failure."""
    if errors is not None:
        del errors.lines[:]
    try:
        client.run()
    except Exception as err:  # the SDK raises out of run() when a request fails
        traceback.print_exc()
        message = "%s: client.run() raised %s: %s" % (title, type(err).__name__, err)
        if errors is not None and errors.lines:
            # the SDK logs a failed submit and goes on polling task 'None': the server's
            # answer to the submit is in its error log
            message += "; SDK errors logged: " + " | ".join(sorted(set(errors.lines)))
        print("FAIL: %s" % message, flush=True)
        check.failed.append(message)
        if not check.keep_going:
            finish(check)
        # --keep-going only: drop the stage's unfinished coroutines (SDK internals) so
        # that the later stages can still run
        loop = core.Context.LOOP
        for task in core.Context.CORO_TASKS:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*core.Context.CORO_TASKS, return_exceptions=True))
        core.Context.CORO_TASKS = []
