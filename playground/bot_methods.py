"""The Bot API methods the local server answers, one ``_api_*`` method each.

``_api_send_message`` serves ``sendMessage``; errors use Telegram's exact wording. They run with
the server's condition variable held, on the state that :class:`BotApiServer` owns.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from playground.protocol import (
    MAX_MESSAGE_LENGTH,
    ApiError,
    JSONDict,
    int_param,
    json_param,
    parse_html,
    truthy,
)


class BotApiMethods:
    """The methods; the state they work on is declared here and created by the server."""

    bot_user: JSONDict
    _cond: threading.Condition
    _stopping: bool
    _updates: list[JSONDict]
    _messages: dict[tuple[int, int], JSONDict]
    _sent: list[JSONDict]
    _edits: list[JSONDict]
    _actions: list[JSONDict]
    _answers: list[JSONDict]
    _commands: dict[tuple[str, str], list[JSONDict]]
    _webhook: JSONDict | None
    _blocked: set[int]
    _members: dict[tuple[int, int], str]
    _chats: dict[int, JSONDict]
    _refuse_polling_while_webhook: Callable[[], None]  # playground.webhooks

    def _new_message(
        self, chat_id: int, sender: JSONDict, text: str, entities: list[JSONDict], reply_to: Any
    ) -> JSONDict:
        raise NotImplementedError

    def _sent_to(self, chat_id: int) -> list[JSONDict]:
        raise NotImplementedError

    def _touch(self, chat_id: int, message_id: int) -> None:
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------------------
    def _target_chat(self, params: JSONDict) -> int:
        chat_id = int_param(params, "chat_id")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _format(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        text = str(params.get("text") or "")
        if str(params.get("parse_mode")).lower() == "html":
            plain, entities = parse_html(text)
        else:
            plain, entities = text, list(json_param(params.get("entities")) or [])
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return plain, entities

    def _scope_key(self, params: JSONDict) -> tuple[str, str]:
        scope = json_param(params.get("scope")) or {"type": "default"}
        key = ":".join(str(scope[k]) for k in ("type", "chat_id", "user_id") if k in scope)
        return key, str(params.get("language_code") or "")

    # -- Bot API methods ------------------------------------------------------------------
    def _api_get_me(self, params: JSONDict) -> JSONDict:
        return self.bot_user

    def _api_close(self, params: JSONDict) -> bool:
        return True

    _api_log_out = _api_close

    # setWebhook, deleteWebhook and getWebhookInfo: playground.webhooks
    def _api_get_updates(self, params: JSONDict) -> list[JSONDict]:
        self._refuse_polling_while_webhook()
        offset = int_param(params, "offset", 0)
        if offset < 0:  # keep only the last -offset updates
            self._updates = self._updates[offset:]
        elif offset:  # confirms (drops) all updates below offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        self._cond.wait_for(
            lambda: bool(self._updates) or self._stopping or self._webhook is not None, timeout
        )
        if self._webhook is not None:  # set meanwhile: its updates go to the webhook now
            return []
        return copy.deepcopy(self._updates[: max(1, min(100, int_param(params, "limit", 100)))])

    def _api_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        plain, entities = self._format(params)
        reply = json_param(params.get("reply_parameters")) or {}
        reply_id = reply.get("message_id", params.get("reply_to_message_id"))
        reply_to = self._messages.get((chat_id, int(reply_id))) if reply_id else None
        if reply_id and reply_to is None and not truthy(reply.get("allow_sending_without_reply")):
            raise ApiError(400, "Bad Request: message to be replied not found")
        message = self._new_message(chat_id, self.bot_user, plain, entities, reply_to)
        markup = json_param(params.get("reply_markup"))
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # only these are echoed
            message["reply_markup"] = markup
            self._messages[(chat_id, message["message_id"])]["reply_markup"] = markup
        self._sent.append(
            {
                "chat_id": chat_id,
                "text": params.get("text"),  # as sent, markup included
                "plain_text": plain,  # as shown to the user
                "parse_mode": params.get("parse_mode"),
                "link_preview_options": json_param(params.get("link_preview_options")),
                "reply_markup": markup,
                "message_id": message["message_id"],
                "reply_to_message_id": int(reply_id) if reply_id else None,
            }
        )
        self._cond.notify_all()
        return message

    def _api_edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        chat_id, message_id = int_param(params, "chat_id"), int_param(params, "message_id")
        message = self._messages.get((chat_id, message_id))
        if message is None or message["from"] != self.bot_user:
            raise ApiError(400, "Bad Request: message to edit not found")
        plain, entities = self._format(params)
        new = {
            "text": plain,
            "entities": entities,
            "reply_markup": json_param(params.get("reply_markup")),
        }
        if all(message.get(key) == (value or None) for key, value in new.items()):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        for key, value in new.items():
            message.pop(key, None)
            message.update({key: value} if value else {})
        message["edit_date"] = int(time.time())
        change = {
            "text": params.get("text"),
            "plain_text": plain,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": new["reply_markup"],
        }
        for record in self._sent_to(chat_id):
            if record["message_id"] == message_id:
                record.update(change)
        self._edits.append({"chat_id": chat_id, "message_id": message_id, **change})
        self._touch(chat_id, message_id)
        return copy.deepcopy(message)

    def _api_edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        chat_id, message_id = int_param(params, "chat_id"), int_param(params, "message_id")
        message = self._messages.get((chat_id, message_id))
        if message is None or message["from"] != self.bot_user:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = json_param(params.get("reply_markup")) or None
        if message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.pop("reply_markup", None)
        message.update({"reply_markup": markup} if markup else {})
        message["edit_date"] = int(time.time())
        for record in self._sent_to(chat_id):
            if record["message_id"] == message_id:
                record["reply_markup"] = markup
        self._edits.append({"chat_id": chat_id, "message_id": message_id, "reply_markup": markup})
        self._touch(chat_id, message_id)
        return copy.deepcopy(message)

    def _api_get_chat_member(self, params: JSONDict) -> JSONDict:
        chat_id, user_id = int_param(params, "chat_id"), int_param(params, "user_id")
        if chat_id < 0 and chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        status = self._members.get((chat_id, user_id), "member")
        return _chat_member({"id": user_id, "is_bot": False, "first_name": "User"}, status)

    def _api_get_chat_administrators(self, params: JSONDict) -> list[JSONDict]:
        chat_id = int_param(params, "chat_id")
        return [
            _chat_member({"id": user_id, "is_bot": False, "first_name": "User"}, status)
            for (member_chat, user_id), status in sorted(self._members.items())
            if member_chat == chat_id and status in ("creator", "administrator")
        ]

    def _api_send_chat_action(self, params: JSONDict) -> bool:
        self._actions.append({"chat_id": self._target_chat(params), "action": params.get("action")})
        return True

    def _api_answer_callback_query(self, params: JSONDict) -> bool:
        answer = {"callback_query_id": params.get("callback_query_id"), "text": params.get("text")}
        query_id = answer["callback_query_id"]
        if any(given["callback_query_id"] == query_id for given in self._answers):
            raise ApiError(  # Telegram takes one answer per query
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(answer["text"] or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._answers.append({**answer, "show_alert": truthy(params.get("show_alert"))})
        return True

    def _api_set_my_commands(self, params: JSONDict) -> bool:
        commands = json_param(params.get("commands"))
        if not isinstance(commands, list) or not all(
            re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command"))) and c.get("description")
            for c in commands
        ):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self._commands[self._scope_key(params)] = commands
        return True

    def _api_get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return copy.deepcopy(self._commands.get(self._scope_key(params), []))

    def _api_delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True


_ADMIN_RIGHTS = (
    "can_be_edited can_manage_chat can_delete_messages can_manage_video_chats "
    "can_restrict_members can_promote_members can_change_info can_invite_users "
    "can_post_stories can_edit_stories can_delete_stories"
).split()


def _chat_member(user: JSONDict, status: str) -> JSONDict:
    """A ChatMember of the kind its status names, with the fields the Bot API requires."""
    member: JSONDict = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(dict.fromkeys(_ADMIN_RIGHTS, False), is_anonymous=False)
        member.update(can_manage_chat=True, can_restrict_members=True)
    elif status == "restricted":
        member.update(is_member=True, until_date=0)
    elif status == "kicked":
        member["until_date"] = 0
    return member
