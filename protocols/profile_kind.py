"""A family of TOML instrument profiles: parse and check one, list and load the shipped ones.

Each family (Modbus register maps, line-based serial formats) has its own model, error class,
cross-reference checks and way of telling its files apart in ``protocols/profiles``; the rest is
the same and lives here. Reading a profile file happens at configuration time only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Generic

from .toml_lines import M, Prepare, ProfileErrorFactory, ReferenceProblems, read_source, validate_toml

BUILTIN_PACKAGE = "protocols.profiles"


@dataclass(frozen=True)
class ProfileKind(Generic[M]):
    """One profile family: ``label`` names it in messages, ``is_member`` picks its shipped files by text."""

    label: str
    model: type[M]
    error: ProfileErrorFactory
    references: ReferenceProblems[M]
    is_member: Callable[[str], bool]
    prepare: Prepare | None = None

    def parse(self, text: str, source: str) -> M:
        """Validate profile TOML ``text``; ``source`` names it in errors."""
        return validate_toml(text, source, self.model, self.error, self.references, self.prepare)

    def load(self, source: str | Path) -> M:
        """Parse a profile from a file (``Path``) or from TOML text (``str``)."""
        return self.parse(*read_source(source, self.error))

    def builtin_names(self) -> list[str]:
        """Names of this family's profiles shipped in ``protocols/profiles``."""
        folder = resources.files(BUILTIN_PACKAGE)
        return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                      if p.name.endswith(".toml") and self.is_member(p.read_text("utf-8")))

    def load_builtin(self, name: str) -> M:
        """Load the shipped profile ``name`` (e.g. ``"gr100"``)."""
        known = self.builtin_names()
        if name not in known:
            raise self.error(name, None, "", f"no built-in {self.label} {name!r}; known: {', '.join(known)}")
        resource = resources.files(BUILTIN_PACKAGE) / f"{name}.toml"
        return self.parse(resource.read_text("utf-8"), f"protocols/profiles/{name}.toml")

    def resolve(self, name_or_path: str) -> M:
        """A built-in name (no ``/`` and no ``.toml``) or a path to a profile file."""
        if "/" not in name_or_path and not name_or_path.endswith(".toml"):
            return self.load_builtin(name_or_path)
        return self.load(Path(name_or_path))
