"""One profile file, read with positions or without: ``read_profile_file`` and ``ProfileFile``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from .._errors import ConfigNotFound, ProfileValidationError
from .._safeio import PROFILE_FILE_LIMIT, FileTooLarge, NotRegularFile, read_regular
from ._limits import FILE_KEYS, MERGE, PROFILE_NAME, suggest, within_limits
from ._origin import Fragment, Origin, Path
from ._positioned import LOADER, Converter, compose, error_at, origin_at, shift_marks

if TYPE_CHECKING:
    from ._chunks import ChunkIndex

__all__ = ["ProfileFile", "read_profile_file"]

# Below this size composing the whole file takes a few milliseconds; above it, seconds (PyYAML
# composes about 1 MB a second here), so large files are split into one chunk per profile.
CHUNK_THRESHOLD = 256 * 1024

# The keys whose origin the merge looks up by key instead of falling back to the profile's
# (``connprof._merge.normalize_fragment``: name, tls and the endpoint fields uri, dsn, hosts;
# ``connprof._config``: extends). A plain reading stubs these and no others: every origin more
# is work for every merge of every profile.
_LOOKED_UP = ("tls", "name", "extends", "uri", "dsn", "hosts")


class ProfileFile:
    """One read file: its top-level settings now, each profile's data when asked for.

    Positioned (``positioned`` is True): built from the composed node tree of the whole file,
    or, for a large file in plain block style, from a ``ChunkIndex``: then only the text of the
    profiles asked for is composed. Every origin is where the value was written.

    Plain (``positioned`` is False; see ``read_profile_file(path, positions=False)``): built
    from the file read as plain data. The data are the same; the origins are one stub,
    ``Origin(path, 1, 1, 1, 1)``, given for a profile's (or ``defaults``') root, for the keys
    the merge looks up by key, and as ``default_origin``. A profile the plain data cannot give
    exactly (not a mapping, beyond the limits, a name that is not a profile name) is given by
    the positioned reading instead: its real origins, or its ``ProfileValidationError``.
    """

    def __init__(
        self, path: str, root: Any, *, text: str = "", index: ChunkIndex | None = None
    ) -> None:
        self.path = path
        self.version: int = 1
        self.default: str | None = None
        self.default_origin: Origin | None = None
        self.defaults: Fragment | None = None
        self._converter = Converter(path)
        self._entries: dict[str, list[tuple[Any, Any]]] = {}
        self._fragments: dict[str, Fragment] = {}
        self._text = text
        self._index = index
        # Whose keys are the profile names: the index's chunks, the entries or the plain data.
        self._names: dict[str, Any] = index.chunks if index is not None else self._entries
        self._plain: dict[str, Any] | None = None
        self._stub = Origin(path, 1, 1, 1, 1)  # every origin of a plain reading
        self._twin: ProfileFile | None = None  # the positioned reading behind a plain one
        if root is not None:
            self._read_top(root)

    @property
    def positioned(self) -> bool:
        """True for the positioned reading, False for the plain one (stubbed origins)."""
        return self._plain is None

    @classmethod
    def _from_plain(cls, path: str, data: dict[str, Any], twin: ProfileFile | None) -> ProfileFile:
        """The plain reading of ``data``, whose top level ``_plainly_valid`` accepted."""
        f = cls(path, None)
        f._plain = f._names = data.get("profiles") or {}
        f._twin = twin
        f.default = data.get("default")
        f.default_origin = f._stub if f.default is not None else None
        defaults = data.get("defaults")
        f.defaults = f._stubbed(defaults) if defaults is not None else None
        return f

    def _read_top(self, root: Any) -> None:
        if not isinstance(root, yaml.MappingNode):
            raise error_at(
                self.path,
                root.start_mark,
                "a profile file is a mapping with 'profiles:' (and optionally 'version', "
                "'default', 'defaults'); see connprof schema",
            )
        seen: dict[str, Any] = {}
        for knode, vnode in root.value:
            key = self._converter.key(knode)
            if key not in FILE_KEYS:
                raise error_at(
                    self.path,
                    knode.start_mark,
                    f"unknown top-level key '{key}'{suggest(key, FILE_KEYS)} (allowed: "
                    + ", ".join(FILE_KEYS)
                    + ")",
                )
            self._converter.check_unique(seen, key, knode)
            getattr(self, f"_top_{key}")(knode, vnode)

    def _top_version(self, knode: Any, vnode: Any) -> None:
        value = self._converter.scalar(vnode) if isinstance(vnode, yaml.ScalarNode) else None
        if not _is_version(value):
            raise error_at(
                self.path, vnode.start_mark, "version must be 1 (the only format so far)"
            )

    def _top_default(self, knode: Any, vnode: Any) -> None:
        value = self._converter.scalar(vnode) if isinstance(vnode, yaml.ScalarNode) else None
        if value is None:
            return
        if not isinstance(value, str) or not PROFILE_NAME.match(value):
            raise error_at(
                self.path, vnode.start_mark, "default must be the name of a profile in this file"
            )
        self.default = value
        self.default_origin = origin_at(self.path, knode.start_mark, vnode.start_mark)

    def _top_defaults(self, knode: Any, vnode: Any) -> None:
        if isinstance(vnode, yaml.ScalarNode) and self._converter.scalar(vnode) is None:
            return
        if not isinstance(vnode, yaml.MappingNode):
            raise error_at(
                self.path,
                vnode.start_mark,
                "defaults must be a mapping of profile fields (a partial profile)",
            )
        origins: dict[Path, Origin] = {}
        data = self._converter.convert_root(vnode, origins, knode)
        self.defaults = Fragment(data, origins)

    def _top_profiles(self, knode: Any, vnode: Any) -> None:
        if isinstance(vnode, yaml.ScalarNode) and self._converter.scalar(vnode) is None:
            return
        if not isinstance(vnode, yaml.MappingNode):
            raise error_at(
                self.path, vnode.start_mark, "profiles must be a mapping of NAME: profile"
            )
        for pk, pv in vnode.value:
            if pk.tag == MERGE:
                raise error_at(
                    self.path,
                    pk.start_mark,
                    "a merge key '<<' cannot stand for profiles; use 'extends: NAME' in a profile",
                )
            self._entries.setdefault(self._converter.key(pk), []).append((pk, pv))

    # -- per-profile access -------------------------------------------------------------

    def names(self) -> list[str]:
        return list(self._names)

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def name_origin(self, name: str) -> Origin:
        if self._plain is not None:
            return self._stub
        mark = self._entry_nodes(name)[0][0].start_mark
        return origin_at(self.path, mark, mark)

    def _entry_nodes(self, name: str) -> list[tuple[Any, Any]]:
        if self._index is not None and name not in self._entries:
            self._entries[name] = self._compose_chunks(name)
        return self._entries[name]

    def _compose_chunks(self, name: str) -> list[tuple[Any, Any]]:
        """Compose only the lines of profile ``name``, with marks at their places in the file."""
        assert self._index is not None
        pairs: list[tuple[Any, Any]] = []
        for start, end, line in self._index.chunks[name]:
            try:
                root: Any = yaml.compose("profiles:\n" + self._text[start:end], Loader=LOADER)
            except yaml.YAMLError:
                return self._full_entries(name)
            profiles = root.value[0][1] if isinstance(root, yaml.MappingNode) else None
            if not isinstance(profiles, yaml.MappingNode) or len(profiles.value) != 1:
                return self._full_entries(name)
            knode, vnode = profiles.value[0]
            shift_marks(knode, line - 2)
            shift_marks(vnode, line - 2)
            pairs.append((knode, vnode))
        return pairs

    def _full_entries(self, name: str) -> list[tuple[Any, Any]]:
        # The chunk did not compose on its own: let the whole file speak, errors and all.
        full = compose(self.path, self._text)
        self._index = None
        self._entries = self._names = {}
        if full is not None:
            self._read_top(full)
        return self._entries[name]

    def fragment(self, name: str) -> Fragment:
        """The profile as this file writes it (checked for name, duplicates and node budget)."""
        cached = self._fragments.get(name)
        if cached is not None:
            return cached
        if self._plain is None:
            fragment = self._positioned_fragment(name)
        else:
            fragment = self._plain_fragment(name)
        self._fragments[name] = fragment
        return fragment

    def _positioned_fragment(self, name: str) -> Fragment:
        entries = self._entry_nodes(name)
        knode, vnode = entries[0]
        if len(entries) > 1:
            again = entries[1][0].start_mark
            raise error_at(
                self.path,
                again,
                f"duplicate profile '{name}' (first at line {knode.start_mark.line + 1}); "
                "keep one of them, or use 'extends' to share settings",
            )
        if not PROFILE_NAME.match(name):
            raise error_at(
                self.path,
                knode.start_mark,
                f"bad profile name '{name}': use letters, digits, '.', '_' and '-', "
                "starting with a letter or digit",
            )
        if isinstance(vnode, yaml.ScalarNode) and self._converter.scalar(vnode) is None:
            data: Any = {}
            origins: dict[Path, Origin] = {}
        else:
            origins = {}
            data = self._converter.convert_root(vnode, origins, knode)
            if not isinstance(data, dict):
                raise error_at(
                    self.path,
                    vnode.start_mark,
                    f"profile '{name}' must be a mapping of fields (driver, hosts, tls, ...)",
                )
        origins[()] = self.name_origin(name)
        return Fragment(data, origins)

    def _plain_fragment(self, name: str) -> Fragment:
        assert self._plain is not None
        value = self._plain[name]
        if value is None:
            value = {}
        if isinstance(value, dict) and PROFILE_NAME.match(name) and within_limits(value):
            return self._stubbed(value)
        # What the positioned reading refuses, or might: it says what, and where.
        if self._twin is None:
            self._twin = read_profile_file(self.path)
        return self._twin.fragment(name)

    def _stubbed(self, data: dict[str, Any]) -> Fragment:
        origins: dict[Path, Origin] = {(): self._stub}
        origins.update({(k,): self._stub for k in _LOOKED_UP if k in data})
        return Fragment(data, origins)


def _is_version(value: Any) -> bool:
    return value == 1 and not isinstance(value, bool)


def _plainly_valid(data: dict[str, Any]) -> bool:
    """Whether the positioned reading would accept this top level as it stands.

    Anything less than plainly right (an unknown key, a bad version or default, a ``defaults``
    beyond the limits) is left to the positioned reading, which says what is wrong and where.
    """
    default = data.get("default")
    defaults = data.get("defaults")
    profiles = data.get("profiles")
    return (
        all(key in FILE_KEYS for key in data)
        and _is_version(data.get("version", 1))
        and (default is None or (isinstance(default, str) and bool(PROFILE_NAME.match(default))))
        and (defaults is None or (isinstance(defaults, dict) and within_limits(defaults)))
        and (profiles is None or isinstance(profiles, dict))
    )


def read_profile_file(
    path: str, *, positions: bool = True, positioned: ProfileFile | None = None
) -> ProfileFile:
    """Read one profile file; bad YAML is a ``ProfileValidationError`` with its position.

    ``positions=True`` (the default) gives the positioned reading: every origin is where the
    value was written.

    ``positions=False`` gives the plain reading, several times faster on a large file: the same
    data and top-level settings, every origin a stub at the file's first line (see
    ``ProfileFile``). When the file holds anything the plain reading might read otherwise
    (anchors, merge keys, tags, duplicate keys, tabs, several documents, size or nesting beyond
    the limits, a top level that is not plainly valid, YAML that does not parse), it gives the
    positioned reading instead, as ``positions=True`` does, errors and all; ``.positioned``
    tells which was given.

    ``positioned`` is a positioned reading of the same file the caller already holds: with
    ``positions=False`` it is returned instead of reading the file again, and it gives the
    profiles the plain data cannot. It is also returned when the profile names read now are not
    its names (the file changed in between).
    """
    text = _read_text(path)
    if not positions:
        from ._plain import read_plain  # deferred: only lint's first pass reads without positions

        data = read_plain(text)
        if (
            data is not None
            and _plainly_valid(data)
            and (positioned is None or set(data.get("profiles") or {}) == set(positioned.names()))
        ):
            return ProfileFile._from_plain(path, data, positioned)
        if positioned is not None:
            return positioned
    if len(text) >= CHUNK_THRESHOLD:
        from ._chunks import index_chunks  # deferred: only a large file is split

        index = index_chunks(text)
        if index is not None:
            try:
                top = yaml.compose(index.top_document(text), Loader=LOADER)
            except yaml.YAMLError:
                top = index = None  # the full composer reports it, with its position
            if index is not None:
                return ProfileFile(path, top, text=text, index=index)
    return ProfileFile(path, compose(path, text))


def _read_text(path: str) -> str:
    try:
        # Not open(): a FIFO would block it and /dev/zero never end (a cloned repository or a
        # pull request may hold either, named connprof.yaml).
        raw = read_regular(path, limit=PROFILE_FILE_LIMIT)
    except (NotRegularFile, FileTooLarge) as exc:
        raise ProfileValidationError(
            f"cannot read the file: it is {exc.strerror}; a profile file is a YAML file", path
        ) from None
    except FileNotFoundError:
        raise ConfigNotFound(
            f"{path}: no such file; check the --config path or CONNPROF_CONFIG", path
        ) from None
    except OSError as exc:
        raise ProfileValidationError(
            f"cannot read the file ({exc.strerror}); check its permissions", path
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
    # Raised here, not in the handler: the decode error's .object is the whole file, secrets
    # and all, and an error raised inside the handler would keep it as __context__.
    line = raw[:start].count(b"\n") + 1
    column = start - (raw.rfind(b"\n", 0, start) + 1) + 1
    raise ProfileValidationError("the file is not UTF-8 text; save it as UTF-8", path, line, column)
