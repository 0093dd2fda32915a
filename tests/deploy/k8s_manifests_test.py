"""Each overlay renders with `kubectl kustomize`, every object deserialises
strictly (k8s_strict), every container runs an installed program with flags
its --help has, and each $(VAR) in the args is defined for the container."""

import os
import re
import unittest

import yaml

import deploy_checks as dc
import k8s_strict

OVERLAYS = ["e2b", "e4b"]
K8S_DIR = os.path.join(dc.DEPLOY_DIR, "k8s")


def render(overlay):
    done = dc.run(["kubectl", "kustomize", os.path.join(K8S_DIR, "overlays", overlay)])
    if done.returncode != 0:
        raise AssertionError(f"kubectl kustomize {overlay}: {done.stderr}")
    return [o for o in yaml.safe_load_all(done.stdout) if o]


def pod_specs(objects):
    for o in objects:
        if o["kind"] == "Deployment":
            yield o["metadata"]["name"], o["spec"]["template"]["spec"]


class K8sManifestsTest(unittest.TestCase):
    def test_strict_check_catches_a_misspelt_field(self):
        # The checker itself: a typo anywhere in the tree is found.
        bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
               "spec": {"selector": {}, "template": {"spec": {"containers": [
                   {"name": "c", "readinessProbe": {"grpc": {"prot": 1}}}]}}}}
        self.assertTrue(any("'prot'" in e for e in k8s_strict.check(bad)), k8s_strict.check(bad))

    def test_every_object_deserialises_strictly(self):
        for overlay in OVERLAYS:
            objects = render(overlay)
            kinds = sorted({o["kind"] for o in objects})
            self.assertEqual(kinds, ["ConfigMap", "Deployment", "HorizontalPodAutoscaler",
                                     "PersistentVolumeClaim", "Service"], overlay)
            for o in objects:
                self.assertEqual(k8s_strict.check(o), [], overlay)

    def test_containers_run_installed_programs_with_flags_they_have(self):
        programs = dc.installed_programs()
        for overlay in OVERLAYS:
            objects = render(overlay)
            config = {o["metadata"]["name"]: o["data"] for o in objects if o["kind"] == "ConfigMap"}
            for name, spec in pod_specs(objects):
                for c in spec["containers"]:
                    where = f"{overlay} {name}/{c['name']}"
                    program = c["command"][0]
                    self.assertIn(program, programs, where)
                    self.assertEqual(dc.unknown_flags(program, c.get("args", [])), [], where)
                    defined = {e["name"] for e in c.get("env", [])}
                    for source in c.get("envFrom", []):
                        defined |= set(config[source["configMapRef"]["name"]])
                    for arg in c.get("args", []):
                        for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
                            self.assertIn(var, defined, f"{where}: $({var}) is not defined")

    def test_pods_run_as_the_images_user_with_a_read_only_root(self):
        with open(os.path.join(dc.DEPLOY_DIR, "Containerfile")) as f:
            user = re.findall(r"^USER\s+(\d+):(\d+)", f.read(), re.M)[-1]
        for overlay in OVERLAYS:
            for name, spec in pod_specs(render(overlay)):
                sc = spec["securityContext"]
                self.assertEqual((str(sc["runAsUser"]), str(sc["runAsGroup"])), user, name)
                self.assertTrue(sc["runAsNonRoot"], name)
                for c in spec["containers"]:
                    self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"], name)
                    self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"], name)

    def test_the_text_pod_shares_shm_sockets_and_pids_with_its_ple_sidecar(self):
        for overlay in OVERLAYS:
            spec = dict(pod_specs(render(overlay)))["gemma3n-text-worker"]
            self.assertTrue(spec["shareProcessNamespace"])
            shm = [v for v in spec["volumes"] if v["name"] == "shm"][0]
            self.assertEqual(shm["emptyDir"]["medium"], "Memory")
            mounts = {c["name"]: {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
                      for c in spec["containers"]}
            for c in ("text-worker", "ple-service"):
                self.assertEqual(mounts[c]["/dev/shm"], "shm", c)
                self.assertEqual(mounts[c]["/run/gemma3n"], "sockets", c)


if __name__ == "__main__":
    dc.main()
