"""Posted forms, parsed here: urlencoded only (no multipart dependency), within the server's
request body limit (``PARLEY_MAX_BODY_BYTES``: one setting for the API and the pages)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from urllib.parse import parse_qs

from fastapi import Request

from parley.errors import InvalidInputError, LimitExceededError


class Form:
    """A posted urlencoded form, read the way the pages need it."""

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self.fields = fields

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def required(self, name: str, what: str) -> str:
        value = self.get(name).strip()
        if not value:
            raise InvalidInputError(f"{what} is required")
        return value

    def words(self, name: str, what: str) -> str:
        """Text a person typed: white space tidied, NFC (as signed data must be), never empty."""
        return unicodedata.normalize("NFC", " ".join(self.required(name, what).split()))

    def prefixed(self, prefix: str) -> dict[str, str]:
        return {
            k[len(prefix) :]: v[0] for k, v in self.fields.items() if k.startswith(prefix) and v
        }


async def read_form(request: Request) -> Form:
    """The request's body as a form, refused when too large or not UTF-8."""
    data = await request.body()
    limit = int(request.app.state.context.settings.limits.max_body_bytes)
    if len(data) > limit:
        raise LimitExceededError(
            f"the form is larger than {limit:,} bytes (the server's PARLEY_MAX_BODY_BYTES)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("the form is not UTF-8") from exc
    return Form(parse_qs(text, keep_blank_values=True, max_num_fields=2000))
