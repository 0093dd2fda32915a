"""The systemd units as installed: systemd-analyze verify finds nothing, the
sandbox rates OK, every flag they (and the environment file) pass exists in
the program's --help, MemoryDenyWriteExecute= can hold, and their command
lines, run as they are on the tiny model, serve a request."""

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import deploy_checks as dc

ENV_FILE = os.path.join(dc.PREFIX, "share", "gemma3n", "gemma3n.env")
SERVICES = ["gemma3n-ple-service", "gemma3n-text-worker", "gemma3n-vision-worker",
            "gemma3n-audio-worker", "gemma3n-gateway"]


def unit_path(name):
    return os.path.join(dc.UNIT_DIR, name)


def exec_start(service):
    with open(unit_path(service + ".service")) as f:
        lines = [l.strip() for l in f if l.strip().startswith("ExecStart=")]
    assert len(lines) == 1, f"{service}: {len(lines)} ExecStart= lines"
    return dc.split_words(lines[0][len("ExecStart="):])


def expand(words, env):
    """systemd's expansion of ExecStart= words: ${NAME} is one word, $NAME
    splits into words."""
    out = []
    for w in words:
        m = re.fullmatch(r"\$(\{)?([A-Z][A-Z0-9_]*)\}?", w)
        if not m:
            out.append(w)
        elif m.group(1):
            out.append(env.get(m.group(2), ""))
        else:
            out += dc.split_words(env.get(m.group(2), ""))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_assignments():
    """NAME -> [values] of the environment file, the commented examples
    ("# NAME=...") included: they are what users uncomment."""
    out = {}
    with open(ENV_FILE) as f:
        for line in f:
            m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
            if m:
                value = dc.split_words(m.group(2))
                out.setdefault(m.group(1), []).append(" ".join(value))
    return out


class SystemdUnitsTest(unittest.TestCase):
    def test_every_process_has_a_unit_and_the_target_wants_the_core(self):
        for s in SERVICES:
            self.assertTrue(os.path.isfile(unit_path(s + ".service")), s)
        with open(unit_path("gemma3n.target")) as f:
            target = f.read()
        for s in ["gemma3n-ple-service", "gemma3n-text-worker", "gemma3n-gateway"]:
            self.assertIn(s + ".service", target)

    def test_systemd_analyze_verify_finds_nothing(self):
        # verify exits 0 on an unknown key or a value it cannot parse and only
        # prints a line, so every printed line is a failure.
        units = [unit_path(s + ".service") for s in SERVICES] + [unit_path("gemma3n.target")]
        done = dc.run(["systemd-analyze", "verify", "--man=no", "--generators=no"] + units)
        self.assertEqual((done.returncode, done.stdout + done.stderr), (0, ""))

    def test_the_sandbox_rates_ok(self):
        for s in SERVICES:
            done = dc.run(["systemd-analyze", "security", "--offline=yes", unit_path(s + ".service")])
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", done.stdout)
            self.assertIsNotNone(m, done.stdout + done.stderr)
            self.assertIn(m.group(2), ("SAFE", "OK"), f"{s}: exposure {m.group(1)} {m.group(2)}")

    def test_exec_start_runs_an_installed_program_with_flags_it_has(self):
        env = env_assignments()
        for s in SERVICES:
            words = exec_start(s)
            program = os.path.basename(words[0])
            self.assertEqual(words[0], os.path.join(dc.BIN_DIR, program))
            args = list(words[1:])
            for w in words[1:]:
                m = re.fullmatch(r"\$\{?([A-Z][A-Z0-9_]*)\}?", w)
                if m:
                    # A misspelt variable would silently pass nothing.
                    self.assertIn(m.group(1), env, f"{s}: ${m.group(1)} is not in gemma3n.env")
                    for value in env[m.group(1)]:
                        args += dc.split_words(value)
            self.assertEqual(dc.unknown_flags(program, args), [], f"{s}: flags {program} --help lacks")

    def test_the_units_command_lines_serve_a_request(self):
        # The units' ExecStart= lines with the shipped env file's values, run
        # without systemd: /run/gemma3n and /var/cache/gemma3n moved to a
        # temporary directory, the model the tiny one, free ports.
        work = tempfile.mkdtemp(prefix="gemma3n-units-")
        env = {k: v[0] for k, v in env_assignments().items()}
        env["GEMMA3N_MODEL"] = os.path.join(dc.SOURCE_DIR, "tests", "data", "gemma3n-tiny")
        grpc_port, http_port = free_port(), free_port()
        env["GEMMA3N_GATEWAY_FLAGS"] = env["GEMMA3N_GATEWAY_FLAGS"].replace(
            "127.0.0.1:50051", f"127.0.0.1:{grpc_port}").replace("127.0.0.1:8080", f"127.0.0.1:{http_port}")
        self.assertIn(str(http_port), env["GEMMA3N_GATEWAY_FLAGS"])
        processes = []
        try:
            for s in SERVICES:
                words = [w.replace("/run/gemma3n", work).replace("/var/cache/gemma3n", work)
                         for w in expand(exec_start(s), env)]
                log = open(os.path.join(work, s + ".log"), "w")
                processes.append(subprocess.Popen(words, stdout=log, stderr=subprocess.STDOUT))
            health = self._wait_until_all_up(http_port, processes, work)
            self.assertEqual(health.get("down", []), [])
            body = json.dumps({"prompt": "Hello", "max_tokens": 2}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{http_port}/v1/completions", body,
                                             {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as reply:
                answer = json.load(reply)
            self.assertEqual(answer["usage"]["completion_tokens"], 2, answer)
        finally:
            for p in processes:
                p.terminate()
            for p in processes:
                p.wait(timeout=30)
            shutil.rmtree(work, ignore_errors=True)

    def _wait_until_all_up(self, http_port, processes, work):
        # A bound so that a broken unit fails the test rather than hanging it.
        last = None
        for _ in range(600):
            for p in processes:
                if p.poll() is not None:
                    logs = "".join(open(f).read()[-2000:] for f in glob.glob(os.path.join(work, "*.log")))
                    self.fail(f"{p.args[0]} exited {p.returncode}:\n{logs}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=5) as reply:
                    last = json.load(reply)
                if not last.get("down"):
                    return last
            except OSError:
                pass
            time.sleep(0.1)
        return last or {}

    def test_no_linked_library_asks_for_an_executable_stack(self):
        # MemoryDenyWriteExecute= refuses an executable stack, which the
        # loader would have to set up for such a library.
        objects = set()
        for p in glob.glob(os.path.join(dc.BIN_DIR, "*")):
            objects.add(p)
            for line in dc.run(["ldd", p]).stdout.splitlines():
                m = re.search(r"=> (/\S+)", line)
                if m:
                    objects.add(os.path.realpath(m.group(1)))
        for o in sorted(objects):
            headers = dc.run(["readelf", "-lW", o]).stdout
            stack = [l for l in headers.splitlines() if "GNU_STACK" in l]
            self.assertTrue(stack, f"{o}: no GNU_STACK header")
            self.assertNotRegex(stack[0].split()[-2], "E", f"{o}: executable stack")


if __name__ == "__main__":
    dc.main()
