"""gen.yaml and the chart files: the schema's promises, and one clear line per problem."""

from __future__ import annotations

import dataclasses
import typing

import pytest
import yaml
from support import REPO, make_project

from generator import config as config_module
from generator import model
from generator.config import load
from generator.knowledge import chart_values
from generator.knowledge.airflow import OVERLAYS
from generator.model import Config
from generator.plumbing.errors import ConfigError
from generator.schema import load as load_schema
from generator.schema import resolve

BASE = """\
ingress:
  host: airflow.example.com
  tls: {certResolver: letsencrypt}
"""


def problems_of(tmp_path, text, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, text, **kwargs), "gen.yaml")
    return caught.value.problems


def _objects(schema, path="(top)"):
    schema = resolve(schema)
    yield path, schema
    for name, prop in schema.get("properties", {}).items():
        yield from _objects(prop, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _objects(schema["items"], f"{path}[]")


def test_the_checked_in_config_is_valid():
    config = load(REPO / "gen.yaml")
    assert config.ingress.host == "airflow.example.com"
    assert str(config.chart.version) == "1.22.0" and str(config.airflow_version) == "3.3.2"


def test_every_schema_property_has_a_description_a_type_and_a_default():
    schema = load_schema("config")
    for path, node in _objects(schema):
        assert "description" in node, path
        required = set(node.get("required", []))
        for name, prop in node.get("properties", {}).items():
            prop = resolve(prop)
            assert "type" in prop and "description" in prop, f"{path}.{name}"
            assert "default" in prop or name in required or path.endswith("[]"), f"{path}.{name}"


def test_every_schema_object_is_closed_except_free_form_helm_values():
    schema = load_schema("config")
    free_form = {"(top).workers.kubernetes.resources.requests", "(top).workers.kubernetes.resources.limits",
                 "(top).workers.kubernetes.nodeSelector", "(top).workers.kubernetes.tolerations[]",
                 "(top).metrics.serviceMonitorLabels",
                 *(f"(top).overlays.{name}.values" for name in OVERLAYS)}
    for path, node in _objects(schema):
        if node.get("type") == "object" and path not in free_form:
            assert node.get("additionalProperties") is False, path


def test_dataclasses_and_schema_name_the_same_settings():
    """Drift guard: a setting added to one must be added to the other."""
    schema = load_schema("config")

    def check(cls, node, path):
        hints = typing.get_type_hints(cls)
        keys = {config_module._key(f): f for f in dataclasses.fields(cls) if not f.metadata.get("derived")}
        props = node["properties"]
        assert set(keys) == set(props), path
        for key, f in keys.items():
            nested = config_module._optional_of(hints[f.name])  # `X | None`: settings that may be absent
            if dataclasses.is_dataclass(nested):
                check(nested, props[key], f"{path}.{key}")

    check(Config, schema, "(top)")
    for name, overlay in schema["properties"]["overlays"]["properties"].items():
        assert set(overlay["properties"]) <= {f.name for f in dataclasses.fields(model.OverlayConfig)}, name


def test_defaults_fill_every_unset_setting(tmp_path):
    config = load(make_project(tmp_path, BASE))
    assert (config.namespace, config.release) == ("airflow", "airflow")
    assert config.storage.class_name == "airflow-storage" and config.storage.reclaim_policy == "Retain"
    assert (config.storage.dags.size, config.storage.dags.access_mode) == ("1Gi", "ReadOnlyMany")
    assert (config.storage.logs.size, config.storage.logs.access_mode) == ("10Gi", "ReadWriteMany")
    assert config.ingress.path_prefix == "/airflow" and config.ingress.entry_points == ("websecure",)
    assert config.ingress.prefix_mode == "keep"
    assert (config.flux.interval, config.flux.timeout) == ("30m", "15m")
    assert config.workers.celery.replicas == 1
    assert str(config.airflow_version) == "3.3.2"  # from charts/airflow/chart.yaml


def test_host_paths_are_normalised(tmp_path):
    config = load(make_project(tmp_path, BASE + "storage:\n  dags: {hostPath: '//srv/./airflow//dags/'}\n"))
    assert config.storage.dags.host_path == "/srv/airflow/dags"


@pytest.mark.parametrize("host", [
    "airflow.example.com`) || PathPrefix(`/",
    'airflow.example.com") || Host("x',
    "airflow.example.com\\",
    "airflow example.com",
    "airflow.example.com)",
    "a&&b.example.com",
    "a||b.example.com",
    "!airflow.example.com",
    "Airflow.Example.com",
    "-airflow.example.com",
    "",
])
def test_a_host_that_could_reach_into_a_traefik_rule_is_refused(tmp_path, host):
    text = yaml.safe_dump({"ingress": {"host": host, "tls": {"certResolver": "le"}}})
    assert problems_of(tmp_path, text) == [
        f"gen.yaml: ingress.host: {host!r} must be a lowercase RFC 1123 host name such as airflow.example.com "
        "(letters, digits, '-' and '.')"]


@pytest.mark.parametrize("prefix", ["airflow", "/airflow/", "/air flow", "/a`b", "/a)b", '/a"b', "/a&b", "/a|b",
                                    "/a!b", "/a\\b", "//", "/a//b"])
def test_a_path_prefix_must_be_plain_segments(tmp_path, prefix):
    text = yaml.safe_dump({"ingress": {"host": "a.example.com", "pathPrefix": prefix, "tls": {"certResolver": "le"}}})
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith("gen.yaml: ingress.pathPrefix: ")
    assert problems[0].endswith("must be / or a path such as /airflow or /tools/airflow: '/'-separated segments "
                                "of letters, digits, '.', '_', '~' and '-', no trailing '/'")


def test_traefik_settings_under_another_route_kind_are_refused_once_each(tmp_path):
    text = yaml.safe_dump({"ingress": {"kind": "Ingress", "host": "a.example.com", "pathPrefix": "/",
                                       "tls": {"certResolver": "le"}, "allowFrom": ["10.0.0.0/8"],
                                       "middlewares": [{"name": "auth"}], "securityHeaders": True,
                                       "parentRefs": [{"name": "public"}]}})
    problems = problems_of(tmp_path, text)
    assert [line.split(": ")[1] for line in problems] == [
        "ingress.middlewares", "ingress.allowFrom", "ingress.securityHeaders", "ingress.tls.certResolver",
        "ingress.parentRefs"]
    assert all(line.count("ingress.kind is Ingress") == 1 for line in problems[:4])


def test_each_route_kind_asks_for_its_own_settings(tmp_path):
    route = {"kind": "HTTPRoute", "host": "a.example.com", "tls": {"secretName": "a-tls"}, "className": "nginx"}
    assert [line.split(": ")[1] for line in problems_of(tmp_path, yaml.safe_dump({"ingress": route}))] == [
        "ingress.className", "ingress.parentRefs", "ingress.tls"]
    assert [line.split(": ")[1] for line in problems_of(tmp_path, yaml.safe_dump(
        {"ingress": {"host": "a.example.com"}}))] == ["ingress.tls"]
    assert problems_of(tmp_path, yaml.safe_dump({"ingress": True})) == [
        "gen.yaml: ingress: true must be the route's settings (host:, tls:, ...) or false for no route"]


def test_no_route_takes_base_url_from_the_airflow_settings(tmp_path):
    path = make_project(tmp_path, "ingress: false\nairflow: {baseUrl: 'http://localhost:8080'}\n")
    loaded = load(path)
    assert loaded.ingress is None and chart_values.base_values(loaded)["config.api.base_url"][0] == \
        "http://localhost:8080"
    assert problems_of(tmp_path / "b", yaml.safe_dump({"ingress": {"host": "a.example.com", "tls": {
        "certResolver": "le"}}, "airflow": {"baseUrl": "http://localhost:8080"}})) == [
        "gen.yaml: airflow.baseUrl: gen derives base_url from ingress when there is a route; remove "
        "airflow.baseUrl, or set ingress: false"]


def test_all_problems_are_reported_at_once_sorted_by_field(tmp_path):
    problems = problems_of(tmp_path, """\
namespace: Airflow
storage:
  dags: {size: '10 GB', hostPath: relative/dags, mode: rw}
ingress:
  host: airflow.example.com
  tls: {certResolver: le, secretName: tls}
  prefixMode: rewrite
flux: {timeout: 15 minutes}
""")
    assert problems == [
        "gen.yaml: flux.timeout: '15 minutes' must be a Go duration such as 15m or 1h",
        "gen.yaml: ingress.prefixMode: 'rewrite' is not allowed; allowed: keep, strip",
        "gen.yaml: ingress.tls: has 2 keys (certResolver, secretName); set exactly one of certResolver (an ACME "
        "resolver in Traefik's static configuration) or secretName (a kubernetes.io/tls Secret in the namespace)",
        "gen.yaml: namespace: 'Airflow' must be a DNS-1123 label: lowercase letters, digits and '-', starting and "
        "ending with a letter or digit",
        "gen.yaml: storage.dags.hostPath: 'relative/dags' must be an absolute path such as /srv/airflow/dags, "
        "without control characters or backslashes",
        "gen.yaml: storage.dags.mode: unknown key; allowed keys: accessMode, existingClaim, gitSync, hostPath, nfs, "
            "size, storageClassName, type",
        "gen.yaml: storage.dags.size: '10 GB' must be a Kubernetes quantity such as 1Gi, 500Mi or 10G",
    ]


def test_missing_required_settings_are_named(tmp_path):
    assert problems_of(tmp_path, "ingress: {tls: {}}\n") == [
        "gen.yaml: ingress.host: is required: Public host name (RFC 1123, lowercase). Required.",
        "gen.yaml: ingress.tls: is empty; set exactly one of certResolver (an ACME resolver in Traefik's static "
        "configuration) or secretName (a kubernetes.io/tls Secret in the namespace)",
    ]
    assert problems_of(tmp_path, "namespace: airflow\n") == [
        "gen.yaml: ingress: is required: The route to the Airflow UI at https://<host><pathPrefix>: a Traefik "
        "IngressRoute (the default), a Kubernetes Ingress or a Gateway API HTTPRoute (ingress.kind). false: no route "
        "at all, for an install reached by port-forward or a LoadBalancer Service (see docs/configuration.md)."]


def test_wrong_types_are_named_with_what_is_allowed(tmp_path):
    assert problems_of(tmp_path, BASE + "workers: {celery: {replicas: many}}\n") == [
        "gen.yaml: workers.celery.replicas: must be an integer, not a string"]


def test_strip_mode_is_refused_on_airflow_3(tmp_path):
    assert problems_of(tmp_path, BASE + "  prefixMode: strip\nairflow: {version: 3.0.2}\n") == [
        "gen.yaml: ingress.prefixMode: 'strip' is not supported on Airflow 3 (airflow.version 3.0.2): its UI, "
        "login pages and execution API need the prefix; use 'keep'"]


def test_celery_kubernetes_executor_is_refused_on_airflow_3(tmp_path):
    text = BASE + "overlays: {celery-kubernetes-executor: {executor: CeleryKubernetesExecutor}}\n"
    assert problems_of(tmp_path, text) == [
        "gen.yaml: overlays.celery-kubernetes-executor.executor: CeleryKubernetesExecutor raises at start-up on "
        "Airflow 3 (airflow.version 3.3.2); use 'auto' or 'CeleryExecutor,KubernetesExecutor', and pick the "
        "executor per task with executor="]


def test_multiple_executors_are_refused_before_airflow_2_10(tmp_path):
    text = BASE + ("airflow: {version: 2.9.3}\n"
                   "overlays: {celery-kubernetes-executor: {executor: 'CeleryExecutor,KubernetesExecutor'}}\n")
    path = make_project(tmp_path, text)
    _pin_chart(tmp_path, "1.19.0", "3.1.7")  # the last release that runs Airflow before 2.11
    with pytest.raises(ConfigError) as caught:
        load(path, "gen.yaml")
    assert caught.value.problems == [
        "gen.yaml: overlays.celery-kubernetes-executor.executor: 'CeleryExecutor,KubernetesExecutor' needs Airflow "
        "2.10.0 or later (airflow.version 2.9.3); use 'auto' or 'CeleryKubernetesExecutor'"]


def test_an_unsupported_airflow_major_is_refused(tmp_path):
    assert problems_of(tmp_path, BASE + "airflow: {version: 1.10.15}\n") == [
        "gen.yaml: airflow.version: 1.10.15 is not supported by chart 1.22.0, which runs Airflow 2.11.0 up to (not "
        "including) 4.0.0; use a version such as 3.3.2"]


def test_a_base_value_that_conflicts_with_a_generated_one_names_both(tmp_path):
    problems = problems_of(tmp_path, BASE, values="dags:\n  persistence:\n    existingClaim: my-dags\n"
                                                  "executor: CeleryExecutor\n")
    assert problems == [
        "charts/airflow/values.yaml: dags.persistence.existingClaim: 'my-dags' conflicts with the value gen "
        "generates for dags.persistence.existingClaim ('airflow-dags', from storage.dags); remove it here and "
        "change storage.dags instead",
        "charts/airflow/values.yaml: executor: 'CeleryExecutor' conflicts with the value gen generates for executor "
        "(\"a value per overlay\", from the executor overlays); remove it here and change the executor overlays "
        "instead",
    ]


def test_a_base_value_equal_to_the_generated_one_is_accepted(tmp_path):
    load(make_project(tmp_path, BASE, values="migrateDatabaseJob: {useHelmHooks: false}\n"))


def test_overlay_values_may_not_change_generated_values(tmp_path):
    text = BASE + "overlays: {kubernetes-executor: {values: {redis: {enabled: true}, cleanup: {enabled: true}}}}\n"
    assert problems_of(tmp_path, text) == [
        "gen.yaml: overlays.kubernetes-executor.values: redis.enabled: true conflicts with the value gen generates "
        "for redis.enabled (false, from the Kubernetes executor (no broker)); remove it here and change the "
        "Kubernetes executor (no broker) instead"]


def test_chart_pin_problems_are_named(tmp_path):
    path = make_project(tmp_path, BASE)
    (tmp_path / "charts/airflow/chart.yaml").write_text("repository: http://example.com\nname: airflow\n"
                                                        "version: ^1.19\nairflowVersion: 3.1.7\n")
    with pytest.raises(ConfigError) as caught:
        load(path, "gen.yaml")
    assert caught.value.problems == [
        "charts/airflow/chart.yaml: repository: 'http://example.com' must be an https:// URL such as "
        "https://airflow.apache.org, with no user or password in it (it would be committed to Git)",
        "charts/airflow/chart.yaml: version: '^1.19' must be an exact version X.Y.Z such as 1.19.0",
    ]
    (tmp_path / "charts/airflow/chart.yaml").unlink()
    with pytest.raises(ConfigError) as caught:
        load(path, "gen.yaml")
    assert caught.value.problems == ["charts/airflow/chart.yaml: file not found"]


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "gen.yaml: file is empty; see the config reference in docs/configuration.md"),
    (b"# only a comment\n", "gen.yaml: file is empty; see the config reference in docs/configuration.md"),
    (b"- a\n- b\n", "gen.yaml: must be a mapping of settings (namespace:, ingress:, ...), not a list"),
    (b"namespace: a\nnamespace: b\n",
     "gen.yaml: namespace: duplicate key; each key may appear once (line 2, column 1)"),
    (b"a: &x [1]\nb: *x\n",
     "gen.yaml: b: anchors and aliases (*name) are not allowed; write the value out (line 2, column 4)"),
    (b"namespace: !!python/object/apply:os.system ['true']\n",
     "gen.yaml: namespace: the tag '!!python/object/apply:os.system' is not allowed; use plain YAML values "
     "(line 1, column 12)"),
    (b"namespace: \xff\xfe\n", "gen.yaml: not UTF-8 text (invalid byte at offset 11)"),
    (b"namespace: [unclosed\n", None),
    (b"a: 1\n---\nb: 2\n", "gen.yaml: holds 2 YAML documents; exactly one is allowed"),
])
def test_unreadable_yaml_is_one_line_naming_the_file(tmp_path, content, expected):
    path = make_project(tmp_path, "")
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load(path, "gen.yaml")
    assert len(caught.value.problems) == 1
    if expected is None:
        assert caught.value.problems[0].startswith("gen.yaml: invalid YAML (line 2, column 1): ")
    else:
        assert caught.value.problems == [expected]


def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
              for i in range(1, 10)]
    path = make_project(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as caught:
        load(path, "gen.yaml")
    assert "anchors and aliases (*name) are not allowed" in caught.value.problems[0]


def test_a_config_over_one_mebibyte_is_refused(tmp_path):
    path = make_project(tmp_path, "# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(ConfigError) as caught:
        load(path, "gen.yaml")
    assert caught.value.problems == ["gen.yaml: file is 1048579 bytes; at most 1048576 (1 MiB) is allowed"]


def test_a_directory_or_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "cfg")
    assert caught.value.problems == ["cfg: is not a regular file"]
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "nope.yaml", "nope.yaml")
    assert caught.value.problems == ["nope.yaml: file not found"]


def _pin_chart(tmp_path, version, airflow_version="2.11.0"):
    (tmp_path / "charts/airflow/chart.yaml").write_text(
        f"repository: https://airflow.apache.org\nname: airflow\nversion: {version}\nairflowVersion: {airflow_version}\n")


def test_a_base_url_whose_path_is_not_the_routes_prefix_says_what_to_set(tmp_path):
    problems = problems_of(tmp_path, BASE, values="config:\n  api:\n    base_url: https://airflow.example.com/af\n")
    assert problems == [
        "charts/airflow/values.yaml: config.api.base_url: 'https://airflow.example.com/af' has path '/af' but the "
        "route serves /airflow (ingress.pathPrefix) and keeps the prefix; remove it here: gen sets config.api.base_url "
        "to 'https://airflow.example.com/airflow' from ingress.host and ingress.pathPrefix (to serve Airflow under "
        "/af, set ingress.pathPrefix: /af)"]


def test_a_base_url_with_the_prefix_in_strip_mode_is_refused_with_both_fixes(tmp_path):
    text = BASE + ("  prefixMode: strip\nairflow: {version: 2.11.0}\n"
                   "overlays: {celery-executor: {values: {config: {webserver: "
                   "{base_url: 'https://airflow.example.com/airflow/'}}}}}\n")
    assert problems_of(tmp_path, text) == [
        "gen.yaml: overlays.celery-executor.values: config.webserver.base_url: 'https://airflow.example.com/airflow/' "
        "has path '/airflow' but in prefixMode 'strip' Traefik removes /airflow before Airflow sees it, so base_url "
        "must have no path; remove it here: gen sets config.webserver.base_url to 'https://airflow.example.com' from "
        "ingress.host and ingress.pathPrefix (or set ingress.prefixMode: keep, which keeps the prefix and wants this "
        "path)"]


def test_a_base_url_for_the_other_airflow_major_is_checked_too(tmp_path):
    problems = problems_of(tmp_path, BASE, values="config: {webserver: {base_url: 'https://airflow.example.com'}}\n")
    assert len(problems) == 1
    assert problems[0].startswith("charts/airflow/values.yaml: config.webserver.base_url: 'https://airflow.example.com'"
                                  " has path '/' but the route serves /airflow")


def test_user_values_under_keys_the_pinned_chart_does_not_know_are_refused(tmp_path):
    path = make_project(tmp_path, BASE + "overlays: {kubernetes-executor: {values: {workers: {kubernetes: "
                                         "{tolerations: []}}}}}\n",
                        values="enableServiceLinks: true\n")
    _pin_chart(tmp_path, "1.19.0", "3.1.7")
    with pytest.raises(ConfigError) as caught:
        load(path, "gen.yaml")
    assert caught.value.problems == [
        "charts/airflow/values.yaml: enableServiceLinks: chart 1.19.0 (charts/airflow/chart.yaml) does not know "
        "enableServiceLinks, added in chart 1.22.0; remove it, or pin chart 1.22.0 or later (gen upgrade "
        "--chart-version 1.22.0)",
        "gen.yaml: overlays.kubernetes-executor.values: workers.kubernetes.tolerations: chart 1.19.0 "
        "(charts/airflow/chart.yaml) does not know workers.kubernetes.tolerations, added in chart 1.21.0; write it "
        "as workers.tolerations instead, or pin chart 1.21.0 or later (gen upgrade --chart-version 1.21.0)",
    ]


def test_keys_a_newer_pin_deprecated_fail_in_one_line_naming_gen_upgrade(tmp_path):
    """Renovate bumps the pin alone: the user's values that moved home fail the synth with what to run."""
    values = "workers:\n  resources: {requests: {cpu: 500m}}\n  replicas: 2\n"
    path = make_project(tmp_path, BASE, values=values)
    _pin_chart(tmp_path, "1.19.0", "3.1.7")
    load(path, "gen.yaml")  # what 1.19.0 reads: projects pinned to it keep working
    _pin_chart(tmp_path, "1.22.0", "3.3.2")
    with pytest.raises(ConfigError) as caught:
        load(path, "gen.yaml")
    assert caught.value.problems == [
        "charts/airflow/values.yaml: workers.resources: deprecated in chart 1.20.0 (moved to workers.celery.resources "
        "and workers.kubernetes.resources); run gen upgrade --chart-version 1.22.0 to move it"]
    (tmp_path / "charts/airflow/values.yaml").write_text("workers:\n  celery:\n    resources: {requests: {cpu: 500m}}\n")
    _pin_chart(tmp_path, "1.22.0", "3.1.7")  # only the version bumped, as Renovate does: loads as it is
    assert str(load(path, "gen.yaml").chart.version) == "1.22.0"


@pytest.mark.parametrize(("extra", "expected"), [
    ("namespace: kube-system\n", "gen.yaml: namespace: 'kube-system' is reserved for Kubernetes' own components; "
                                 "use a namespace of its own such as airflow"),
    ("release: 1airflow\n", "gen.yaml: release: '1airflow' must be a DNS-1123 label of at most 40 characters that "
                            "starts with a letter (the chart names Services after it): lowercase letters, digits "
                            "and '-'"),
    ("flux: {timeout: 0m0s}\n", "gen.yaml: flux.timeout: '0m0s' must be a Go duration such as 15m or 1h"),
    ("airflow: {version: 3.1.7, image: {tag: 2.10.5-python3.12}}\n",
     "gen.yaml: airflow.image.tag: '2.10.5-python3.12' runs Airflow 2 but airflow.version is 3.1.7, so the chart "
     "renders Airflow 3's components; set airflow.version to the image's Airflow version"),
    ("workers: {kubernetes: {resources: {requests: {cpu: '2', memory: 1Gi}, limits: {cpu: 1500m, memory: 2G}}}}\n",
     "gen.yaml: workers.kubernetes.resources.requests.cpu: 2 is more than the limit 1500m; a pod may not request "
     "more than its limit: lower the request or raise the limit"),
    ("workers: {kubernetes: {tolerations: [{key: gpu, operator: Exists, value: 'yes'}]}}\n",
     "gen.yaml: workers.kubernetes.tolerations[0].value: must be empty with operator Exists; remove it, or use "
     "operator Equal"),
    ("workers: {kubernetes: {tolerations: [{operator: Equal, value: x}]}}\n",
     "gen.yaml: workers.kubernetes.tolerations[0].key: is required with operator Equal; name the taint key, or use "
     "operator Exists to tolerate every taint"),
    ("workers: {kubernetes: {tolerations: [{operator: Exists, tolerationSeconds: 60}]}}\n",
     "gen.yaml: workers.kubernetes.tolerations[0].tolerationSeconds: applies only with effect NoExecute; set effect: "
     "NoExecute or remove it"),
    ("workers: {kubernetes: {env: [{name: TZ, value: UTC}, {name: TZ, value: CET}]}}\n",
     "gen.yaml: workers.kubernetes.env[1].name: 'TZ' is already set in env[0]; keep one"),
    ("secrets: {metadata: shared, brokerUrl: shared}\n",  # both read the key connection
     "gen.yaml: secrets.brokerUrl: 'shared' is also the Secret of secrets.metadata; each needs a Secret of its own "
     "(gen secrets would write one over the other), or, with secrets.provider manual, keys of its own"),
])
def test_what_the_api_server_would_refuse_later_is_refused_now(tmp_path, extra, expected):
    assert problems_of(tmp_path, BASE + extra) == [expected]


def test_a_1gi_request_under_a_1g_limit_is_compared_as_quantities(tmp_path):
    text = BASE + "workers: {kubernetes: {resources: {requests: {memory: 1G, cpu: 500m}, limits: {memory: 1Gi, cpu: 1}}}}\n"
    load(make_project(tmp_path, text))


def _counting_schema_checks(monkeypatch) -> list[str]:
    checked: list[str] = []
    real = config_module.schema.problems

    def problems(schema, raw, label):
        checked.append(label)
        return real(schema, raw, label)

    monkeypatch.setattr(config_module.schema, "problems", problems)
    return checked


def test_a_document_found_valid_is_not_checked_against_the_schema_again(tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    checked = _counting_schema_checks(monkeypatch)
    path = make_project(tmp_path / "project")
    first = load(path)
    assert sorted(checked) == [str(path), "charts/airflow/chart.yaml"]
    assert load(path) == first and len(checked) == 2  # the same config, gen.yaml and chart pin both known valid
    with path.open("a") as stream:
        stream.write("# a comment changes the bytes, not the document\n")
    load(path)
    assert len(checked) == 2
    monkeypatch.setattr(config_module.cache, "code_digest", lambda: "another gen")
    load(path)
    assert len(checked) == 4  # another gen, or another jsonschema, checks again


def test_an_invalid_document_is_checked_every_time(tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    checked = _counting_schema_checks(monkeypatch)
    path = make_project(tmp_path, "namespace: BAD\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="namespace"):
            load(path)
    assert checked.count(str(path)) == 2


@pytest.mark.parametrize("value", [1, 1.0, True, None, ["1.22.0"], yaml.safe_load("2026-12-08")])
def test_a_verdict_covers_only_the_document_it_was_given(tmp_path, monkeypatch, value):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    pin = {"repository": "https://airflow.apache.org", "name": "airflow", "version": "1.22.0", "airflowVersion": "3.2.2"}
    assert config_module._schema_problems("chart-pin", pin, "pin") == []  # now known valid
    [problem] = config_module._schema_problems("chart-pin", {**pin, "version": value}, "pin")
    assert problem.startswith("pin: version: ")
