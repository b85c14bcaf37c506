"""gen import under a secrets.provider: where the install's credentials go, so adopting keeps them.

- manual: the Secret manifests on standard output (secrets.secrets_text), as before;
- sops: each Secret the project reads, encrypted by `gen secrets --write`'s own code (synth/secret_files.py),
  with the install's values (its fernet key, secret keys and passwords) and fresh ones only for Secrets no
  running component reads; plaintext goes to sops through a pipe, never to a file;
- external-secrets: the values to load into the store, remote key -> properties, on standard output only.

A Secret the running release holds but the values file does not (the chart's hook Secrets: the fernet key,
the Redis password and broker URL; a Secret of the user's own) gets no new value: a fresh fernet key would
make the database's connections and variables unreadable. The user copies the running one instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import config as config_module
from generator.knowledge import credentials, secret_providers
from generator.knowledge.credentials import SecretSpec
from generator.knowledge.secret_providers import EXTERNAL_SECRETS, MANUAL, SOPS
from generator.model import Config
from generator.onboarding import scaffold
from generator.onboarding.importing import findings, secrets
from generator.plumbing import sops
from generator.plumbing.yamlio import dump_documents
from generator.synth import secret_files

PROVIDERS = (MANUAL, SOPS, EXTERNAL_SECRETS)
STORE_KINDS = ("ClusterSecretStore", "SecretStore")


def settings(provider: str, recipients: Sequence[str], store: str | None) -> tuple[dict[str, Any], list[str]]:
    """gen.yaml `secrets:` settings for --secrets-provider, --age-recipient and --secret-store, and the problems
    of combining them (usage errors). The schema checks the values themselves."""
    found = []
    if recipients and provider != SOPS:
        found.append("--age-recipient goes with --secrets-provider sops")
    if store is not None and provider != EXTERNAL_SECRETS:
        found.append("--secret-store goes with --secrets-provider external-secrets")
    if provider == SOPS and not recipients:
        found.append("--secrets-provider sops needs --age-recipient AGE (age-keygen -y KEYFILE prints it)")
    if provider == EXTERNAL_SECRETS and store is None:
        found.append("--secrets-provider external-secrets needs --secret-store NAME (or SecretStore/NAME)")
    if found or provider == MANUAL:
        return {}, found
    if provider == SOPS:
        return {"provider": SOPS, "sops": {"ageRecipients": list(recipients)}}, []
    assert store is not None
    kind, _, name = store.rpartition("/")
    if kind and kind not in STORE_KINDS:
        return {}, [(f"--secret-store: {kind!r} is not a store kind; write NAME, SecretStore/NAME or "
                     f"ClusterSecretStore/NAME")]
    return {"provider": EXTERNAL_SECRETS,
            "externalSecrets": {"store": {"kind": kind or STORE_KINDS[0], "name": name}}}, []


def origins(provider: str) -> dict[str, str]:
    """Where the provider's gen.yaml settings came from, for the schema's messages."""
    return {"secrets.sops": "--age-recipient", "secrets.externalSecrets": "--secret-store"} if provider != MANUAL \
        else {}


@dataclass(frozen=True)
class Kept:
    """The Secrets of the project's secrets tree, with the install's values where it has them."""

    given: dict[str, dict[str, Any]]  # name -> Secret with the values the install uses
    running: tuple[tuple[SecretSpec, str], ...]  # held by the running release, not in the values file
    overlays: tuple[str, ...]  # the overlays whose Secrets the tree holds


def kept(imported: findings.Imported, values_label: str) -> Kept:
    config = imported.config
    overlays = secret_providers.tree_overlays(config)
    given = secret_files.taken_secrets(config, overlays, imported.secrets, values_label)
    running = tuple((spec, name) for spec, name in credentials.required(config, [imported.overlay])
                    if name not in given)
    return Kept(given, running, overlays)


def _copy_command(config: Config, running: Sequence[tuple[SecretSpec, str]]) -> str:
    names = " ".join(name for _spec, name in running)
    return f"kubectl get secret -n {config.namespace} {names} -o yaml"


def check_tools(provider: str) -> None:
    """Fail before anything is written when the provider's tool is missing (sops, from the sops extra)."""
    if provider == SOPS:
        sops.binary()


def write(project_dir: Path, imported: findings.Imported, values_label: str) -> list[str]:
    """secrets.provider sops: write the encrypted Secret files with the install's values; the lines for standard
    error. Nothing else is written, and an existing file is kept as it is."""
    if secret_providers.provider(imported.config) != SOPS:
        return []
    chosen = kept(imported, values_label)
    config = config_module.load(project_dir / scaffold.GEN_YAML)  # the written project, at its real place
    done = secret_files.write(config, chosen.overlays, chosen.given, skip={name for _spec, name in chosen.running})
    lines = [*done.notes(), done.summary("wrote")]
    if chosen.running:
        files = ", ".join(secret_providers.sops_file(config, name) for _spec, name in chosen.running)
        overlay = f" --overlay {imported.overlay}" if config.flux.cluster else ""
        lines.append(f"gen: not written: {files}: the running release holds these Secrets and the values file does "
                     f"not; commit them as they are: {_copy_command(config, chosen.running)} | gen secrets --write "
                     f"--from - --config {project_dir / scaffold.GEN_YAML}{overlay}")
    return lines


def _store_text(imported: findings.Imported, values_label: str) -> str:
    """external-secrets: remote key -> property -> value, for the person who fills the store."""
    config = imported.config
    chosen = kept(imported, values_label)
    fresh = {secret["metadata"]["name"]: secret for secret in credentials.fill(config, chosen.overlays)}
    store = config.secrets.external_secrets.store  # type: ignore[union-attr]  # the provider has settings
    head = (f"# Values to load into the store ({store.kind} {store.name}) for the imported release "
            f"{config.namespace}/{config.release}, with the values from {scaffold.comment_text(values_label)}.\n"
            f"# Do not commit this output. One key per Secret; its properties are the Secret's keys.\n")
    running = {name for _spec, name in chosen.running}
    loaded: dict[str, dict[str, str]] = {}
    for spec, name in credentials.required(config, chosen.overlays):
        if name in running:
            head += (f"# {secret_providers.remote_key(config, name)}: not in the values file; load the keys "
                     f"({', '.join(secret_providers.remote_properties(config, spec))}) of the running Secret "
                     f"{config.namespace}/{name} as they are: {_copy_command(config, [(spec, name)])} "
                     f"(base64 in data)\n")
            continue
        values = (chosen.given.get(name) or fresh[name])["stringData"]
        loaded[secret_providers.remote_key(config, name)] = {
            key: values[key] for key in secret_providers.remote_properties(config, spec)}
    return head + (dump_documents([loaded]) if loaded else "")


def stdout_text(imported: findings.Imported, values_label: str) -> str:
    """What gen import prints on standard output: the Secrets (manual), the store's values (external-secrets),
    or nothing (sops: the values are in the encrypted files)."""
    provider = secret_providers.provider(imported.config)
    if provider == EXTERNAL_SECRETS:
        return _store_text(imported, values_label)
    return "" if provider == SOPS else secrets.secrets_text(imported, values_label)


def plan_phrases(config: Config) -> tuple[str, str, str]:
    """For the adoption plan: where the credentials went, what Flux needs of them before the first reconcile,
    and what to do with a Secret the running release holds."""
    namespace = config.namespace
    if secret_providers.provider(config) == SOPS:
        return (f"written encrypted with sops to {secret_providers.sops_dir(config)}/, in no plaintext file",
                f"the age private key in Secret flux-system/{secret_providers.SOPS_KEY_SECRET} (docs/credentials.md)",
                "; gen writes no file for it: commit it as it is (the `gen: not written` line says how)")
    if secret_providers.provider(config) == EXTERNAL_SECRETS:
        store = config.secrets.external_secrets.store  # type: ignore[union-attr]  # the provider has settings
        return ("printed on standard output as the values to load into the store, in no written file",
                f"the values printed on standard output loaded into the store ({store.kind} {store.name})",
                "; load its keys into the store as they are")
    return ("printed on standard output as Secrets, in no written file",
            f"the Secrets printed on standard output applied in {namespace}", "")
