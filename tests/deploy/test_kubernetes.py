"""deploy/kubernetes/: the base and the example overlay render with kustomize, every document
fits Kubernetes' schemas (KEDA's against tests/deploy/keda.py), and what they say agrees with
how civicpanel runs: every README setting once, in a Secret when it is one; /healthz probes on
the port gunicorn listens on; a worker and a KEDA ScaledObject per queue, reading the Redis list
RQ really uses; a migration Job per service; one host name whose paths are the services' public
addresses; non-root, read-only pods; a disruption budget for each Deployment."""

from __future__ import annotations

import copy
import os
import re
import sqlite3
import subprocess
import sys
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import requests
from redis import Redis

from shared.bus import queue_for
from shared.config import (
    PRODUCTION_SECRETS,
    ConfigError,
    check_production_secrets,
    settings_from_env,
)
from shared.messages import MESSAGE_TYPES
from tests.browser.conftest import LiveServer
from tests.deploy import keda
from tests.deploy.manifests import (
    BASE,
    EXAMPLE,
    KUBECTL_VERSION,
    ROOT,
    SERVICES,
    KustomizeFailed,
    Rendered,
    kubectl_version,
    only_container,
    pod_spec,
    readme_settings,
    render,
)

# The Kubernetes releases still maintained upstream when this was written.
KUBERNETES_VERSIONS = ("1.35.0", "1.36.0", "1.37.0")
QUEUES = sorted({message.queue for message in MESSAGE_TYPES.values()})
# Settings that hold a credential, or a URL that may carry one: never in a ConfigMap.
SECRET_SETTINGS = ({key for keys in PRODUCTION_SECRETS.values() for key in keys}
                   | {f"{service.upper()}_DATABASE_URL" for service in SERVICES}
                   | {"REDIS_URL", "SMTP_USERNAME", "SMTP_PASSWORD", "OIDC_PROVIDERS"})


@pytest.fixture(scope="module", params=["base", "example"])
def rendered(request) -> Rendered:
    return Rendered(render(BASE if request.param == "base" else EXAMPLE))


@pytest.fixture(scope="module")
def example() -> Rendered:
    return Rendered(render(EXAMPLE))


def check(document: dict, version: str) -> None:
    """Kubernetes' schema of the document's kind, strictly (an unknown field is an error)."""
    if keda.is_keda(document):
        keda.validate(document, version)
    else:
        kubernetes_validate.validate(document, version, strict=True)


def test_the_pinned_kubectl_renders_the_manifests():
    assert kubectl_version() == KUBECTL_VERSION


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_fits_the_schema_of_its_kind(rendered, version):
    kinds = {document["kind"] for document in rendered.documents}
    assert kinds == {"Namespace", "ServiceAccount", "ConfigMap", "Secret", "Service",
                     "Deployment", "PodDisruptionBudget", "Job", "Ingress", "ScaledObject",
                     "TriggerAuthentication"}
    for document in rendered.documents:
        check(document, version)


def test_the_validators_refuse_a_broken_manifest(example):
    deployment = copy.deepcopy(example.named("Deployment", "panel-web"))
    only_container(deployment)["ports"][0]["containerPort"] = "eight thousand"
    with pytest.raises(kubernetes_validate.ValidationError):
        check(deployment, "1.37.0")

    misspelt = copy.deepcopy(example.named("Deployment", "panel-web"))
    only_container(misspelt)["readinesProbe"] = only_container(misspelt).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        check(misspelt, "1.37.0")

    unknown_kind = {"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": {"name": "x"}}
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        check(unknown_kind, "1.37.0")

    scaled = copy.deepcopy(example.named("ScaledObject", "panel-worker"))
    scaled["spec"]["triggers"][0]["metadata"]["listLenght"] = "5"
    with pytest.raises(jsonschema.ValidationError):
        check(scaled, "1.37.0")

    numeric = copy.deepcopy(example.named("ScaledObject", "panel-worker"))
    numeric["spec"]["triggers"][0]["metadata"]["listLength"] = 5
    with pytest.raises(jsonschema.ValidationError):
        check(numeric, "1.37.0")

    behaviour = copy.deepcopy(example.named("ScaledObject", "panel-worker"))
    behaviour["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
        "stabilisationWindowSeconds"] = 300
    with pytest.raises(kubernetes_validate.ValidationError):
        check(behaviour, "1.37.0")


def test_kustomize_refuses_an_overlay_that_patches_a_deployment_not_there(tmp_path):
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        f"resources:\n  - {os.path.relpath(BASE, overlay)}\n"
        "patches:\n  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n"
        "      metadata: {name: panel-wbe}\n      spec: {replicas: 3}\n")
    with pytest.raises(KustomizeFailed, match="panel-wbe"):
        render(overlay)


def app_settings(rendered: Rendered) -> dict[str, tuple[str, str, str]]:
    """{setting: (kind, source name, value)} over the ConfigMaps and Secrets the pods read."""
    sources = set()
    for workload in rendered.of_kind("Deployment") + rendered.of_kind("Job"):
        for source in only_container(workload).get("envFrom", []):
            reference = source.get("configMapRef") or source.get("secretRef")
            sources.add(reference["name"])
    return {key: found for key, found in rendered.settings().items() if found[1] in sources}


def test_every_readme_setting_is_set_once_and_secrets_only_in_secrets(rendered):
    settings = app_settings(rendered)
    documented = readme_settings()
    assert len(documented) == len(set(documented)) == 42
    assert sorted(settings) == sorted(documented)
    in_secrets = {key for key, (kind, _, _) in settings.items() if kind == "Secret"}
    assert in_secrets == SECRET_SETTINGS


def test_each_service_reads_only_its_own_database(rendered):
    for workload in rendered.of_kind("Deployment") + rendered.of_kind("Job"):
        service = workload["metadata"]["labels"]["app.kubernetes.io/name"]
        environment = rendered.environment(only_container(workload))
        databases = {key for key in environment if key.endswith("_DATABASE_URL")}
        assert databases == {f"{service.upper()}_DATABASE_URL"}, workload["metadata"]["name"]
        host = urlsplit(environment[f"{service.upper()}_DATABASE_URL"]).hostname
        assert rendered.named("Service", host)["spec"]["type"] == "ExternalName"


def test_every_service_takes_the_settings_and_refuses_to_start_without_real_secrets(example):
    """The settings as each service's own config code reads them: values it accepts, and the
    example's empty secrets stop it in production instead of running with known keys."""
    for service in SERVICES:
        environment = example.environment(only_container(
            example.named("Deployment", f"{service}-web")))
        config = settings_from_env(service, environment)
        assert config["CIVICPANEL_ENV"] == "production"
        assert config["ALLOW_DRAMA_NUMBERS"] is False
        assert config["TRUSTED_PROXIES"] == 1
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            check_production_secrets(config)
        filled = dict(environment, SECRET_KEY="k" * 48, SMS_ACCOUNT_SID="AC" + "0" * 32,
                      SMS_AUTH_TOKEN="t" * 32)
        check_production_secrets(settings_from_env(service, filled))


def test_redis_and_postgres_are_external_services(rendered):
    for name in ("postgres", "redis"):
        service = rendered.named("Service", name)
        assert service["spec"]["type"] == "ExternalName"
        assert service["spec"]["externalName"].count(".") >= 2
    assert not [d for d in rendered.of_kind("Deployment")
                if "postgres" in d["metadata"]["name"] or "redis" in d["metadata"]["name"]]
    redis_url = urlsplit(app_settings(rendered)["REDIS_URL"][2])
    assert redis_url.hostname == "redis"


def test_each_web_service_runs_gunicorn_on_its_port_with_probes_on_healthz(rendered):
    for service in SERVICES:
        deployment = rendered.named("Deployment", f"{service}-web")
        container = only_container(deployment)
        assert container["command"] == ["gunicorn", "--config", "/app/gunicorn.conf.py",
                                        f"services.{service}:create_app()"]
        port = int(rendered.environment(container)["PORT"])
        [declared] = container["ports"]
        assert declared["containerPort"] == port
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/healthz", (service, probe)
            assert container[probe]["httpGet"]["port"] in (declared["name"], port)
        # A process that stops answering is restarted, an outage of the database is waited out.
        liveness = container["livenessProbe"]
        assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 120
        assert deployment["spec"]["replicas"] >= 2
        svc = rendered.named("Service", service)
        assert svc["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        assert [p["targetPort"] for p in svc["spec"]["ports"]] == [declared["name"]]
        # gunicorn finishes requests in flight (graceful_timeout 20 s) before the pod is killed.
        assert pod_spec(deployment)["terminationGracePeriodSeconds"] > 20 + 5


def test_the_probed_path_is_what_each_service_answers_at_its_port(apps, example):
    """/healthz over HTTP from each service, as the kubelet asks for it: straight at the pod,
    without the public path the Ingress adds, and the public address configured."""
    urls = {f"{s.upper()}_URL": app_settings(example)[f"{s.upper()}_URL"][2] for s in SERVICES}
    for service in SERVICES:
        app = apps[service]
        saved = {key: app.config[key] for key in urls}
        app.config.update(urls)
        server = LiveServer(app)
        try:
            probe = only_container(example.named("Deployment", f"{service}-web"))[
                "readinessProbe"]["httpGet"]["path"]
            answer = requests.get(server.url + probe, timeout=10)
            assert answer.status_code == 200, answer.text
            assert answer.json()["checks"] == {"database": "ok", "redis": "ok"}
        finally:
            server.stop()
            app.config.update(saved)


def test_each_queue_has_a_worker_scaled_by_keda_on_the_list_rq_uses(rendered, redis_server):
    assert QUEUES == sorted(SERVICES)
    redis = Redis.from_url(redis_server.url)
    namespace = rendered.namespace
    [authentication] = rendered.of_kind("TriggerAuthentication")
    for queue in QUEUES:
        worker = rendered.named("Deployment", f"{queue}-worker")
        container = only_container(worker)
        assert container["command"] == ["python", "-m", "shared.worker", queue]
        assert "replicas" not in worker["spec"]  # KEDA owns the count
        # A warm stop lets the job under way finish: jobs time out after 600 s.
        assert pod_spec(worker)["terminationGracePeriodSeconds"] >= 600

        [scaled] = [s for s in rendered.of_kind("ScaledObject")
                    if s["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]]
        # The worker relays its service's outbox: with none, nothing would reach the queue.
        assert scaled["spec"]["minReplicaCount"] >= 1
        assert scaled["spec"]["maxReplicaCount"] > scaled["spec"]["minReplicaCount"]
        [trigger] = scaled["spec"]["triggers"]
        assert trigger["type"] == "redis"
        assert trigger["authenticationRef"]["name"] == authentication["metadata"]["name"]
        metadata = trigger["metadata"]
        assert metadata["address"] == f"redis.{namespace}.svc.cluster.local:6379"
        redis_url = urlsplit(app_settings(rendered)["REDIS_URL"][2])
        assert metadata["databaseIndex"] == (redis_url.path.strip("/") or "0")

        # What KEDA reads is the length of the list the real RQ queue keeps its jobs in.
        rq_queue = queue_for(queue, redis)
        assert metadata["listName"] == rq_queue.key
        for _ in range(3):
            rq_queue.enqueue("tests.deploy.no_such_job")
        assert redis.llen(metadata["listName"]) == 3 == rq_queue.count
        rq_queue.empty()
    [password_ref] = authentication["spec"]["secretTargetRef"]
    assert password_ref["parameter"] == "password"
    assert password_ref["key"] in rendered.named("Secret", password_ref["name"])["data"]


def test_each_service_has_a_migration_job_that_upgrades_its_database(rendered):
    jobs = {job["metadata"]["labels"]["app.kubernetes.io/name"]: job
            for job in rendered.of_kind("Job")}
    assert sorted(jobs) == sorted(SERVICES)
    for service, job in jobs.items():
        assert only_container(job)["command"] == [
            "flask", "--app", f"services.{service}", "db", "upgrade"]
        assert pod_spec(job)["restartPolicy"] == "Never"


def test_every_pod_waits_for_its_services_migration_before_it_starts(rendered):
    for workload in rendered.of_kind("Deployment"):
        service = workload["metadata"]["labels"]["app.kubernetes.io/name"]
        [wait] = pod_spec(workload)["initContainers"]
        assert wait["command"][:5] == ["flask", "--app", f"services.{service}", "db", "wait"]
        # The same settings and database as the process it goes before.
        assert wait["envFrom"] == only_container(workload)["envFrom"]


def test_the_migration_jobs_command_migrates_a_database_with_the_rendered_settings(
        example, tmp_path):
    """The Job's command as its pod would run it, with the example's environment (secrets
    filled in, the database a file here): it creates every table of the service."""
    for service in SERVICES:
        job = example.named("Job", f"{service}-migrate")
        environment = example.environment(only_container(job))
        database = tmp_path / f"{service}.db"
        environment.update({
            f"{service.upper()}_DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "k" * 48, "SMS_ACCOUNT_SID": "AC" + "0" * 32,
            "SMS_AUTH_TOKEN": "t" * 32, "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT)})
        command = only_container(job)["command"]
        done = subprocess.run([sys.executable, "-m", *command], env=environment, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        with sqlite3.connect(database) as connection:
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"alembic_version", "outbox", "inbox", "api_keys"} <= tables, tables


def test_one_host_name_routes_each_services_public_path_to_it(rendered):
    """The staff session cookie reaches all three services because they share one host; each
    service's public address is that host and the path its Ingress rule routes to it."""
    [ingress] = rendered.of_kind("Ingress")
    [rule] = ingress["spec"]["rules"]
    [tls] = ingress["spec"]["tls"]
    assert tls["hosts"] == [rule["host"]]
    settings = app_settings(rendered)
    routed, exact = {}, {}
    for path in rule["http"]["paths"]:
        backend = path["backend"]["service"]
        svc = rendered.named("Service", backend["name"])
        assert backend["port"]["name"] in [p["name"] for p in svc["spec"]["ports"]]
        if path["pathType"] == "Exact":
            exact[path["path"]] = backend["name"]
        else:
            assert path["pathType"] == "Prefix"
            routed[backend["name"]] = path["path"]
    assert sorted(routed) == sorted(SERVICES)
    assert exact == {"/": "feedback"}, "the host name alone leads to the public pages"
    for service in SERVICES:
        url = urlsplit(settings[f"{service.upper()}_URL"][2])
        assert (url.scheme, url.hostname, url.path) == ("https", rule["host"], routed[service])


def test_the_example_ingress_lets_the_largest_upload_through(example):
    [ingress] = example.of_kind("Ingress")
    limit = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    megabytes = int(re.fullmatch(r"(\d+)m", limit).group(1))
    assert megabytes * 1024 * 1024 >= int(app_settings(example)["MAX_CONTENT_LENGTH"][2])


def dockerfile_uid() -> int:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    return int(re.search(r"useradd .*--uid (\d+)", text).group(1))


def test_every_pod_runs_as_the_images_user_with_a_read_only_root(rendered):
    assert rendered.named("Namespace", rendered.namespace)["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"] == "restricted"
    for workload in rendered.of_kind("Deployment") + rendered.of_kind("Job"):
        spec = pod_spec(workload)
        name = workload["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == dockerfile_uid(), name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "memory" in container["resources"]["limits"], name
            # The one place a process writes: uploads spooled to disk, export scratch files.
            [tmp] = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            [volume] = [v for v in spec["volumes"] if v["name"] == tmp["name"]]
            assert "emptyDir" in volume, name


def test_every_deployment_has_a_disruption_budget_that_lets_a_node_drain(rendered):
    budgets = rendered.of_kind("PodDisruptionBudget")
    for deployment in rendered.of_kind("Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        [budget] = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items()
                    <= labels.items()]
        replicas = deployment["spec"].get("replicas", 1)
        if "minAvailable" in budget["spec"]:
            assert budget["spec"]["minAvailable"] < replicas, deployment["metadata"]["name"]
        else:
            assert budget["spec"]["maxUnavailable"] >= 1
    assert len(budgets) == len(rendered.of_kind("Deployment"))
