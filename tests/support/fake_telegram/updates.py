"""Updates: queued for the bot, fetched by getUpdates long polling or pushed to its
webhook (with retries and redelivery)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.support.fake_telegram.dispatch import DispatchMixin
from tests.support.fake_telegram.models import (
    ApiError,
    JSONDict,
    Upload,
    WebhookDelivery,
    _Webhook,
    _WithDescription,
)
from tests.support.fake_telegram.params import _as_int, _normalize_params

# getUpdates without allowed_updates delivers everything except these (Bot API docs).
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class UpdatesMixin(DispatchMixin):
    def queue_update(self, payload: JSONDict) -> JSONDict:
        """Queue an arbitrary update (e.g. {"my_chat_member": {...}}); assigns update_id."""
        update: JSONDict = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        self._pending[update["update_id"]] = update
        self.updates.append(update)
        if self._webhook is not None:
            self._webhook_queue.append(update["update_id"])
            self._webhook_wakeup.set()
        else:
            self._wake_poller("update")
        return update

    def redeliver(self, update_id: int) -> JSONDict:
        """Push an already acknowledged update to the webhook again, as Telegram does
        when the bot's answer came too late or was lost on the way."""
        if self._webhook is None:
            raise RuntimeError("redelivery happens only to a webhook; none is set")
        update = next((u for u in self.updates if u["update_id"] == update_id), None)
        if update is None:
            raise KeyError(f"no update {update_id} was ever queued")
        self._pending[update_id] = update
        self._webhook_queue.append(update_id)
        self._webhook_wakeup.set()
        return update

    @property
    def webhook_url(self) -> str | None:
        """The URL the bot registered with setWebhook (None in polling mode)."""
        return self._webhook.url if self._webhook is not None else None

    async def wait_for_webhook_delivery(
        self,
        update_id: int,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the same signature as the other waits
    ) -> WebhookDelivery:
        """Wait until the webhook has answered `update_id` `count` times (any status)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            done = [d for d in self.webhook_deliveries if d.update_id == update_id]
            if len(done) >= count:
                return done[count - 1]
            if loop.time() >= deadline:
                raise AssertionError(
                    f"update {update_id} was answered {len(done)} times, not {count}, "
                    f"within {timeout}s"
                )
            await asyncio.sleep(0.01)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by getUpdates offset / acknowledged by the webhook."""
        return list(self._pending.values())

    # ------------------------------------------------------------------ methods: updates

    def _allowed_types(self, allowed: list[str] | None) -> Callable[[str], bool]:
        if allowed:
            allowed_set = frozenset(allowed)
            return lambda kind: kind in allowed_set
        return lambda kind: kind not in _OPT_IN_UPDATES

    @staticmethod
    def _update_type(update: JSONDict) -> str:
        return next((key for key in update if key != "update_id"), "")

    def _collect_updates(self, limit: int) -> list[JSONDict]:
        allowed = self._allowed_types(self._allowed_updates)
        result: list[JSONDict] = []
        dropped: list[int] = []
        for update_id, update in self._pending.items():
            if not allowed(self._update_type(update)):
                # Telegram never creates updates of types the bot did not ask for.
                dropped.append(update_id)
                continue
            result.append(update)
            if len(result) >= limit:
                break
        for update_id in dropped:
            del self._pending[update_id]
        return result

    def _wake_poller(self, reason: str) -> None:
        waiter = self._poll_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(reason)

    async def _get_updates(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset")) or 0
        limit = min(100, max(1, _as_int(params.get("limit")) or 100))
        timeout = max(0, _as_int(params.get("timeout")) or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        # A newer getUpdates terminates the one still waiting, like on Telegram.
        self._wake_poller("conflict")
        # Confirm: updates below offset are forgotten; a negative offset keeps the last -offset.
        if offset > 0:
            while self._pending and next(iter(self._pending)) < offset:
                self._pending.popitem(last=False)
        elif offset < 0:
            while len(self._pending) > -offset:
                self._pending.popitem(last=False)
        updates = self._collect_updates(limit)
        if updates or timeout == 0 or self._closed:
            return updates
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not updates:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            waiter: asyncio.Future[str] = loop.create_future()
            self._poll_waiter = waiter
            try:
                done, _ = await asyncio.wait({waiter}, timeout=remaining)
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            reason = waiter.result() if done else "timeout"
            if not done:
                waiter.cancel()
            if reason == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if reason == "webhook":
                raise ApiError(409, "Conflict: terminated by setWebhook request")
            if reason in ("closed", "timeout"):
                break
            updates = self._collect_updates(limit)
        return updates

    async def _set_webhook(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params, files)
        if not url.startswith(("http://", "https://")):
            raise ApiError(
                400,
                "Bad Request: bad webhook: Webhook can be set up only on ports "
                "80, 88, 443 or 8443",
            )
        secret = params.get("secret_token")
        if secret is not None and secret != "" and not _SECRET_RE.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = _as_int(params.get("max_connections")) or 40
        if not 1 <= max_connections <= 100:
            raise ApiError(400, "Bad Request: bad webhook: invalid max_connections")
        allowed = params.get("allowed_updates")
        allowed_list = [str(k) for k in allowed] if isinstance(allowed, list) else None
        if allowed_list is None and self._webhook is not None:
            allowed_list = self._webhook.allowed_updates
        if params.get("drop_pending_updates"):
            self._pending.clear()
        await self._stop_webhook_pusher()
        self._wake_poller("webhook")
        self._webhook = _Webhook(
            url, str(secret) if secret else None, max_connections, allowed_list
        )
        self._webhook_last_error = None
        self._webhook_queue = deque(self._pending)
        self._webhook_wakeup = asyncio.Event()
        self._webhook_wakeup.set()
        self._webhook_task = asyncio.create_task(self._webhook_pusher(self._webhook))
        return _WithDescription(True, "Webhook was set")

    async def _delete_webhook(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        had_webhook = self._webhook is not None
        await self._stop_webhook_pusher()
        self._webhook = None
        self._webhook_queue.clear()
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return _WithDescription(
            True, "Webhook was deleted" if had_webhook else "Webhook is already deleted"
        )

    async def _get_webhook_info(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        hook = self._webhook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if self._webhook_last_error is not None:
                info["last_error_date"] = self._webhook_last_error[0]
                info["last_error_message"] = self._webhook_last_error[1]
        return info

    async def _stop_webhook_pusher(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _webhook_pusher(self, hook: _Webhook) -> None:
        """Push pending updates to the webhook, up to max_connections at a time."""
        slots = asyncio.Semaphore(hook.max_connections)
        in_flight: set[asyncio.Task[None]] = set()
        allowed = self._allowed_types(hook.allowed_updates)
        try:
            while True:
                await self._webhook_wakeup.wait()
                self._webhook_wakeup.clear()
                while self._webhook_queue:
                    update_id = self._webhook_queue.popleft()
                    update = self._pending.get(update_id)
                    if update is None:
                        continue
                    if not allowed(self._update_type(update)):
                        del self._pending[update_id]
                        continue
                    await slots.acquire()
                    task = asyncio.create_task(self._deliver(hook, update, slots))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
        finally:
            for task in list(in_flight):
                task.cancel()
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)

    async def _deliver(self, hook: _Webhook, update: JSONDict, slots: asyncio.Semaphore) -> None:
        update_id = update["update_id"]
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        status: int | None = None
        error: str | None = None
        reply: tuple[JSONDict, dict[str, Upload]] | None = None
        try:
            assert self._client is not None
            async with self._client.post(
                hook.url,
                data=json.dumps(update, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                status = response.status
                if 200 <= status < 300:
                    reply = await self._read_webhook_reply(response)
                else:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection error: {type(exc).__name__}: {exc}"
        finally:
            slots.release()
        self.webhook_deliveries.append(WebhookDelivery(update_id, status, error, self._clock()))
        if error is None:
            self._pending.pop(update_id, None)
            if reply is not None:
                await self._dispatch(
                    reply[0].pop("method"), reply[0], reply[1], via="webhook_reply"
                )
            return
        self._webhook_last_error = (int(self._wall_clock()), error)
        # Telegram keeps retrying a failed update; later ones are not held back by it.
        await asyncio.sleep(self.webhook_retry_delay)
        if self._webhook is hook and update_id in self._pending:
            self._webhook_queue.appendleft(update_id)
            self._webhook_wakeup.set()

    @staticmethod
    async def _read_webhook_reply(
        response: aiohttp.ClientResponse,
    ) -> tuple[JSONDict, dict[str, Upload]] | None:
        """A webhook may answer with a method call (aiogram does with handle_in_background
        off); Telegram executes it without returning the result."""
        content_type = response.content_type
        raw: dict[str, Any] = {}
        files: dict[str, Upload] = {}
        if content_type == "application/json":
            with contextlib.suppress(ValueError, aiohttp.ContentTypeError):
                body = await response.json()
                if isinstance(body, dict):
                    raw.update(body)
        elif content_type == "multipart/form-data":
            reader = aiohttp.MultipartReader(response.headers, response.content)
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                data = bytes(await part.read(decode=True))
                if part.filename is not None:
                    files[part.name] = Upload(part.name, part.filename, data)
                else:
                    raw[part.name] = data.decode(part.get_charset("utf-8"))
        if not isinstance(raw.get("method"), str):
            return None
        return _normalize_params(raw), files
