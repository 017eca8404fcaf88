"""Which renderer turns each outbox kind into a message. Every feature registers its own
kinds; a kind registered twice is refused, so one feature cannot silently take over
another's rows (as a dict merge would, by the order of its arguments)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from bot.outbox.contracts import Renderer


class DuplicateKind(ValueError):
    """An outbox kind was registered by two features."""


class RendererRegistry(Mapping[str, Renderer]):
    """A read-only mapping once built: kind -> renderer."""

    def __init__(self) -> None:
        self._renderers: dict[str, Renderer] = {}

    def register(self, kind: str, renderer: Renderer) -> None:
        if kind in self._renderers:
            raise DuplicateKind(f"outbox kind {kind!r} is registered twice")
        self._renderers[kind] = renderer

    def register_all(self, renderers: Mapping[str, Renderer]) -> None:
        for kind, renderer in renderers.items():
            self.register(kind, renderer)

    def __getitem__(self, kind: str) -> Renderer:
        return self._renderers[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._renderers)

    def __len__(self) -> int:
        return len(self._renderers)
