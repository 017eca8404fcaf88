"""The HTTP layer: requests read (JSON, form or multipart), recorded and dispatched to
the method handlers; error envelopes; file downloads."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.fake_telegram.entities import EntityParseError
from tests.support.fake_telegram.flood import FloodMixin
from tests.support.fake_telegram.inspection import InspectionMixin
from tests.support.fake_telegram.models import (
    ApiError,
    Handler,
    JSONDict,
    RecordedRequest,
    Upload,
    _WithDescription,
)
from tests.support.fake_telegram.params import _normalize_params

logger = logging.getLogger(__name__)


class DispatchMixin(FloodMixin, InspectionMixin):
    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, Upload] = {}
        if request.method == "POST" and request.body_exists:
            try:
                await self._read_body(request, raw, files)
            except ApiError as error:
                return self._error_response(error)
        if token != self.token:
            status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            self._record(method, _normalize_params(raw), files, status, body, via="http")
            return self._json_response(status, body)
        status, body = await self._dispatch(method, _normalize_params(raw), files, via="http")
        delay = self._answer_delays.get(self._canonical(method), 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        return self._json_response(status, body)

    async def _read_body(
        self, request: web.Request, raw: dict[str, Any], files: dict[str, Upload]
    ) -> None:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: can't parse JSON")
            raw.update(body)
        elif content_type == "multipart/form-data":
            # Read parts directly: request.post() would spool files to temp files.
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                data = await part.read(decode=True)
                if part.filename is not None:
                    files[part.name] = Upload(
                        part.name, part.filename, bytes(data), part.headers.get("Content-Type")
                    )
                else:
                    raw[part.name] = bytes(data).decode(part.get_charset("utf-8"))
        elif content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    raw[key] = value

    @staticmethod
    def _json_response(status: int, body: JSONDict) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
            content_type="application/json",
        )

    def _error_response(self, error: ApiError) -> web.Response:
        return self._json_response(error.error_code, self._error_body(error))

    @staticmethod
    def _error_body(error: ApiError) -> JSONDict:
        body: JSONDict = {
            "ok": False,
            "error_code": error.error_code,
            "description": error.description,
        }
        parameters = {
            "retry_after": error.retry_after,
            "migrate_to_chat_id": error.migrate_to_chat_id,
        }
        if any(value is not None for value in parameters.values()):
            body["parameters"] = {k: v for k, v in parameters.items() if v is not None}
        return body

    def _record(
        self,
        method: str,
        params: JSONDict,
        files: dict[str, Upload],
        status: int,
        body: JSONDict,
        *,
        via: str,
    ) -> RecordedRequest:
        request = RecordedRequest(method, params, self._clock(), files, via=via)
        request.ok = bool(body.get("ok"))
        if not request.ok:
            request.error_code = status
            request.description = body.get("description")
        self.requests.append(request)
        self._calls_by_method.setdefault(method, []).append(request)
        if self._call_waiters:
            self._notify_call(request)
        return request

    async def _dispatch(
        self, method: str, params: JSONDict, files: dict[str, Upload], *, via: str
    ) -> tuple[int, JSONDict]:
        known = self._methods.get(method.lower())
        name = known[0] if known else method
        # Record before running so a long poll shows up while it waits; fill the outcome later.
        request = RecordedRequest(name, params, self._clock(), files, via=via)
        self.requests.append(request)
        self._calls_by_method.setdefault(name, []).append(request)
        status, body = await self._run(name, known, params, files)
        request.ok = bool(body.get("ok"))
        if not request.ok:
            request.error_code = status
            request.description = body.get("description")
        if self._call_waiters:
            self._notify_call(request)
        return status, body

    async def _run(
        self,
        name: str,
        known: tuple[str, Handler] | None,
        params: JSONDict,
        files: dict[str, Upload],
    ) -> tuple[int, JSONDict]:
        failure = self._take_failure(name, params)
        if failure is not None:
            error = ApiError(failure.error_code, failure.description, failure.retry_after)
            return error.error_code, self._error_body(error)
        if known is None:
            logger.info("fake telegram: unimplemented method %s", name)
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            result = await known[1](params, files)
        except ApiError as error:
            return error.error_code, self._error_body(error)
        except EntityParseError as error:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": f"Bad Request: can't parse entities: {error}",
            }
        if isinstance(result, _WithDescription):
            return 200, {"ok": True, "result": result.result, "description": result.description}
        return 200, {"ok": True, "result": result}

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._json_response(
                401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None or stored.data is None:
            return self._json_response(
                404, {"ok": False, "error_code": 404, "description": "Not Found"}
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )
