"""The base of the lab's modal screens (dialogs, help, the walkthrough picker)."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

T = TypeVar("T")


class Modal(ModalScreen[T]):
    """A modal screen that closes once: a second Enter or escape that arrives before the
    first has taken it off the screen (a fast typist, a burst of keys) does nothing."""

    closing = False

    def close(self, result: T | None) -> None:
        if not self.closing and self.is_attached and self.app.screen is self:
            self.closing = True
            self.dismiss(result)
