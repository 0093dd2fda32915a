"""What the deploy tests share: the installed tree, the programs' flags, and
the one exception (a flag landing in parallel).

The tests run on the tree `cmake --install` writes (the fixture in
CMakeLists.txt), so they check what an administrator or the Containerfile
gets, not the build directory."""

import os
import re
import shlex
import subprocess
import unittest
from functools import lru_cache

SOURCE_DIR = os.environ["GEMMA3N_SOURCE_DIR"]
PREFIX = os.environ["GEMMA3N_INSTALL_PREFIX"]
BIN_DIR = os.path.join(PREFIX, "bin")
UNIT_DIR = os.path.join(PREFIX, "lib", "systemd", "system")
DEPLOY_DIR = os.path.join(SOURCE_DIR, "deploy")

# --metrics HOST:PORT on every binary lands in parallel (issue #15 point 5);
# until then it is the one flag a deployment may pass that --help does not
# list. Remove it from here once every binary has it.
FLAGS_LANDING_IN_PARALLEL = {"--metrics"}

_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


@lru_cache(maxsize=None)
def help_flags(program):
    """The flags PROGRAM's --help names."""
    path = os.path.join(BIN_DIR, program)
    done = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30)
    text = done.stdout + done.stderr
    if done.returncode != 0 or "usage" not in text:
        raise AssertionError(f"{path} --help failed ({done.returncode}): {text[:500]}")
    return frozenset(_FLAG.findall(text))


def flags_of(args):
    """The --flag names among ARGS (--name or --name=value)."""
    return [a.split("=", 1)[0] for a in args if _FLAG.fullmatch(a.split("=", 1)[0])]


def unknown_flags(program, args):
    """The flags in ARGS that PROGRAM's --help does not name."""
    known = help_flags(program) | FLAGS_LANDING_IN_PARALLEL
    return [f for f in flags_of(args) if f not in known]


def installed_programs():
    return sorted(f for f in os.listdir(BIN_DIR) if not f.endswith(".so"))


def split_words(text):
    return shlex.split(text, comments=False, posix=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def main():
    unittest.main(verbosity=2)
