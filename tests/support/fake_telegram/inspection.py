"""Inspecting the bot: the messages it sent and the methods it called, and waiting for
them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.support.fake_telegram.models import RecordedRequest, SentMessage
from tests.support.fake_telegram.state import FakeTelegramState


class InspectionMixin(FakeTelegramState):
    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return list(self._sent_by_chat.get(chat_id, ()))

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        found = self._sent_index.get((chat_id, message_id))
        if found is None:
            raise KeyError(f"the bot sent no message {message_id} to chat {chat_id}")
        return found

    def calls(self, method: str) -> list[RecordedRequest]:
        canonical = self._canonical(method)
        return list(self._calls_by_method.get(canonical, ()))

    def dump(self, limit: int = 20) -> str:
        recent = self.sent[-limit:]
        if not recent:
            return "  (the bot sent no messages)"
        return "\n".join("  " + message.describe() for message in recent)

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented helper signature
        since: int = 0,
    ) -> SentMessage:
        """Wait until a message (new or edited, in its current state) matches.

        `since` skips messages with seq < since (pass len(fake.sent) taken earlier to
        wait only for newer ones)."""
        for message in self.sent[since:]:
            if predicate(message):
                return message
        future: asyncio.Future[SentMessage] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future, since)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AssertionError(
                f"no matching message within {timeout}s; recent messages:\n{self.dump()}"
            ) from None
        finally:
            self._waiters.remove(waiter)

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        text_contains: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented helper signature
        since: int = 0,
    ) -> SentMessage:
        """Wait for a live (not deleted) message in chat_id, optionally containing a text."""

        def matches(message: SentMessage) -> bool:
            return (
                message.chat_id == chat_id
                and not message.deleted
                and (text_contains is None or text_contains in message.text)
            )

        try:
            return await self.wait_for(matches, timeout=timeout, since=since)
        except AssertionError as error:
            wanted = f" containing {text_contains!r}" if text_contains is not None else ""
            raise AssertionError(f"chat {chat_id}: no message{wanted}. {error}") from None

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented helper signature
    ) -> RecordedRequest:
        """Wait until the bot calls `method` (answered, ok or not), optionally matching."""
        canonical = self._canonical(method)
        for request in self._calls_by_method.get(canonical, ()):
            if request.ok is not None and (predicate is None or predicate(request)):
                return request
        future: asyncio.Future[RecordedRequest] = asyncio.get_running_loop().create_future()
        waiter = (canonical, predicate, future)
        self._call_waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            recent = ", ".join(r.method for r in self.requests[-20:])
            raise AssertionError(
                f"the bot did not call {canonical} within {timeout}s; recent calls: {recent}"
            ) from None
        finally:
            self._call_waiters.remove(waiter)

    def _notify(self, message: SentMessage) -> None:
        for predicate, future, since in self._waiters:
            if future.done() or message.seq < since:
                continue
            try:
                if predicate(message):
                    future.set_result(message)
            except Exception as error:  # surfaced in the waiting test, not in the server
                future.set_exception(error)

    def _notify_call(self, request: RecordedRequest) -> None:
        for method, predicate, future in self._call_waiters:
            if future.done() or method != request.method:
                continue
            try:
                if predicate is None or predicate(request):
                    future.set_result(request)
            except Exception as error:
                future.set_exception(error)
