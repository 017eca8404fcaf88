"""Files: uploads and file ids, photo sizes, the size limits, and getFile."""

from __future__ import annotations

import hashlib
import mimetypes
import struct
from typing import Any

from tests.support.fake_telegram.models import ApiError, JSONDict, Upload, _StoredFile
from tests.support.fake_telegram.state import FakeTelegramState

_PHOTO_LIMIT = 10 * 1024 * 1024

_DOCUMENT_LIMIT = 50 * 1024 * 1024


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG/JPEG/GIF/WEBP/BMP, or None when it is not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg_size(data) or (512, 512)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return (512, 512)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(data[index + 5 : index + 7], "big")
            width = int.from_bytes(data[index + 7 : index + 9], "big")
            return width, height
        index += 2 + length
    return None


class FilesMixin(FakeTelegramState):
    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        filename: str | None,
        mime_type: str | None,
        size: tuple[int, int] = (0, 0),
        url: str | None = None,
    ) -> _StoredFile:
        number = next(self._file_counter)
        digest = hashlib.sha1(data or (url or "").encode(), usedforsecurity=False).hexdigest()
        extension = mimetypes.guess_extension(mime_type or "") or ""
        if filename and "." in filename:
            extension = "." + filename.rsplit(".", 1)[1]
        stored = _StoredFile(
            file_id=f"{kind[:3].upper()}{number:08d}{digest[:24]}",
            unique_id=f"U{digest[:15]}",
            kind=kind,
            data=data,
            filename=filename,
            mime_type=mime_type,
            path=f"{kind}s/file_{number}{extension}",
            url=url,
            width=size[0],
            height=size[1],
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.path] = stored
        return stored

    @staticmethod
    def _photo_size(stored: _StoredFile) -> JSONDict:
        size: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "width": stored.width or 512,
            "height": stored.height or 512,
        }
        if stored.data is not None:
            size["file_size"] = len(stored.data)
        return size

    @staticmethod
    def _document_dict(stored: _StoredFile) -> JSONDict:
        document: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.unique_id}
        if stored.filename:
            document["file_name"] = stored.filename
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        if stored.data is not None:
            document["file_size"] = len(stored.data)
        return document

    def _input_file(self, params: JSONDict, files: dict[str, Upload], kind: str) -> _StoredFile:
        value = params.get(kind)
        upload: Upload | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        elif (value is None or value == "") and kind in files:
            upload = files[kind]
        elif isinstance(value, str) and value:
            known = self._files.get(value)
            if known is not None:
                return known
            if value.startswith(("http://", "https://")):
                return self._store_file(kind, None, value.rsplit("/", 1)[-1], None, url=value)
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        else:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if not upload.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if kind == "photo":
            if len(upload.data) > _PHOTO_LIMIT:
                raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
            size = _image_size(upload.data)
            if size is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            return self._store_file(kind, upload.data, upload.filename, "image/jpeg", size)
        if len(upload.data) > _DOCUMENT_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        mime = mimetypes.guess_type(upload.filename or "")[0] or "application/octet-stream"
        return self._store_file(kind, upload.data, upload.filename, mime)

    async def _get_file(self, params: JSONDict, files: dict[str, Upload]) -> Any:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        result: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_path": stored.path,
        }
        if stored.data is not None:
            result["file_size"] = len(stored.data)
        return result
