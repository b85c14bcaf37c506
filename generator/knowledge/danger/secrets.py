"""The Secrets the release reads, between two configs: they are in no generated file, so the objects
cannot show that one changes type, moves to another name, or must now hold another connection.

gen never writes a Secret; the user creates each one (`gen secrets --name NAME` prints one). A
Secret's `type` is immutable (pkg/apis/core/validation/validation.go ValidateSecretUpdate:
"field is immutable"), so a new type means delete and create. A step that would replace a key
that encrypts stored data says so: Airflow cannot read what the old key encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.knowledge import credentials, database
from generator.knowledge.danger.finding import MERGE_NOW, REFUSED, RUNBOOK, Finding
from generator.model import Config

# Keys that encrypt stored data: replacing them on a running install loses what they protect.
STORED_DATA_KEYS = {
    "fernetKey": "a new fernet key on a running install makes the existing connections and variables unreadable",
}


@dataclass(frozen=True)
class _Secret:
    setting: str
    namespace: str
    name: str
    type: str
    keys: tuple[str, ...]
    where: str  # the gen.yaml setting that names it
    unfillable: str | None  # why gen cannot make its values, or None


def _secrets(config: Config, overlay: str) -> dict[str, _Secret]:
    found = {}
    for spec, name in credentials.required(config, [overlay]):
        found[spec.setting] = _Secret(spec.setting, credentials.secret_namespace(config, spec), name,
                                      credentials.secret_type(config, spec), credentials.secret_keys(config, spec),
                                      spec.where, credentials.unfillable(config, spec))
    return found


def _host(config: Config) -> str:
    if database.uses_bundled(config):
        return f"{config.release}-postgresql.{config.namespace}"
    return database.host(config)


def _target(config: Config) -> tuple[object, ...]:
    """What the metadata connection points at: another target means another connection string."""
    if database.uses_bundled(config):
        return config.database.type, _host(config)
    return (config.database.type, _host(config), database.port(config), config.database.name, config.database.user)


def _create(secret: _Secret) -> str:
    """The step that creates `secret` with fresh values, and the warning when fresh values lose data."""
    made = secret.unfillable or f"gen secrets --name {secret.name} | kubectl apply -f -"
    step = f"create Secret {secret.namespace}/{secret.name} (type {secret.type}, keys {', '.join(secret.keys)}): {made}"
    warning = STORED_DATA_KEYS.get(secret.setting)
    return f"{step}; warning: {warning}: copy the old key into it instead" if warning else step


def _finding(overlay: str, secret: _Secret, field: str, old: str, new: str, why: str, steps: tuple[str, ...],
             category: str = RUNBOOK) -> Finding:
    return Finding(overlay, "Secret", secret.namespace, secret.name, field, old, new, why, steps, category)


def findings(section: str, old: Config, new: Config, overlays: tuple[str, str]) -> list[Finding]:
    """Each Secret the release reads that must be created, recreated or refilled for the change; `overlays`
    is the overlay of the old side and of the new (another one when the deployed overlay changes)."""
    overlay = section
    before, after = _secrets(old, overlays[0]), _secrets(new, overlays[1])
    found = []
    for setting, secret in after.items():
        was = before.get(setting)
        if was is None:
            found.append(_finding(overlay, secret, "metadata.name", "(not read)", secret.name,
                                  "the release now reads this Secret, and pods that need it wait until it exists",
                                  (_create(secret), MERGE_NOW)))
        elif (was.namespace, was.name) != (secret.namespace, secret.name):
            copy = (f"create Secret {secret.namespace}/{secret.name} with the values of {was.namespace}/{was.name} "
                    f"(kubectl -n {was.namespace} get secret {was.name} -o yaml, rename it, kubectl apply)")
            warning = STORED_DATA_KEYS.get(setting)
            steps = (copy + (f"; warning: {warning}, so never fill it with fresh values" if warning else ""),
                     MERGE_NOW, f"delete Secret {was.namespace}/{was.name} once Airflow runs on the new one")
            found.append(_finding(overlay, secret, "metadata.name", f"{was.namespace}/{was.name}",
                                  f"{secret.namespace}/{secret.name}",
                                  f"the release reads {secret.where} from another Secret", steps))
        elif was.type != secret.type:
            steps = (f"keep the old values (kubectl -n {secret.namespace} get secret {secret.name} -o yaml > "
                     f"{secret.name}.old.yaml)", f"delete it (kubectl -n {secret.namespace} delete secret {secret.name})",
                     _create(secret), MERGE_NOW)
            found.append(_finding(overlay, secret, "type", was.type, secret.type,
                                  "refused: a Secret's type is immutable, so it must be deleted and created anew",
                                  steps, REFUSED))
        elif setting == "metadata" and _target(old) != _target(new):
            found.append(_finding(overlay, secret, "connection", f"{old.database.type} {_host(old)}",
                                  f"{new.database.type} {_host(new)}",
                                  "the metadata connection must point at the new database, or Airflow keeps using "
                                  "the old one", (f"replace its keys {', '.join(secret.keys)} with the new database's "
                                                  f"(gen secrets --name {secret.name} prints them)", MERGE_NOW)))
    return found
