"""Property tests: generated configs are either refused with the field named, or synthesized into output
that every validator and every kustomize build accepts. Never a traceback.

Thousands of configs go through `config.load` (no cdk8s, fast); a smaller set is synthesized in-process
and checked like `gen validate` does, plus `kubectl kustomize` of every generated kustomization.
"""

from __future__ import annotations

import copy
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from support import documents, make_project, validators

from generator.config import load
from generator.knowledge import airflow
from generator.plumbing.errors import ConfigError, GenError
from generator.review import validate
from generator.schema import load as load_schema
from generator.synth import kustomize, pipeline

TOP_LEVEL = set(load_schema("config")["properties"])
LABEL = "gen.yaml"
# `file: path.to.field: problem`, where the field is a gen.yaml setting (or a chart file's key).
PROBLEM = re.compile(r"^(?P<file>gen\.yaml|charts/airflow/(values|chart)\.yaml): "
                     r"(?P<field>(?:[^ :'\"]|'[^']*'|\"[^\"]*\")+): .+")

dns_label = st.from_regex(r"[a-z]([-a-z0-9]{0,14}[a-z0-9])?", fullmatch=True)
segment = st.from_regex(r"[A-Za-z0-9._~-]{1,12}", fullmatch=True).filter(lambda s: s not in (".", ".."))
quantity = st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 999), st.sampled_from(["Mi", "Gi", "Ti", "G"]))
duration = st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 90), st.sampled_from(["s", "m", "h"]))
secret_name = st.one_of(st.none(), dns_label)
label_value = st.from_regex(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?)?", fullmatch=True)


@st.composite
def valid_configs(draw) -> dict[str, Any]:
    """Configs the schema and the rules accept (most of the time: the rules may still refuse a few)."""
    version = draw(st.sampled_from([None, "2.9.3", "2.10.5", "2.11.0", "3.0.2", "3.1.7"]))
    airflow_3 = version is None or version.startswith("3")
    dags_dir, logs_dir = draw(st.lists(segment, min_size=2, max_size=2, unique=True))
    base = "/" + "/".join(draw(st.lists(segment, min_size=1, max_size=3)))
    tls = draw(st.one_of(st.builds(lambda n: {"certResolver": n}, dns_label),
                         st.builds(lambda n: {"secretName": n}, dns_label)))
    config: dict[str, Any] = {
        "namespace": draw(dns_label),
        "release": draw(dns_label),
        "airflow": {"version": version},
        "storage": {
            "className": draw(dns_label),
            "dags": {"hostPath": f"{base}/{dags_dir}", "size": draw(quantity),
                     "accessMode": draw(st.sampled_from(["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce"]))},
            "logs": {"hostPath": f"{base}/{logs_dir}", "size": draw(quantity),
                     "accessMode": draw(st.sampled_from(["ReadWriteMany", "ReadWriteOnce"]))},
        },
        "ingress": {
            "host": ".".join(draw(st.lists(dns_label, min_size=1, max_size=3))),
            "pathPrefix": "/" + "/".join(draw(st.lists(segment, min_size=1, max_size=3))),
            "entryPoints": draw(st.lists(st.sampled_from(["web", "websecure", "internal"]), min_size=1,
                                         max_size=3, unique=True)),
            "tls": tls,
            "prefixMode": "keep" if airflow_3 else draw(st.sampled_from(["keep", "strip"])),
        },
        "flux": {"interval": draw(duration), "timeout": draw(duration), "retryInterval": draw(duration),
                 "sourceInterval": draw(duration)},
        "workers": {
            "celery": {"replicas": draw(st.integers(0, 20))},
            "kubernetes": {
                "resources": {"requests": draw(st.dictionaries(st.sampled_from(["cpu", "memory"]),
                                                               st.sampled_from(["250m", "1", "512Mi", 2]))),
                              "limits": draw(st.dictionaries(st.just("memory"), st.sampled_from(["1Gi", "2G"])))},
                "nodeSelector": draw(st.dictionaries(st.sampled_from(["disk", "kubernetes.io/arch"]), label_value)),
                "tolerations": draw(st.lists(st.fixed_dictionaries(
                    {"key": st.sampled_from(["dedicated", "gpu"]), "operator": st.just("Equal"),
                     "value": label_value, "effect": st.sampled_from(["NoSchedule", "NoExecute"])}), max_size=2)),
                "env": draw(st.lists(st.fixed_dictionaries(
                    {"name": st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True), "value": st.text(max_size=20)}),
                    max_size=2, unique_by=lambda e: e["name"])),
            },
        },
        "overlays": {
            "kubernetes-executor": {"values": draw(st.sampled_from([{}, {"cleanup": {"enabled": True}}]))},
            "celery-kubernetes-executor": {
                "executor": draw(st.sampled_from(["auto", airflow.MULTI, airflow.HYBRID])),
                "values": draw(st.sampled_from([{}, {"scheduler": {"replicas": 2}}])),
            },
        },
        "secrets": {"fernetKey": draw(secret_name), "metadata": draw(secret_name)},
    }
    config.update(draw(cluster_settings()))
    config["ingress"]["apiGroup"] = draw(st.sampled_from(["traefik.io", "traefik.containo.us"]))
    for volume in ("dags", "logs"):
        config["storage"][volume].update(draw(storage_backend(volume)))
    if draw(st.booleans()):
        config["flux"]["cluster"] = {
            "name": draw(dns_label), "overlay": draw(st.sampled_from(airflow.OVERLAYS)),
            "url": draw(st.sampled_from(["https://git.example.com/you/platform.git", "ssh://git@example.com/x.git"])),
            "branch": draw(st.sampled_from(["main", "release/1.x"])),
            "path": draw(st.sampled_from([".", "deploy/airflow"])), "secretName": draw(secret_name),
        }
    return config


@st.composite
def cluster_settings(draw) -> dict[str, Any]:
    """A cluster profile, its node count and the engine that installs the chart."""
    distribution = draw(st.sampled_from(["k3s", "kubeadm", "kind", "minikube"]))
    engine = draw(st.sampled_from(["flux", "k3s"])) if distribution == "k3s" else "flux"
    return {"cluster": {"distribution": distribution, "nodes": draw(st.sampled_from([1, 1, 2, 3]))},
            "gitops": {"engine": engine}}


@st.composite
def storage_backend(draw, volume: str) -> dict[str, Any]:
    """One of the volume's backends with its own settings (hostPath keeps what valid_configs set)."""
    kinds = ["hostPath", "nfs", "storageClass", "existingClaim", "gitSync" if volume == "dags" else "none"]
    kind = draw(st.sampled_from(kinds))
    if kind == "nfs":
        return {"type": kind, "nfs": {"server": draw(st.sampled_from(["nas.home.arpa", "10.0.0.5"])),
                                      "path": f"/export/{volume}"}}
    if kind == "storageClass":
        return {"type": kind, "storageClassName": draw(st.sampled_from(["longhorn", "nfs-client", "local-path"]))}
    if kind == "existingClaim":
        return {"type": kind, "existingClaim": draw(dns_label)}
    if kind == "gitSync":
        return {"type": kind, "gitSync": {"repository": "https://git.example.com/data/dags.git",
                                          "branch": "main", "period": draw(duration)}}
    if kind == "none":
        return {"type": kind, "remote": {"baseLogFolder": "s3://bucket/logs", "connectionSecret": draw(dns_label)}}
    return {}


# Values that break a field in every way a hostile or careless user might.
nasty = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                               max_size=3),
    st.sampled_from(["a`) || Host(`evil.example.com", "/a`) || PathPrefix(`/", "../../etc", "/", "", " ", "\x00",
                     "/srv/../etc", "CeleryKubernetesExecutor", "strip", "3.0.0", "1.10.15", "-1", "1e3", "0x10",
                     "yes", "~", "{}", "[a]", "a" * 300]),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a config, so a mutation can hit any setting (and any key below it)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    return found


@st.composite
def mutated_configs(draw) -> dict[str, Any]:
    config = copy.deepcopy(draw(valid_configs()))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(config)))
        node = config
        for key in path[:-1]:
            node = node[key] if isinstance(node.get(key), dict) else node.setdefault(key, {})
        action = draw(st.sampled_from(["set", "delete", "unknown key"]))
        if action == "delete":
            node.pop(path[-1], None)
        elif action == "unknown key":
            node[draw(st.sampled_from(["typo", "hostpath", "Namespace", "values2"]))] = draw(nasty)
        else:
            node[path[-1]] = draw(nasty)
    return config


PROJECTS: dict[str, Path] = {}


def _project(kind: str) -> Path:
    """One scratch project per test, made on first use (teardown_module removes them)."""
    if kind not in PROJECTS:
        PROJECTS[kind] = Path(tempfile.mkdtemp(prefix="gen-property-"))
        make_project(PROJECTS[kind], "")
    return PROJECTS[kind]


def assert_names_a_field(problems: list[str], config: dict[str, Any]) -> None:
    """Each line names a gen.yaml setting, or the key of the config it refuses (an unknown one)."""
    assert problems
    for line in problems:
        match = PROBLEM.match(line)
        assert match, f"does not name a field: {line!r}"
        if match["file"] == "gen.yaml":
            top = re.split(r"[.\[]", match["field"])[0].strip("'\"")
            assert top in TOP_LEVEL or top in config, f"names no gen.yaml setting: {line!r}"


def load_or_problems(root: Path, config: dict[str, Any]):
    (root / "gen.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    try:
        return load(root / "gen.yaml", LABEL), None
    except ConfigError as exc:
        return None, exc.problems


@settings(max_examples=1500)
@given(mutated_configs())
def test_any_config_loads_or_is_refused_naming_the_field(config):
    root = _project("load")
    _loaded, problems = load_or_problems(root, config)
    if problems is not None:
        assert_names_a_field(problems, config)


@settings(max_examples=1000)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_are_loaded_or_refused_in_one_line_per_problem(content):
    root = _project("bytes")
    (root / "gen.yaml").write_bytes(content)
    try:
        load(root / "gen.yaml", LABEL)
    except ConfigError as exc:
        assert exc.problems and all(p.startswith(f"{LABEL}: ") and "\n" not in p for p in exc.problems)


def _validate_tree(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.glob("dist/*/*.yaml")) + sorted(root.glob("clusters/*/*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for obj in documents(path.read_text()):
            verdict, found = validate.check_object(obj, validators())
            assert verdict != validate.UNCHECKED, validate.object_name(obj)
            problems += [f"{path.relative_to(root)} {validate.object_name(obj)}: {p}: {m}" for p, m in found]
    return problems


@settings(max_examples=30)
@given(valid_configs())
def test_accepted_configs_synthesize_into_output_every_validator_and_kustomize_accept(config):
    root = _project("synth")
    loaded, problems = load_or_problems(root, config)
    if problems is not None:
        assert_names_a_field(problems, config)
        return
    out = Path(tempfile.mkdtemp(prefix="gen-property-out-"))
    try:
        pipeline.generate(loaded, out, airflow.OVERLAYS)
        pipeline.output.write_files(out, pipeline.render_sync(loaded))
        assert _validate_tree(out) == []
        # Every kustomization gen writes builds: the base and each overlay did, into the hydrated files
        # (batched builds, which test_kustomize proves equal to plain ones); each hydrated directory too.
        try:
            kustomize.build_many([out / "dist" / name for name in airflow.OVERLAYS])
        except GenError as exc:
            raise AssertionError(exc.problems) from None
    finally:
        shutil.rmtree(out)


def teardown_module() -> None:
    for root in PROJECTS.values():
        shutil.rmtree(root, ignore_errors=True)
