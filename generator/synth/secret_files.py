"""secrets.provider sops: the Secrets the release reads as sops-encrypted files, and the check of them.

`write` makes each missing Secret once (`<secrets.sops.path>/<name>.sops.yaml`) and never overwrites
one, so the fernet key, the JWT and API secrets and the database password are made once. `rotate`
replaces one Secret on purpose, with the Secrets whose values must agree with it. `problems` says, for
`gen synth --check` and `gen validate`, which Secret has no file, is not encrypted, or holds a plaintext
value. Values are generated in memory and reach sops through a pipe only (plumbing/sops.py).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.knowledge import credentials, database, secret_providers
from generator.knowledge.credentials import SecretSpec
from generator.model import Config
from generator.plumbing import lock, output, sops
from generator.plumbing.errors import ConfigError, GenError, OutputError
from generator.plumbing.yamlio import GENERATED_MAX_BYTES, dump_documents, load_file, load_generated, read_text
from generator.synth.constructs.api import MANAGED_BY, PRUNE_DISABLED

ENCRYPTED_PREFIX = "ENC["


@dataclass(frozen=True)
class Written:
    written: tuple[str, ...]  # relative paths, in the order of the credentials table
    existing: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def notes(self) -> list[str]:
        """The lines for standard error: the files kept, then the warnings."""
        kept = [f"gen: {len(self.existing)} exist, kept as they are: {', '.join(self.existing)}"] if self.existing else []
        return kept + [f"warning: {line}" for line in self.warnings]

    def summary(self, verb: str) -> str:
        count = f"{len(self.written)} file{'' if len(self.written) == 1 else 's'}"
        return f"gen: {verb} {count}{': ' if self.written else ''}{', '.join(self.written)}"


def namespace_document(config: Config) -> str:
    """The release Namespace, which the secrets tree holds: the Secrets need it before the release exists."""
    return dump_documents([{"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"annotations": PRUNE_DISABLED, "labels": MANAGED_BY,
                                         "name": config.namespace}}])


def _linked(config: Config) -> tuple[tuple[str, ...], ...]:
    """Settings whose values are made together: a URL holds the password of another Secret."""
    groups = [("redisPassword", "brokerUrl")]
    if database.uses_bundled(config):
        groups.append(("postgresql", "metadata"))
    return tuple(groups)


def _recipients(config: Config) -> tuple[str, ...]:
    assert config.secrets.sops is not None
    return config.secrets.sops.age_recipients


def _encrypt(config: Config, secret: dict[str, Any]) -> str:
    relative = secret_providers.sops_file(config, secret["metadata"]["name"])
    return sops.encrypt(dump_documents([secret]), relative, _recipients(config), secret_providers.ENCRYPTED_REGEX,
                        config.source.project_dir)


def _exists(config: Config, relative: str) -> bool:
    return (config.source.project_dir / relative).exists() or (config.source.project_dir / relative).is_symlink()


def given_secrets(config: Config, overlays: Sequence[str], text: str, label: str) -> dict[str, dict[str, Any]]:
    """The Secrets the release reads, from `text` (Secrets or a List of them, as `kubectl get -o yaml` prints
    them): name -> Secret of the release's type with the same values. Values are never echoed."""
    documents = [d for d in load_generated(text) if isinstance(d, dict)]
    items = [i for d in documents for i in (d.get("items") or [] if d.get("kind") == "List" else [d])]
    return taken_secrets(config, overlays, items, label)


def taken_secrets(config: Config, overlays: Sequence[str], items: Sequence[Any],
                  label: str) -> dict[str, dict[str, Any]]:
    """Of the Secret manifests `items`, those the release reads, as Secrets of the release's type and namespace
    with the same values (`data` base64, or `stringData`); raise ConfigError for one whose keys do not fit."""
    by_name = {i["metadata"]["name"]: i for i in items if isinstance(i, dict) and i.get("kind") == "Secret"
               and isinstance(i.get("metadata"), dict)}
    taken, found = {}, []
    for spec, name in credentials.required(config, overlays):
        if name not in by_name:
            continue
        given = by_name[name]
        try:
            values = {**{k: base64.b64decode(v).decode("utf-8") for k, v in (given.get("data") or {}).items()},
                      **{k: str(v) for k, v in (given.get("stringData") or {}).items()}}
        except (ValueError, TypeError, AttributeError):
            found.append(f"{label}: Secret {name}: data is not base64 of UTF-8 text")
            continue
        keys = credentials.secret_keys(config, spec)
        if set(values) != set(keys):
            found.append(f"{label}: Secret {name}: has keys {', '.join(sorted(values)) or 'none'}, but the release "
                         f"reads {', '.join(sorted(keys))}")
            continue
        taken[name] = {"apiVersion": "v1", "kind": "Secret", "type": credentials.secret_type(config, spec),
                       "metadata": {"name": name, "namespace": credentials.secret_namespace(config, spec)},
                       "stringData": values}
    if found:
        raise ConfigError(found)
    return taken


def write(config: Config, overlays: Sequence[str], given: dict[str, dict[str, Any]] | None = None,
          skip: Collection[str] = ()) -> Written:
    """Create every missing Secret file (and the Namespace file); leave every existing one as it is.

    `given` Secrets (an install's own, to keep its fernet key and passwords) are written instead of fresh ones;
    the Secrets named in `skip` (ones a running release holds and nobody gave) are not written at all."""
    project_dir = config.source.project_dir
    pairs = [(spec, name, secret) for (spec, name), secret in
             zip(credentials.required(config, overlays), credentials.fill(config, overlays), strict=True)
             if name not in skip and not _exists(config, secret_providers.sops_file(config, name))]
    if unmade := [f"{config.source.label}: {spec.where}: {why}; or give it with --from FILE"
                  for spec, name, _secret in pairs
                  if name not in (given or {}) and (why := credentials.unfillable(config, spec))]:
        raise ConfigError(unmade)
    missing = [(given or {}).get(name, secret) for _spec, name, secret in pairs]
    existing = tuple(secret_providers.sops_file(config, name) for _spec, name in credentials.required(config, overlays)
                     if _exists(config, secret_providers.sops_file(config, name)))
    # One sops process per Secret, side by side: each waits mostly on process start.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        encrypted = list(pool.map(lambda secret: _encrypt(config, secret), missing))
    files = {secret_providers.sops_file(config, s["metadata"]["name"]): text
             for s, text in zip(missing, encrypted, strict=True)}
    namespace = secret_providers.namespace_file(config)
    if not _exists(config, namespace):
        files[namespace] = namespace_document(config)
    with lock.project_lock(project_dir):
        try:
            output.create_files(project_dir, files)
        except OutputError:
            raise  # create_files has removed what it created, and nothing else is this run's
        except BaseException:
            # Interrupted (Ctrl-C) between two files: none of this run's stays, so a rerun makes the Secrets
            # whose values agree (a URL and its password) together again. The lock keeps others out.
            for relative in files:
                (project_dir / relative).unlink(missing_ok=True)
            raise
    return Written(written=tuple(files), existing=existing, warnings=tuple(_disagreeing(config, overlays, files)))


def _disagreeing(config: Config, overlays: Sequence[str], written: dict[str, str]) -> list[str]:
    """A Secret made now beside an older one whose values it must agree with (a URL holds its password)."""
    by_setting = {spec.setting: secret_providers.sops_file(config, name)
                  for spec, name in credentials.required(config, overlays)}
    found = []
    for group in _linked(config):
        paths = [by_setting[s] for s in group if s in by_setting]
        new, old = [p for p in paths if p in written], [p for p in paths if p not in written]
        if new and old:
            found.append(f"{', '.join(new)} made now does not agree with {', '.join(old)}; run `gen secrets "
                         f"--rotate` on one of them to make both anew")
    return found


def _spec_named(config: Config, overlays: Sequence[str], secret_name: str) -> SecretSpec:
    required = credentials.required(config, overlays)
    for spec, name in required:
        if name == secret_name:
            return spec
    raise ConfigError(f"--rotate: {secret_name!r} is not a Secret the release reads; choose one of "
                      f"{', '.join(name for _spec, name in required)}")


def _current_fernet(config: Config, relative: str) -> str:
    """The fernet key now in use (the first of the file's keys), decrypted in memory."""
    text = read_text(Path(relative), relative, max_bytes=GENERATED_MAX_BYTES, within=config.source.project_dir)
    try:
        plain = sops.decrypt(text, relative, config.source.project_dir)
    except GenError as exc:
        raise GenError([f"{relative}: the current fernet key is needed to rotate it, and {line}; give sops the "
                        f"age key (SOPS_AGE_KEY_FILE=PATH)" for line in exc.problems]) from None
    documents = load_generated(plain)
    secret = documents[0] if len(documents) == 1 and isinstance(documents[0], dict) else {}
    return str((secret.get("stringData") or {}).get("fernet-key", "")).split(",")[0]


def rotate(config: Config, overlays: Sequence[str], secret_name: str) -> Written:
    """Replace the Secret `secret_name` (and those whose values must agree with it) with fresh values."""
    spec = _spec_named(config, overlays, secret_name)
    if why := credentials.unfillable(config, spec):
        raise ConfigError(f"--rotate: {secret_name}: gen cannot make its values; {why}")
    group = next((g for g in _linked(config) if spec.setting in g), (spec.setting,))
    fresh = {s.setting: secret for (s, _name), secret in
             zip(credentials.required(config, overlays), credentials.fill(config, overlays), strict=True)}
    relative = secret_providers.sops_file(config, secret_name)
    if spec.setting == "fernetKey" and _exists(config, relative):
        current = _current_fernet(config, relative)
        new = fresh["fernetKey"]["stringData"]["fernet-key"]
        fresh["fernetKey"]["stringData"]["fernet-key"] = f"{new},{current}" if current else new
    files = {secret_providers.sops_file(config, fresh[s]["metadata"]["name"]): _encrypt(config, fresh[s])
             for s in group if s in fresh}
    with lock.project_lock(config.source.project_dir):
        for path, text in files.items():
            target = config.source.project_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            output.write_atomically(target, text)
    warnings = [f"{secret_providers.sops_file(config, fresh[s]['metadata']['name'])}: {why}" for s in group
                if s in fresh and (why := secret_providers.rotation_note(credentials.spec(s)))]
    return Written(written=tuple(files), existing=(), warnings=tuple(warnings))


def _write_command(config: Config, spec: SecretSpec) -> str:
    """How to make the Secret's file: with its values from --from when gen cannot make them."""
    if credentials.unfillable(config, spec):
        return "`gen secrets --write --from FILE` with its values (gen cannot make them)"
    return "`gen secrets --write`"


def _secret_problems(config: Config, spec: SecretSpec, name: str, relative: str) -> list[str]:
    try:
        secret = load_file(Path(relative), relative, within=config.source.project_dir)
    except GenError as exc:
        return exc.problems
    fix = f"remove it and run {_write_command(config, spec)}"
    if not isinstance(secret, dict) or secret.get("kind") != "Secret":
        return [f"{relative}: is not a Secret; {fix}"]
    found = []
    metadata = secret.get("metadata") if isinstance(secret.get("metadata"), dict) else {}
    want = (name, credentials.secret_namespace(config, spec), credentials.secret_type(config, spec))
    have = (metadata.get("name"), metadata.get("namespace"), secret.get("type", "Opaque"))
    if have != want:
        found.append(f"{relative}: is Secret {have[1]}/{have[0]} of type {have[2]}, but the release reads "
                     f"{want[1]}/{want[0]} of type {want[2]}; {fix}")
    sops_metadata = secret.get("sops")
    if not isinstance(sops_metadata, dict) or not sops_metadata.get("mac"):
        return [*found, f"{relative}: is not encrypted with sops; {fix}"]
    content = {**(secret.get("data") or {}), **(secret.get("stringData") or {})}
    for key, value in sorted(content.items()):
        if not (isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX)):
            found.append(f"{relative}: {key}: holds a plaintext value; {fix}, and replace the credential, which "
                         f"may have been committed")
    keys = set(credentials.secret_keys(config, spec))
    if set(content) != keys:
        found.append(f"{relative}: has keys {', '.join(sorted(content)) or 'none'}, but the release reads "
                     f"{', '.join(sorted(keys))}; {fix}")
    return found


def problems(config: Config, overlays: Sequence[str]) -> list[str]:
    """One line per Secret the release reads that has no file, is not encrypted, or holds a plaintext value."""
    if secret_providers.provider(config) != secret_providers.SOPS:
        return []
    found = []
    for spec, name in credentials.required(config, overlays):
        relative = secret_providers.sops_file(config, name)
        if not _exists(config, relative):
            found.append(f"{relative}: missing; run {_write_command(config, spec)}")
        else:
            found += _secret_problems(config, spec, name, relative)
    if not _exists(config, secret_providers.namespace_file(config)):
        found.append(f"{secret_providers.namespace_file(config)}: missing; run `gen secrets --write`")
    return found
