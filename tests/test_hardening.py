"""Airflow on the internet: the route's Middlewares, the network policies, and whose forwarded headers count."""

from __future__ import annotations

import pytest
import yaml
from support import CHART_REFERENCE, documents, make_project, object_problems

from generator.config import load
from generator.plumbing.errors import ConfigError
from generator.synth import pipeline

BASE = "ingress:\n  host: airflow.example.com\n  tls: {certResolver: le}\n"
HARDENED = BASE + "  middlewares: [{name: authelia, namespace: auth}]\n  allowFrom: [192.168.1.0/24]\n"


def synth(tmp_path, text, **kwargs):
    path = make_project(tmp_path, text, **kwargs)
    pipeline.synth(path)
    return tmp_path


def objects(root, overlay="celery-executor"):
    return {(o["kind"], o["metadata"]["name"]): o
            for o in documents((root / "dist" / overlay / "manifests.yaml").read_text())}


def problems_of(tmp_path, text, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, text, **kwargs), "gen.yaml")
    return caught.value.problems


def route_of(found):
    return next(o for o in found.values() if o["kind"] == "IngressRoute")["spec"]["routes"][0]


def test_by_default_the_route_carries_security_headers_and_network_policies_guard_ui_and_redis(synthesized):
    found = objects(synthesized["example"])
    assert route_of(found)["middlewares"] == [{"name": "airflow-security-headers", "namespace": "airflow"}]
    assert found[("Middleware", "airflow-security-headers")]["spec"] == {"headers": {
        "stsSeconds": 31536000, "contentTypeNosniff": True, "customFrameOptionsValue": "SAMEORIGIN",
        "referrerPolicy": "same-origin"}}
    ui = found[("NetworkPolicy", "airflow-ui-ingress")]["spec"]
    assert ui["podSelector"]["matchLabels"] == {"tier": "airflow", "release": "airflow", "component": "api-server"}
    assert ui["ingress"] == [{"from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}},
        {"podSelector": {"matchLabels": {"tier": "airflow", "release": "airflow"}}}],
        "ports": [{"protocol": "TCP", "port": 8080}]}]
    redis = found[("NetworkPolicy", "airflow-redis-ingress")]["spec"]
    assert redis["podSelector"]["matchLabels"]["component"] == "redis"
    assert redis["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"tier": "airflow", "release": "airflow"}}}]
    assert redis["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 6379}]


def test_the_database_gets_the_postgresql_subcharts_own_policy_admitting_airflows_pods(synthesized):
    values = objects(synthesized["example"])[("HelmRelease", "airflow")]["spec"]["values"]
    assert values["postgresql"]["networkPolicy"] == {"enabled": True, "ingressRules": {"primaryAccessOnlyFrom": {
        "enabled": True, "podSelector": {"tier": "airflow", "release": "airflow"}}}}
    # The chart's own switch stays off: its worker and triggerer policies shut the Airflow 3 api-server out of logs.
    assert "networkPolicies" not in values


def test_the_subchart_policy_values_are_the_keys_its_template_reads():
    """bitnami postgresql 13.2.24 (in the chart archive) reads exactly these keys in its primary policy."""
    import tarfile
    with tarfile.open(CHART_REFERENCE / "airflow-1.19.0.tgz") as archive:
        member = archive.extractfile("airflow/charts/postgresql/templates/primary/networkpolicy.yaml")
        template = member.read().decode()
    assert ".Values.networkPolicy.enabled" in template
    assert ".Values.networkPolicy.ingressRules.primaryAccessOnlyFrom.enabled" in template
    assert ".Values.networkPolicy.ingressRules.primaryAccessOnlyFrom.podSelector" in template
    assert ".Values.containerPorts.postgresql" in template


def test_user_middlewares_and_an_allowlist_are_attached_in_order_after_the_headers(tmp_path):
    found = objects(synth(tmp_path, HARDENED))
    assert route_of(found)["middlewares"] == [
        {"name": "airflow-security-headers", "namespace": "airflow"},
        {"name": "airflow-allow-from", "namespace": "airflow"},
        {"name": "authelia", "namespace": "auth"},
    ]
    assert found[("Middleware", "airflow-allow-from")]["spec"] == {"ipAllowList": {"sourceRange": ["192.168.1.0/24"]}}


def test_a_middleware_without_namespace_is_looked_up_in_the_release_namespace(tmp_path):
    found = objects(synth(tmp_path, BASE + "  middlewares: [{name: oauth2-proxy}, {name: rate-limit}]\n"
                                   "  securityHeaders: false\nnamespace: tools\n"))
    assert route_of(found)["middlewares"] == [{"name": "oauth2-proxy", "namespace": "tools"},
                                             {"name": "rate-limit", "namespace": "tools"}]
    assert not [key for key in found if key[0] == "Middleware"]


def test_traefik_2_spells_the_allowlist_ip_white_list(tmp_path):
    found = objects(synth(tmp_path, HARDENED + "  apiGroup: traefik.containo.us\n"))
    allow = found[("Middleware", "airflow-allow-from")]
    assert allow["apiVersion"] == "traefik.containo.us/v1alpha1"
    assert allow["spec"] == {"ipWhiteList": {"sourceRange": ["192.168.1.0/24"]}}


@pytest.mark.parametrize("group", ["traefik.io", "traefik.containo.us"])
@pytest.mark.parametrize("overlay", ["celery-executor", "kubernetes-executor"])
def test_every_hardened_object_is_valid_against_the_crds_and_kubernetes_schemas(tmp_path, group, overlay):
    text = BASE + (f"  apiGroup: {group}\n  middlewares: [{{name: authelia, namespace: auth}}]\n"
                   "  allowFrom: [192.168.1.0/24, 2001:db8::/32, 203.0.113.7]\n")
    found = objects(synth(tmp_path, text), overlay)
    kinds = {kind for kind, _ in found}
    assert {"Middleware", "IngressRoute", "NetworkPolicy"} <= kinds
    for obj in found.values():
        for version in ("1.30.0", "1.37.0"):
            assert object_problems(obj, version) == []


def test_on_airflow_2_the_webserver_is_the_guarded_ui(synthesized):
    found = objects(synthesized["airflow2-strip"])
    ui = found[("NetworkPolicy", "airflow-ui-ingress")]
    assert ui["spec"]["podSelector"]["matchLabels"]["component"] == "webserver"
    # the stripPrefix Middleware stays next to the service, after the headers
    assert [m["name"] for m in route_of(found)["middlewares"]] == ["airflow-security-headers", "airflow-strip-prefix"]


@pytest.mark.parametrize(("distribution", "namespace", "trusted"), [
    ("k3s", "kube-system", "10.42.0.0/16"),
    ("kind", "traefik", "10.244.0.0/16"),
    ("minikube", "traefik", "10.244.0.0/16"),
    ("kubeadm", "traefik", "*"),
])
def test_traefiks_namespace_and_the_trusted_proxies_follow_the_distribution(tmp_path, distribution, namespace,
                                                                            trusted):
    found = objects(synth(tmp_path, BASE + f"cluster: {{distribution: {distribution}}}\n"))
    ui = found[("NetworkPolicy", "airflow-ui-ingress")]["spec"]
    assert ui["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": namespace}
    env = found[("HelmRelease", "airflow")]["spec"]["values"]["apiServer"]["env"]
    assert env == [{"name": "FORWARDED_ALLOW_IPS", "value": trusted}]


def test_traefik_namespace_and_trusted_proxies_can_be_set(tmp_path):
    text = BASE + "  traefikNamespace: ingress\n  trustedProxies: [10.0.0.0/8, fd00::/8]\n"
    found = objects(synth(tmp_path, text))
    ui = found[("NetworkPolicy", "airflow-ui-ingress")]["spec"]
    assert ui["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress"}
    env = found[("HelmRelease", "airflow")]["spec"]["values"]["apiServer"]["env"]
    assert env == [{"name": "FORWARDED_ALLOW_IPS", "value": "10.0.0.0/8,fd00::/8"}]


def test_network_policies_can_be_turned_off(tmp_path):
    found = objects(synth(tmp_path, BASE + "networkPolicies: {enabled: false}\n"))
    assert not [key for key in found if key[0] == "NetworkPolicy"]
    assert "networkPolicy" not in found[("HelmRelease", "airflow")]["spec"]["values"].get("postgresql", {})
    assert not (tmp_path / "dist" / "base" / "network.yaml").exists()


def test_bad_addresses_and_middlewares_are_each_reported(tmp_path):
    text = BASE + ("  allowFrom: [192.168.1.5/24, 300.1.1.1, 'bad range']\n"
                   "  trustedProxies: ['*', 10.42.0.0/16]\n"
                   "  middlewares: [{name: authelia}, {name: authelia, namespace: airflow}, {name: airflow-allow-from},"
                   " {name: 'auth@file'}]\n")
    assert problems_of(tmp_path, text) == [
        "gen.yaml: ingress.allowFrom[2]: 'bad range' must be an IPv4 or IPv6 address or network such as "
        "192.168.1.0/24, 203.0.113.7 or 2001:db8::/32",
        "gen.yaml: ingress.middlewares[3].name: 'auth@file' must be the name of a Middleware object (a DNS-1123 "
        "subdomain) such as authelia: lowercase letters, digits and '-' in parts separated by single '.', each part "
        "starting and ending with a letter or digit (no '@provider' suffix)",
    ]
    text = BASE + ("  allowFrom: [192.168.1.5/24, 300.1.1.1]\n"
                   "  trustedProxies: ['*', 10.42.0.0/16]\n"
                   "  middlewares: [{name: authelia}, {name: authelia, namespace: airflow},"
                   " {name: airflow-allow-from}]\n")
    assert problems_of(tmp_path, text) == [
        "gen.yaml: ingress.middlewares[1]: 'authelia' in namespace 'airflow' is already attached as "
        "ingress.middlewares[0]; list each Middleware once",
        "gen.yaml: ingress.middlewares[2].name: 'airflow-allow-from' is the name of the Middleware gen makes for "
        "ingress.allowFrom; rename your Middleware",
        "gen.yaml: ingress.allowFrom[0]: '192.168.1.5/24' has host bits set; write the network '192.168.1.0/24', "
        "or the single address as '192.168.1.5'",
        "gen.yaml: ingress.allowFrom[1]: '300.1.1.1' is not an IPv4 or IPv6 address or network; write one such as "
        "192.168.1.0/24 or 2001:db8::/32",
        "gen.yaml: ingress.trustedProxies: '*' already trusts every address; give '*' alone or only addresses and "
        "networks",
    ]


def test_user_values_may_not_rewrite_the_generated_database_policy(tmp_path):
    values = yaml.safe_dump({"postgresql": {"networkPolicy": {"enabled": False}}})
    found = problems_of(tmp_path, BASE, values=values)
    assert len(found) == 1 and found[0].startswith("charts/airflow/values.yaml: postgresql.networkPolicy.enabled: ")


def test_trusted_proxies_on_airflow_2_are_refused_since_nothing_reads_them(tmp_path):
    text = BASE + "  trustedProxies: [10.42.0.0/16]\nairflow: {version: 2.10.5}\n"
    assert problems_of(tmp_path, text) == [
        "gen.yaml: ingress.trustedProxies: only the Airflow 3 api-server reads it (FORWARDED_ALLOW_IPS), and "
        "airflow.version is 2.10.5; remove it (on Airflow 2 the network policy limits who may send forwarded "
        "headers)"]


def test_a_middleware_may_take_a_name_gen_leaves_unused(tmp_path):
    text = BASE + "  securityHeaders: false\n  middlewares: [{name: airflow-security-headers}]\n"
    found = objects(synth(tmp_path, text))
    assert route_of(found)["middlewares"] == [{"name": "airflow-security-headers", "namespace": "airflow"}]
    assert not [key for key in found if key[0] == "Middleware"]
