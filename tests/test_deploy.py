"""The deploy files are checked offline, as CI runs them: docker-compose.yml (pinned
images, healthchecks that can fail, nothing published beyond loopback) and the plain
Kubernetes manifests under deploy/k8s/ (kinds, references, probes, settings keys)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from packaging.utils import canonicalize_name

from chipwire.settings import SHIPPED_SOURCES, Settings
from ingest.sources import load_sources

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
STAGES = {"crawl", "enrich", "events", "index", "alert", "serve"}
SERVES_HTTP = {"index", "serve"}
SETTING_VARS = {f"CHIPWIRE_{name.upper()}" for name in Settings.model_fields} | {"CHIPWIRE_CONFIG"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":")
    return bool(name) and tag not in ("", "latest") and "/" not in tag


def test_compose_images_are_pinned_and_ports_stay_on_loopback() -> None:
    services = compose()["services"]
    for name, service in services.items():
        assert pinned(service["image"]), f"{name}: image {service['image']} is not pinned"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    web = services["web"]["environment"]
    assert web["CHIPWIRE_HTTP_HOST"] == "0.0.0.0"
    assert "CHIPWIRE_API_TOKEN" in web  # the API leaves its container only with a token


def shell_tokens(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def test_compose_healthchecks_exist_and_can_fail() -> None:
    services = compose()["services"]
    for name in ("broker", "elasticsearch", "mailpit", "index", "web"):
        test = services[name]["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
        if test[0] == "CMD-SHELL":
            tokens = shell_tokens(test[1])
            assert "&" not in tokens, f"{name}: an unquoted & backgrounds the check: {test[1]}"
            assert ";" not in tokens and "||" not in tokens, f"{name}: the check cannot fail"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed here")
def test_the_elasticsearch_healthcheck_fails_when_nothing_answers() -> None:
    from tests.smtp import free_port

    command = compose()["services"]["elasticsearch"]["healthcheck"]["test"][1]
    command = command.replace("localhost:9200", f"127.0.0.1:{free_port()}")
    done = subprocess.run(["sh", "-c", command], capture_output=True, timeout=30, check=False)
    assert done.returncode != 0


# -- Kubernetes ---------------------------------------------------------------------------

OBJECT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata"],
    "properties": {
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
            },
        }
    },
}
PROBE = {
    "type": "object",
    "required": ["httpGet"],
    "properties": {
        "httpGet": {
            "type": "object",
            "required": ["path", "port"],
            "properties": {"path": {"const": "/healthz"}},
        }
    },
}
CONTAINER = {
    "type": "object",
    "required": ["name", "image", "args", "resources", "volumeMounts"],
    "properties": {
        "args": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "env": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
            },
        },
        "readinessProbe": PROBE,
        "livenessProbe": PROBE,
    },
}
SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("apps/v1", "Deployment"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["replicas", "selector", "template"],
                "properties": {
                    "replicas": {"type": "integer", "minimum": 1},
                    "selector": {"type": "object", "required": ["matchLabels"]},
                    "template": {
                        "type": "object",
                        "required": ["metadata", "spec"],
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["containers"],
                                "properties": {
                                    "containers": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": CONTAINER,
                                    }
                                },
                            }
                        },
                    },
                },
            }
        },
    },
    ("v1", "ConfigMap"): {"type": "object", "required": ["data"]},
    ("v1", "Secret"): {"type": "object", "required": ["stringData"]},
    ("v1", "Service"): {
        "type": "object",
        "required": ["spec"],
        "properties": {"spec": {"type": "object", "required": ["selector", "ports"]}},
    },
    ("v1", "PersistentVolumeClaim"): {
        "type": "object",
        "required": ["spec"],
        "properties": {"spec": {"type": "object", "required": ["accessModes", "resources"]}},
    },
}


def manifests() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in manifests() if d["kind"] == kind}


def test_every_manifest_is_a_known_kind_with_its_required_fields() -> None:
    problems = []
    for doc in manifests():
        for schema in (OBJECT, SCHEMAS.get((doc.get("apiVersion"), doc.get("kind")), {"not": {}})):
            for error in Draft202012Validator(schema).iter_errors(doc):
                problems.append(f"{doc.get('kind')}/{doc['metadata'].get('name')}: {error.message}")
    assert problems == []


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_one_deployment_per_stage_with_references_that_resolve() -> None:
    deployments = by_kind("Deployment")
    config_maps, secrets, claims = (
        by_kind("ConfigMap"),
        by_kind("Secret"),
        by_kind("PersistentVolumeClaim"),
    )
    commands = set()
    for name, deployment in deployments.items():
        spec = deployment["spec"]
        pod = spec["template"]
        labels = pod["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items(), name
        (container,) = pod["spec"]["containers"]
        command = container["args"][0]
        commands.add(command)
        assert pinned(container["image"]), name
        for env in container.get("env", []):
            assert env["name"] in SETTING_VARS, f"{name}: unknown setting {env['name']}"
        for source in container.get("envFrom", []):
            assert source["secretRef"]["name"] in secrets, name
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        for mount in container["volumeMounts"]:
            assert mount["name"] in volumes, f"{name}: mount {mount['name']} has no volume"
        for volume in volumes.values():
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, name
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, name
                # one SQLite writer per volume
                assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate", name
        if command in SERVES_HTTP:
            assert "readinessProbe" in container and "livenessProbe" in container, name
    assert commands == STAGES


def test_the_config_map_holds_valid_settings_and_the_secret_known_keys() -> None:
    toml = by_kind("ConfigMap")["chipwire-config"]["data"]["chipwire.toml"]
    Settings(**tomllib.loads(toml))  # unknown keys and bad values raise
    secret = by_kind("Secret")["chipwire-credentials"]["stringData"]
    assert set(secret) <= SETTING_VARS
    assert {"CHIPWIRE_SMTP_PASSWORD", "CHIPWIRE_ES_URL", "CHIPWIRE_API_TOKEN"} <= set(secret)


def test_the_service_selects_the_web_pods() -> None:
    service = by_kind("Service")["chipwire-web"]
    web = by_kind("Deployment")["chipwire-web"]
    assert (
        service["spec"]["selector"].items() <= web["spec"]["template"]["metadata"]["labels"].items()
    )


# -- install ------------------------------------------------------------------------------


def test_the_default_sources_file_ships_inside_a_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert (SHIPPED_SOURCES.parent / "__init__.py").exists()  # ingest/ is a package
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    assert any(SHIPPED_SOURCES.match(p) for p in patterns)
    assert Settings().sources_file == SHIPPED_SOURCES
    assert load_sources(SHIPPED_SOURCES)


def test_clients_have_upper_bounds_matching_what_is_tested() -> None:
    from importlib.metadata import version

    from packaging.requirements import Requirement

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for name in ("kafka-python", "elasticsearch"):
        (req,) = [Requirement(d) for d in deps if Requirement(d).name == name]
        assert any(s.operator == "<" for s in req.specifier), f"{name} has no upper bound"
        assert version(name) in req.specifier, f"the installed {name} is outside {req}"


def test_make_run_installs_runtime_dependencies_only() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run_rule = makefile.split("\nrun:", 1)[1].split("\n", 1)[0]
    assert "$(RUN_STAMP)" in run_rule and "setup" not in run_rule
    runtime = makefile.split("$(RUN_STAMP): pyproject.toml", 1)[1].split("\n\n", 1)[0]
    assert "-r requirements/run.lock" in runtime and "--no-deps -e ." in runtime
    assert "[test]" not in runtime and "test.lock" not in runtime


def test_the_elasticsearch_client_has_the_major_of_the_compose_cluster() -> None:
    image = compose()["services"]["elasticsearch"]["image"]
    cluster_major = int(image.rsplit(":", 1)[1].split(".")[0])
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pin = re.search(r'"elasticsearch>=(\d+)[^,"]*,<(\d+)"', pyproject)
    assert pin is not None, "pyproject.toml must pin the elasticsearch client to one major"
    assert (int(pin.group(1)), int(pin.group(2))) == (cluster_major, cluster_major + 1), (
        f"the client pin {pin.group(0)} does not match the cluster's major {cluster_major}"
    )


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            spec = line.split(";", 1)[0].strip()
            name, _, pinned = spec.partition("==")
            pins.setdefault(canonicalize_name(name), pinned)
    return pins


def test_the_lock_files_pin_every_dependency_and_agree() -> None:
    """`make lock` was run after the last change to pyproject.toml's dependencies, and the
    test lock installs the very runtime versions `make run` installs."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    run = _pins(ROOT / "requirements" / "run.lock")
    test = _pins(ROOT / "requirements" / "test.lock")
    for dep in project["dependencies"]:
        req = Requirement(dep)
        name = canonicalize_name(req.name)
        assert name in run and name in test, f"{name} is not locked: run `make lock`"
        assert run[name] in req.specifier, f"run.lock's {name} {run[name]} is outside {req}"
    for dep in project["optional-dependencies"]["test"]:
        name = canonicalize_name(Requirement(dep).name)
        assert name in test, f"{name} is not in test.lock: run `make lock`"
    for name, pinned in run.items():
        assert test.get(name) == pinned, f"{name}: run.lock {pinned}, test.lock {test.get(name)}"


def test_the_crawl_group_overlay_runs_n_crawlers_each_with_its_own_volume() -> None:
    """deploy/k8s/crawl-group replaces the one-replica crawler by a StatefulSet whose
    replicas share the sources through the Kafka group, one SQLite volume each."""
    overlay = K8S / "crawl-group"
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["../", "crawl.yaml"]
    deleted = {
        (doc["kind"], doc["metadata"]["name"])
        for patch in kustomization["patches"]
        for doc in [yaml.safe_load(patch["patch"])]
        if doc.get("$patch") == "delete"
    }
    base = {(d["kind"], d["metadata"]["name"]) for d in manifests()}
    assert deleted == {
        ("Deployment", "chipwire-crawl"),
        ("PersistentVolumeClaim", "chipwire-crawl-data"),
    }
    assert deleted <= base
    (crawl,) = yaml.safe_load_all((overlay / "crawl.yaml").read_text())
    assert crawl["kind"] == "StatefulSet" and crawl["spec"]["replicas"] > 1
    pod = crawl["spec"]["template"]
    assert crawl["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    assert container["args"] == ["crawl"] and pinned(container["image"])
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert set(env) <= SETTING_VARS
    toml = by_kind("ConfigMap")["chipwire-config"]["data"]["chipwire.toml"]
    Settings(**{**tomllib.loads(toml), "crawl_sharding": env["CHIPWIRE_CRAWL_SHARDING"]})
    assert env["CHIPWIRE_CRAWL_SHARDING"] == "group"
    claims = {t["metadata"]["name"] for t in crawl["spec"]["volumeClaimTemplates"]}
    volumes = {v["name"] for v in pod["spec"]["volumes"]} | claims
    assert {m["name"] for m in container["volumeMounts"]} <= volumes
    assert "data" in claims and not any(
        "persistentVolumeClaim" in v for v in pod["spec"]["volumes"]
    )
