"""Chats that go wrong the way Telegram's do, for tests: removed chats, groups upgraded to
supergroups, messages refused for their content, answers that come too late."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from playground.protocol import ApiError, JSONDict, int_param

SEND_METHODS = frozenset({"sendMessage"})
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"


@dataclass
class _Refusal:
    """sendMessage to one chat answered with an error, after `after` sends went through."""

    error: ApiError
    after: int = 0
    count: int | None = None  # None: for good
    formatted_only: bool = False  # only messages with a parse_mode (plain text goes through)


class ChatFaults:
    """Failure injection per chat; the server calls :meth:`_check_chat_faults` for each call,
    and :meth:`_reply_delay` after it, with its condition variable held."""

    _cond: threading.Condition
    _chats: dict[int, JSONDict]
    _message_ids: defaultdict[int, Iterator[int]]
    _members: dict[tuple[int, int], str]

    def _init_faults(self) -> None:
        self._refusals: defaultdict[int, list[_Refusal]] = defaultdict(list)
        self._slow: defaultdict[int, list[float]] = defaultdict(list)

    # -- for tests ------------------------------------------------------------------------
    def refuse_messages(
        self,
        chat_id: int,
        description: str,
        *,
        status: int = 400,
        after: int = 0,
        count: int | None = None,
        formatted_only: bool = False,
        parameters: JSONDict | None = None,
    ) -> None:
        """sendMessage to the chat fails with this error, after `after` sends succeed, for
        `count` sends (None: until the test ends); `formatted_only` spares plain text."""
        with self._cond:
            error = ApiError(status, description, parameters)
            self._refusals[chat_id].append(_Refusal(error, after, count, formatted_only))

    def remove_chat(self, chat_id: int) -> None:
        """The chat no longer exists: 400 chat not found."""
        self.refuse_messages(chat_id, "Bad Request: chat not found")

    def upgrade_group(self, chat_id: int, new_chat_id: int, *, announce: bool = True) -> None:
        """The group became the supergroup `new_chat_id`: sends to the old id fail with
        ``migrate_to_chat_id``; with `announce`, both chats get Telegram's service message."""
        self.refuse_messages(chat_id, UPGRADED, parameters={"migrate_to_chat_id": new_chat_id})
        with self._cond:
            old = self._chats.get(chat_id, {"id": chat_id, "type": "group", "title": "Group"})
            new = {"id": new_chat_id, "type": "supergroup", "title": old.get("title", "Group")}
            self._chats[new_chat_id] = new
            for (member_chat, user_id), status in list(self._members.items()):
                if member_chat == chat_id:
                    self._members[(new_chat_id, user_id)] = status
            if announce:
                self._announce(old, {"migrate_to_chat_id": new_chat_id})
                self._announce(new, {"migrate_from_chat_id": chat_id})

    def answer_slowly(
        self, chat_id: int, seconds: float, *, after: int = 0, count: int = 1
    ) -> None:
        """After `after` more messages to the chat, the next `count` are delivered at once
        but answered only after `seconds`: past a client's read timeout, as on a bad network."""
        with self._cond:
            self._slow[chat_id].extend([0.0] * after + [seconds] * count)

    # -- called by the server -------------------------------------------------------------
    def _check_chat_faults(self, name: str, params: JSONDict) -> None:
        if name not in SEND_METHODS:
            return
        chat_id = int_param(params, "chat_id")
        formatted = bool(params.get("parse_mode"))
        for refusal in self._refusals.get(chat_id, []):
            if refusal.formatted_only and not formatted:
                continue
            if refusal.after > 0:
                refusal.after -= 1
                continue
            if refusal.count is not None:
                if refusal.count <= 0:
                    continue
                refusal.count -= 1
            raise refusal.error

    def _reply_delay(self, name: str, params: JSONDict, ok: bool) -> float:
        """How long to hold back this call's answer (outside the lock)."""
        if not ok or name not in SEND_METHODS:
            return 0.0
        delays = self._slow.get(int_param(params, "chat_id"))
        return delays.pop(0) if delays else 0.0

    def _announce(self, chat: JSONDict, service: JSONDict) -> None:
        raise NotImplementedError


def service_message(
    message_id: int, sender: JSONDict, chat: JSONDict, service: JSONDict
) -> JSONDict:
    """A service message such as Telegram's notice that a group moved."""
    return {
        "message_id": message_id,
        "from": sender,
        "chat": chat,
        "date": int(time.time()),
        **service,
    }
