"""Webhooks on the local Bot API server, as Telegram runs them.

Once ``setWebhook`` names a URL, queued updates are no longer handed out by ``getUpdates``
(it answers 409, as Telegram does) but POSTed to that URL as JSON, oldest first, with the
secret token in ``X-Telegram-Bot-Api-Secret-Token`` when one was set. An update leaves the
queue when the bot answers 2xx; any other answer, or none, is kept as ``getWebhookInfo``'s
last error and the update is tried again shortly, so nothing is lost while a worker restarts.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from playground.protocol import ApiError, JSONDict, truthy

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RETRY_SECONDS = 0.2
DELIVERY_TIMEOUT = 30.0
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's rule for secret_token
# Straight to the webhook: an HTTP_PROXY in the environment must not carry local deliveries.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to the webhook: the HTTP status it got (0: no connection)."""

    update_id: int
    url: str
    status: int


class WebhookMethods:
    """``setWebhook``, ``deleteWebhook``, ``getWebhookInfo`` and the thread that delivers."""

    _cond: threading.Condition
    _stopping: bool
    _updates: list[JSONDict]
    _webhook: JSONDict | None

    def _init_webhooks(self) -> None:
        self._deliveries: list[WebhookDelivery] = []
        self._webhook_error: tuple[int, str] | None = None
        self._delivery_thread: threading.Thread | None = None

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every POST of an update to a webhook so far, oldest first."""
        with self._cond:
            return list(self._deliveries)

    # -- Bot API methods (called with the condition held) ---------------------------------
    def _api_set_webhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "")
        if not url:  # an empty URL removes the webhook, as on Telegram
            return self._api_delete_webhook(params)
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ApiError(400, "Bad Request: bad webhook: invalid URL")
        secret = params.get("secret_token")
        if secret not in (None, "") and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        self._webhook, self._webhook_error = dict(params), None
        self._start_delivering()
        self._cond.notify_all()
        return True

    def _api_delete_webhook(self, params: JSONDict) -> bool:
        self._webhook = None
        if truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _api_get_webhook_info(self, params: JSONDict) -> JSONDict:
        hook = self._webhook or {}
        info: JSONDict = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
            "max_connections": int(hook.get("max_connections") or 40),
        }
        if self._webhook_error is not None and hook:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _refuse_polling_while_webhook(self) -> None:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )

    # -- delivery ---------------------------------------------------------------------------
    def _start_delivering(self) -> None:
        if self._delivery_thread is None or not self._delivery_thread.is_alive():
            self._delivery_thread = threading.Thread(
                target=self._deliver_forever, name="BotApiWebhook", daemon=True
            )
            self._delivery_thread.start()

    def _deliver_forever(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._stopping or (self._webhook is not None and bool(self._updates))
                )
                if self._stopping:
                    return
                assert self._webhook is not None
                hook, update = dict(self._webhook), copy.deepcopy(self._updates[0])
            status = _post(str(hook["url"]), update, hook.get("secret_token"))
            with self._cond:
                self._record(WebhookDelivery(update["update_id"], str(hook["url"]), status))
                if 200 <= status < 300:
                    self._updates = [
                        u for u in self._updates if u["update_id"] != update["update_id"]
                    ]
                else:
                    self._cond.wait_for(lambda: self._stopping, RETRY_SECONDS)

    def _record(self, delivery: WebhookDelivery) -> None:
        self._deliveries.append(delivery)
        if not 200 <= delivery.status < 300:
            reason = f"Wrong response from the webhook: {delivery.status}"
            if delivery.status == 0:
                reason = "Connection refused"
            self._webhook_error = (int(time.time()), reason)
        self._cond.notify_all()


def _post(url: str, update: JSONDict, secret_token: object) -> int:
    """POST one update; its HTTP status, or 0 when the webhook could not be reached."""
    headers = {"Content-Type": "application/json"}
    if secret_token:
        headers[SECRET_HEADER] = str(secret_token)
    request = urllib.request.Request(
        url, data=json.dumps(update).encode(), headers=headers, method="POST"
    )
    try:
        with _DIRECT.open(request, timeout=DELIVERY_TIMEOUT) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, ValueError):
        return 0
