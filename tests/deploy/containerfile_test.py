"""deploy/Containerfile, checked without building it (no registry here): its
build stage installs setup.sh's build package list and the tree `cmake
--install` writes, its runtime stage copies that tree and installs
deploy/runtime-packages.txt, which must hold the package of every shared
library the installed programs link, and no development package."""

import glob
import os
import re
import unittest

import deploy_checks as dc

CONTAINERFILE = os.path.join(dc.DEPLOY_DIR, "Containerfile")
RUNTIME_PACKAGES = os.path.join(dc.DEPLOY_DIR, "runtime-packages.txt")


def stages():
    """[(name, [instruction lines])] with continuation lines joined."""
    with open(CONTAINERFILE) as f:
        text = re.sub(r"\\\n", " ", f.read())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            words = line.split()
            out.append((words[3] if len(words) > 3 else words[1], []))
        out[-1][1].append(line)
    return out


def runtime_packages():
    with open(RUNTIME_PACKAGES) as f:
        return {l.split("#", 1)[0].strip() for l in f} - {""}


def packages_of(paths):
    """path -> the Debian package holding it (one dpkg-query for all; the
    path may be the /lib alias of a file dpkg knows under /usr/lib)."""
    candidates = {p: [p, os.path.realpath(p), "/usr" + p] for p in paths}
    done = dc.run(["dpkg-query", "-S"] + sorted({c for cs in candidates.values() for c in cs}))
    owner = {}
    for line in done.stdout.splitlines():
        package, _, path = line.partition(": ")
        owner[path] = package.split(":", 1)[0]
    out = {}
    for p, cs in candidates.items():
        found = [owner[c] for c in cs if c in owner]
        if not found:
            raise AssertionError(f"no Debian package holds {p}")
        out[p] = found[0]
    return out


def linked_packages():
    """The packages of the libraries the installed programs name (NEEDED)."""
    paths = set()
    for program in glob.glob(os.path.join(dc.BIN_DIR, "*")):
        resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", dc.run(["ldd", program]).stdout, re.M))
        needed = re.findall(r"^\s*NEEDED\s+(\S+)", dc.run(["objdump", "-p", program]).stdout, re.M)
        for lib in needed:
            if lib not in resolved:
                raise AssertionError(f"{program}: {lib} not found")
            paths.add(resolved[lib])
    return set(packages_of(paths).values())


class ContainerfileTest(unittest.TestCase):
    def test_two_stages_on_debian_12(self):
        s = stages()
        self.assertEqual([name for name, _ in s][0], "build")
        self.assertEqual(len(s), 2)
        for _, lines in s:
            self.assertRegex(lines[0], r"^FROM (docker\.io/library/)?debian:12(-slim)?\b")

    def test_build_stage_installs_setup_sh_build_packages_and_the_cmake_install_tree(self):
        build = " ".join(stages()[0][1])
        self.assertIn("scripts/setup.sh --list-build-packages", build)
        self.assertIn("cmake --install", build)
        listed = dc.run(["bash", os.path.join(dc.SOURCE_DIR, "scripts", "setup.sh"), "--list-build-packages"])
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("libgrpc++-dev", listed.stdout.split())

    def test_runtime_stage_copies_the_installed_tree_and_runs_as_a_user(self):
        runtime = stages()[1][1]
        copies = [l for l in runtime if l.startswith("COPY --from=build")]
        self.assertEqual(copies, ["COPY --from=build /staging/usr/local /usr/local"])
        self.assertRegex([l for l in runtime if l.startswith("USER ")][-1], r"^USER [1-9]\d*:[1-9]\d*$")
        self.assertTrue(any("runtime-packages.txt" in l for l in runtime))

    def test_runtime_packages_hold_every_linked_library_and_no_dev_package(self):
        listed = runtime_packages()
        missing = sorted(linked_packages() - listed - {"libc6", "libgcc-s1", "libstdc++6"})
        self.assertEqual(missing, [], "add to deploy/runtime-packages.txt")
        self.assertEqual(sorted(p for p in listed if p.endswith("-dev")), [])


if __name__ == "__main__":
    dc.main()
