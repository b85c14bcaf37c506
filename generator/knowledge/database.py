"""Metadata database knowledge in one place: names, connection strings and the rules of each type.

Chart 1.19.0 reads the metadata connection only from the key `connection` of the Secret named by
`data.metadataSecretName`. For an external server and for CloudNativePG, gen makes that one Secret
serve both sides: CloudNativePG bootstraps the owner role from it (`bootstrap.initdb.secret` must be
a kubernetes.io/basic-auth Secret whose `username` is the owner), and the chart connects with the
`connection` key beside `username` and `password`, so the two can never disagree.
"""

from __future__ import annotations

import ipaddress
import re

from generator.knowledge import cluster
from generator.model import BackupConfig, CloudNativePGConfig, Config

BUNDLED, EXTERNAL, CLOUDNATIVEPG = "bundled", "external", "cloudnativepg"
# gen.yaml key of a type's settings -> the `type` it belongs to
TYPE_KEYS = {"external": EXTERNAL, "cloudnativepg": CLOUDNATIVEPG}

CNPG_API_VERSION = "postgresql.cnpg.io/v1"
CNPG_KIND = "Cluster"
CNPG_PORT = 5432
# CloudNativePG's webhook refuses longer Cluster names; the names it derives must stay DNS labels.
CNPG_MAX_CLUSTER_NAME = 50
LABEL_MAX = 63
# Objects CloudNativePG names after the Cluster: Services, and per instance (serial N) the Pod, its
# claim and the Jobs that initialise or join it. Serials grow as instances are replaced: allow three digits.
CNPG_SUFFIXES = ("-rw", "-ro", "-r", "-999", "-999-initdb", "-999-join", "-999-major-upgrade")
# Roles that belong to PostgreSQL itself or that CloudNativePG creates and manages.
RESERVED_USERS = ("postgres", "streaming_replica")
# Backups through the Barman Cloud plugin (CloudNativePG 1.30 announced the removal of the built-in
# barmanObjectStore in 1.31): an ObjectStore, a plugins entry on the Cluster, ScheduledBackups.
BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
BARMAN_API_VERSION = "barmancloud.cnpg.io/v1"
# The keys the ObjectStore reads the bucket credentials from (s3Credentials).
OBJECT_STORE_KEYS = ("ACCESS_KEY_ID", "ACCESS_SECRET_KEY")
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
HOST_LABEL = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?")


def cluster_name(config: Config) -> str:
    """The CloudNativePG Cluster: <release>-db, in the release namespace."""
    return f"{config.release}-db"


def object_store_name(config: Config) -> str:
    """The Barman Cloud ObjectStore the Cluster archives WAL files and base backups to."""
    return f"{cluster_name(config)}-backups"


def scheduled_backup_name(config: Config) -> str:
    return f"{cluster_name(config)}-scheduled"


def backup(config: Config) -> BackupConfig | None:
    """database.cloudnativepg.backup when the Cluster is gen's, else None."""
    return cnpg_settings(config).backup if config.database.type == CLOUDNATIVEPG else None


def cnpg_settings(config: Config) -> CloudNativePGConfig:
    """database.cloudnativepg, or its defaults when the block is left out."""
    return config.database.cloudnativepg or CloudNativePGConfig()


def uses_bundled(config: Config) -> bool:
    return config.database.type == BUNDLED


def host(config: Config) -> str:
    """The host the chart connects to: the Cluster's read-write Service, or the external server."""
    if config.database.type == CLOUDNATIVEPG:
        return f"{cluster_name(config)}-rw.{config.namespace}"
    assert config.database.external is not None
    address = config.database.external.host
    return f"[{address}]" if ":" in address else address  # an IPv6 address is bracketed in a URL


def port(config: Config) -> int:
    if config.database.type == CLOUDNATIVEPG:
        return CNPG_PORT
    assert config.database.external is not None
    return config.database.external.port


def connection(config: Config, password: str) -> str:
    """The metadata connection URL for the database's owner (external and cloudnativepg)."""
    db = config.database
    url = f"postgresql://{db.user}:{password}@{host(config)}:{port(config)}/{db.name}"
    if db.type == EXTERNAL:
        assert db.external is not None
        url += f"?sslmode={db.external.sslmode}"
    return url


def setup_sql(config: Config, password: str) -> list[str]:
    """SQL that prepares an external server: the owner role with its password, then its database."""
    db = config.database
    return [f"CREATE ROLE {db.user} WITH LOGIN PASSWORD '{password}';",
            f"CREATE DATABASE {db.name} OWNER {db.user};"]


def _is_host(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    if len(text) > 253 or text.endswith(".") or text.replace(".", "").isdigit():
        return False
    return all(HOST_LABEL.fullmatch(label) for label in text.split("."))


def _type_problems(config: Config) -> list[str]:
    """Each type's own settings: external needs its block; the other types' blocks are refused."""
    db, where = config.database, f"{config.source.label}: database"
    found = []
    for key, owner in TYPE_KEYS.items():
        value = getattr(db, key)
        if owner == EXTERNAL and db.type == owner and value is None:
            found.append(f"{where}.external: is required with database.type external; give at least host "
                         f"(such as external: {{host: db.example.com}})")
        elif db.type != owner and value is not None:
            found.append(f"{where}.{key}: is only used with database.type {owner}; remove it or set "
                         f"database.type: {owner}")
    return found


def _name_problems(config: Config) -> list[str]:
    db, where = config.database, f"{config.source.label}: database"
    if db.type == BUNDLED:
        return []
    found = []
    for key in ("name", "user"):
        if not IDENTIFIER.fullmatch(getattr(db, key)):
            found.append(f"{where}.{key}: must be a PostgreSQL name of at most 63 characters: lowercase letters, "
                         f"digits and '_', not starting with a digit")
    if db.user in RESERVED_USERS or db.user.startswith("pg_"):
        found.append(f"{where}.user: {db.user!r} is a role of PostgreSQL or CloudNativePG itself (postgres, "
                     f"streaming_replica, pg_*); Airflow needs a role of its own, such as user: airflow")
    return found


def _external_problems(config: Config) -> list[str]:
    external = config.database.external
    if config.database.type != EXTERNAL or external is None or _is_host(external.host):
        return []
    return [f"{config.source.label}: database.external.host: {external.host!r} is neither an RFC 1123 host name "
            f"nor an IP address; write a name such as db.example.com (labels of letters, digits and '-', at most "
            f"63 characters each) or an address such as 10.0.0.7"]


def _cnpg_problems(config: Config) -> list[str]:
    if config.database.type != CLOUDNATIVEPG:
        return []
    where = f"{config.source.label}: database.cloudnativepg"
    found = []
    settings = cnpg_settings(config)
    if settings.instances < 1:
        found.append(f"{where}.instances: {settings.instances} is below 1; a Cluster needs at least one "
                     f"instance: use 1, or 3 for a highly available cluster")
    name = cluster_name(config)
    if len(name) > CNPG_MAX_CLUSTER_NAME:
        found.append(f"{config.source.label}: release: the CloudNativePG Cluster {name} would have "
                     f"{len(name)} characters, and CloudNativePG allows at most {CNPG_MAX_CLUSTER_NAME}; "
                     f"shorten release to at most {CNPG_MAX_CLUSTER_NAME - len('-db')} characters")
    else:
        longest = max((name + suffix for suffix in CNPG_SUFFIXES), key=len)
        if len(longest) > LABEL_MAX:
            found.append(f"{config.source.label}: release: CloudNativePG names objects after the Cluster "
                         f"({longest}, {len(longest)} characters) beyond Kubernetes' {LABEL_MAX}; shorten "
                         f"release by {len(longest) - LABEL_MAX} characters")
    return found


def problems(config: Config) -> list[str]:
    """Database settings that gen cannot turn into a working connection, each with its fix."""
    return (_type_problems(config) + _name_problems(config) + _external_problems(config)
            + _cnpg_problems(config))


def warnings(config: Config) -> list[str]:
    """Settings that work but that a production deployment should not keep."""
    if uses_bundled(config) and cluster.multi_node(config):
        return [f"{config.source.label}: database.type: bundled runs one PostgreSQL pod on a node-local volume "
                f"(the chart calls it not for production): with cluster.nodes {config.cluster.nodes} it does not "
                f"survive the loss of its node; use database.type cloudnativepg (instances: 3) or external"]
    return []
