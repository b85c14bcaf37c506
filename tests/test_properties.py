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

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from support import documents, make_project, validators, word

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

LOWER, DIGITS = "abcdefghijklmnopqrstuvwxyz", "0123456789"
ALNUM = LOWER + LOWER.upper() + DIGITS
dns_label = word(LOWER, LOWER + DIGITS + "-", LOWER + DIGITS, 14)
segment = st.text(ALNUM + "._~-", min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))
quantity = st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 999), st.sampled_from(["Mi", "Gi", "Ti", "G"]))
duration = st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 90), st.sampled_from(["s", "m", "h"]))
secret_name = st.one_of(st.none(), dns_label)
label_value = st.one_of(st.just(""), word(ALNUM, ALNUM + "-_.", ALNUM, 10))
env_name = st.builds(lambda a, b: a + b, st.sampled_from(LOWER.upper() + "_"),
                     st.text(LOWER.upper() + DIGITS + "_", max_size=10))


# Strategies are built once, here: built inside the composites, each draw would validate them anew, a third
# of the generation time over 1500 examples.
versions = st.sampled_from([None, "2.9.3", "2.10.5", "2.11.0", "3.0.2", "3.1.7"])
two_dirs = st.lists(segment, min_size=2, max_size=2, unique=True)
segments = st.lists(segment, min_size=1, max_size=3)
tls_settings = st.one_of(st.builds(lambda n: {"certResolver": n}, dns_label),
                         st.builds(lambda n: {"secretName": n}, dns_label))
dags_modes = st.sampled_from(["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce"])
logs_modes = st.sampled_from(["ReadWriteMany", "ReadWriteOnce"])
hosts = st.lists(dns_label, min_size=1, max_size=3)
entry_points = st.lists(st.sampled_from(["web", "websecure", "internal"]), min_size=1, max_size=3, unique=True)
prefix_modes = st.sampled_from(["keep", "strip"])
replicas = st.integers(0, 20)
requests = st.dictionaries(st.sampled_from(["cpu", "memory"]), st.sampled_from(["250m", "1", "512Mi", 2]))
limits = st.dictionaries(st.just("memory"), st.sampled_from(["1Gi", "2G"]))
node_selectors = st.dictionaries(st.sampled_from(["disk", "kubernetes.io/arch"]), label_value)
tolerations = st.lists(st.fixed_dictionaries(
    {"key": st.sampled_from(["dedicated", "gpu"]), "operator": st.just("Equal"), "value": label_value,
     "effect": st.sampled_from(["NoSchedule", "NoExecute"])}), max_size=2)
env = st.lists(st.fixed_dictionaries({"name": env_name, "value": st.text(max_size=20)}), max_size=2,
               unique_by=lambda e: e["name"])
kubernetes_values = st.sampled_from([{}, {"cleanup": {"enabled": True}}])
executors = st.sampled_from(["auto", airflow.MULTI, airflow.HYBRID])
hybrid_values = st.sampled_from([{}, {"scheduler": {"replicas": 2}}])
api_groups = st.sampled_from(["traefik.io", "traefik.containo.us"])
wired = st.fixed_dictionaries({
    "name": dns_label, "overlay": st.sampled_from(airflow.OVERLAYS),
    "url": st.sampled_from(["https://git.example.com/you/platform.git", "ssh://git@example.com/x.git"]),
    "branch": st.sampled_from(["main", "release/1.x"]), "path": st.sampled_from([".", "deploy/airflow"]),
    "secretName": secret_name})
distributions = st.sampled_from(["k3s", "kubeadm", "kind", "minikube"])
engines = st.sampled_from(["flux", "k3s"])
node_counts = st.sampled_from([1, 1, 2, 3])
nfs_servers = st.sampled_from(["nas.home.arpa", "10.0.0.5"])
class_names = st.sampled_from(["longhorn", "nfs-client", "local-path"])
BACKENDS = {volume: st.sampled_from(["hostPath", "nfs", "storageClass", "existingClaim",
                                     "gitSync" if volume == "dags" else "none"]) for volume in ("dags", "logs")}


@st.composite
def valid_configs(draw) -> dict[str, Any]:
    """Configs the schema and the rules accept (most of the time: the rules may still refuse a few)."""
    version = draw(versions)
    airflow_3 = version is None or version.startswith("3")
    dags_dir, logs_dir = draw(two_dirs)
    base = "/" + "/".join(draw(segments))
    config: dict[str, Any] = {
        "namespace": draw(dns_label),
        "release": draw(dns_label),
        "airflow": {"version": version},
        "storage": {
            "className": draw(dns_label),
            "dags": {"hostPath": f"{base}/{dags_dir}", "size": draw(quantity), "accessMode": draw(dags_modes)},
            "logs": {"hostPath": f"{base}/{logs_dir}", "size": draw(quantity), "accessMode": draw(logs_modes)},
        },
        "ingress": {
            "host": ".".join(draw(hosts)),
            "pathPrefix": "/" + "/".join(draw(segments)),
            "entryPoints": draw(entry_points),
            "tls": draw(tls_settings),
            "prefixMode": "keep" if airflow_3 else draw(prefix_modes),
        },
        "flux": {"interval": draw(duration), "timeout": draw(duration), "retryInterval": draw(duration),
                 "sourceInterval": draw(duration)},
        "workers": {
            "celery": {"replicas": draw(replicas)},
            "kubernetes": {
                "resources": {"requests": draw(requests), "limits": draw(limits)},
                "nodeSelector": draw(node_selectors),
                "tolerations": draw(tolerations),
                "env": draw(env),
            },
        },
        "overlays": {
            "kubernetes-executor": {"values": draw(kubernetes_values)},
            "celery-kubernetes-executor": {"executor": draw(executors), "values": draw(hybrid_values)},
        },
        "secrets": {"fernetKey": draw(secret_name), "metadata": draw(secret_name)},
    }
    config.update(cluster_settings(draw))
    config["ingress"]["apiGroup"] = draw(api_groups)
    for volume in ("dags", "logs"):
        config["storage"][volume].update(storage_backend(draw, volume))
    if draw(st.booleans()):
        config["flux"]["cluster"] = draw(wired)
    return config


def cluster_settings(draw) -> dict[str, Any]:
    """A cluster profile, its node count and the engine that installs the chart."""
    distribution = draw(distributions)
    engine = draw(engines) if distribution == "k3s" else "flux"
    return {"cluster": {"distribution": distribution, "nodes": draw(node_counts)}, "gitops": {"engine": engine}}


def storage_backend(draw, volume: str) -> dict[str, Any]:
    """One of the volume's backends with its own settings (hostPath keeps what valid_configs set)."""
    kind = draw(BACKENDS[volume])
    if kind == "nfs":
        return {"type": kind, "nfs": {"server": draw(nfs_servers), "path": f"/export/{volume}"}}
    if kind == "storageClass":
        return {"type": kind, "storageClassName": draw(class_names)}
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


mutation_counts = st.integers(1, 3)
actions = st.sampled_from(["set", "delete", "unknown key"])
unknown_keys = st.sampled_from(["typo", "hostpath", "Namespace", "values2"])


@st.composite
def mutated_configs(draw) -> dict[str, Any]:
    config = copy.deepcopy(draw(valid_configs()))
    for _ in range(draw(mutation_counts)):
        path = draw(st.sampled_from(_paths(config)))
        node = config
        for key in path[:-1]:
            node = node[key] if isinstance(node.get(key), dict) else node.setdefault(key, {})
        action = draw(actions)
        if action == "delete":
            node.pop(path[-1], None)
        elif action == "unknown key":
            node[draw(unknown_keys)] = draw(nasty)
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
    # libyaml's emitter: the same data as safe_dump (non-BMP characters escaped), in a quarter of the time
    (root / "gen.yaml").write_text(yaml.dump(config, Dumper=yaml.CSafeDumper, allow_unicode=True), encoding="utf-8")
    try:
        return load(root / "gen.yaml", LABEL), None
    except ConfigError as exc:
        return None, exc.problems


# 1500 examples in three runs of 500, each from its own random start, which xdist runs side by side: one run
# of 1500 was the suite's longest test, finishing alone at the end.
@pytest.mark.parametrize("part", range(3))
@settings(max_examples=500)
@given(mutated_configs())
def test_any_config_loads_or_is_refused_naming_the_field(part, config):
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
