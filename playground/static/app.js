// Parley playground: chat with the real bot as one of a few users.
import { element, richText, safeUrl } from "./rich-text.js";

const API = "/playground/api";
const POLL_WAIT_SECONDS = 20;
const RETRY_MS = 1000;
const TYPING_TIMEOUT_MS = 60000;
const SUGGESTIONS = ["Who leads the Russian delegation?", "/help", "/latest", "/sources", "/subscribe"];
const ADMIN_SUGGESTIONS = ["/addsource ", "/ingest "]; // a trailing space: fill in, don't send

const state = {
  bot: { name: "Parley", username: "" },
  users: [],
  current: null, // the id of the user the person is chatting as
  chats: new Map(), // user id -> Map(message id -> message)
  unread: new Map(), // user id -> bot messages not yet seen
  waiting: new Map(), // user id -> when they last wrote, until the bot answers
  run: null,
  revision: 0,
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------- talking to the server
async function call(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `The playground answered ${response.status}.`);
  return data;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function loadUsers() {
  for (;;) {
    try {
      return await call("GET", "/users");
    } catch (error) {
      setStatus("Waiting for the playground to start…");
      await sleep(RETRY_MS);
    }
  }
}

async function follow() {
  for (;;) {
    try {
      const data = await call("GET", `/messages?since=${state.revision}&wait=${POLL_WAIT_SECONDS}`);
      if (state.run !== null && data.run !== state.run) {
        restart(data.run); // a new server: its revisions count from zero again
        continue;
      }
      state.run = data.run;
      state.revision = data.revision;
      data.messages.forEach(merge);
      setStatus("");
    } catch (error) {
      setStatus("Lost the connection to the playground; trying again…");
      await sleep(RETRY_MS);
    }
  }
}

function restart(run) {
  state.run = run;
  state.revision = 0;
  state.users.forEach((user) => state.chats.set(user.id, new Map()));
  state.unread.clear();
  renderConversation();
  renderUsers();
}

// ---------------------------------------------------------------------------- state
function merge(message) {
  const chat = state.chats.get(message.chat_id);
  if (!chat) return;
  const isNew = !chat.has(message.message_id);
  chat.set(message.message_id, message);
  if (message.from_bot && isNew) {
    state.waiting.delete(message.chat_id);
    if (message.chat_id !== state.current) {
      state.unread.set(message.chat_id, (state.unread.get(message.chat_id) || 0) + 1);
      renderUsers();
    }
  }
  if (message.chat_id === state.current) {
    showMessage(message);
    renderTyping();
  }
}

function currentUser() {
  return state.users.find((user) => user.id === state.current);
}

function select(userId) {
  state.current = userId;
  state.unread.delete(userId);
  history.replaceState(null, "", `#user=${userId}`);
  renderUsers();
  renderConversation();
  renderSuggestions();
  $("message").focus();
}

async function send(text) {
  const user = state.current;
  const button = $("send");
  button.disabled = true;
  try {
    await call("POST", "/send", { user, text });
    state.waiting.set(user, Date.now());
    renderTyping();
    return true;
  } catch (error) {
    setStatus(error.message);
    return false;
  } finally {
    button.disabled = false;
  }
}

async function press(message, data) {
  try {
    const pressed = { user: state.current, message_id: message.message_id, data };
    const { answer } = await call("POST", "/press", pressed);
    // The bot's answer to a button is a passing notice, as Telegram shows it.
    if (answer) setStatus(answer);
  } catch (error) {
    setStatus(error.message);
  }
}

// ---------------------------------------------------------------------------- rendering: page
function setStatus(text) {
  $("status").textContent = text;
}

function renderUsers() {
  const list = $("users");
  list.replaceChildren(
    ...state.users.map((user, index) => {
      const button = element("button", "user");
      button.type = "button";
      button.dataset.user = user.id;
      button.setAttribute("aria-pressed", String(user.id === state.current));
      const avatar = element("span", `avatar avatar-${index % 4}`, user.name.slice(0, 1));
      avatar.setAttribute("aria-hidden", "true");
      const name = element("span", "user-name", user.name);
      name.append(element("span", "user-role", user.admin ? `admin · id ${user.id}` : `id ${user.id}`));
      button.append(avatar, name);
      const unread = state.unread.get(user.id);
      if (unread) {
        const badge = element("span", "unread", String(unread));
        badge.setAttribute("aria-label", `${unread} new`);
        button.append(badge);
      }
      button.addEventListener("click", () => select(user.id));
      const item = element("li");
      item.append(button);
      return item;
    }),
  );
}

function renderConversation() {
  const user = currentUser();
  if (!user) return;
  $("chat-title").textContent = `${user.name} and ${state.bot.name}`;
  $("chat-subtitle").textContent =
    `Private chat with @${state.bot.username}` + (user.admin ? " · this user is an admin" : "");
  const list = $("messages");
  list.replaceChildren();
  const messages = [...state.chats.get(user.id).values()].sort((a, b) => a.message_id - b.message_id);
  if (messages.length === 0) {
    const empty = element("li", "empty", `Say hello to ${state.bot.name}, ask a question about the talks, or try one of the suggestions below.`);
    list.append(empty);
  }
  messages.forEach(showMessage);
  renderTyping();
  list.scrollTop = list.scrollHeight;
}

function renderSuggestions() {
  const user = currentUser();
  const texts = SUGGESTIONS.concat(user && user.admin ? ADMIN_SUGGESTIONS : []);
  $("suggestions").replaceChildren(
    ...texts.map((text) => {
      const fills = text.endsWith(" ");
      const chip = element("button", "suggestion", fills ? `${text.trim()} …` : text);
      chip.type = "button";
      if (fills) chip.title = "Fills in the message box";
      chip.addEventListener("click", () => (fills ? fill(text) : send(text)));
      return chip;
    }),
  );
}

function renderTyping() {
  const since = state.waiting.get(state.current);
  const typing = since !== undefined && Date.now() - since < TYPING_TIMEOUT_MS;
  $("typing").hidden = !typing;
  $("typing").textContent = `${state.bot.name} is typing…`;
}

function fill(text) {
  const box = $("message");
  box.value = text;
  box.focus();
  box.setSelectionRange(text.length, text.length);
  growBox();
}

function growBox() {
  const box = $("message");
  box.style.height = "auto";
  box.style.height = `${Math.min(box.scrollHeight + 2, 160)}px`; // + the borders
  box.style.overflowY = box.scrollHeight > 160 ? "auto" : "hidden";
}

// ---------------------------------------------------------------------------- rendering: messages
function showMessage(message) {
  const list = $("messages");
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const item = messageItem(message);
  const old = list.querySelector(`[data-message="${message.message_id}"]`);
  list.querySelector(".empty")?.remove();
  if (old) {
    old.replaceWith(item);
  } else {
    list.append(item);
  }
  if (nearBottom || !message.from_bot) list.scrollTop = list.scrollHeight;
}

function messageItem(message) {
  const item = element("li", `message ${message.from_bot ? "from-bot" : "from-user"}`);
  item.dataset.message = message.message_id;
  const sender = message.from_bot ? state.bot.name : currentUser().name;
  item.append(element("span", "visually-hidden", `${sender}:`));
  const bubble = element("div", "bubble");
  const onCommand = message.from_bot ? send : null; // as in Telegram, the bot's /commands click
  bubble.append(richText(message.text, message.entities || [], onCommand));
  item.append(bubble);
  if (message.buttons.length) item.append(keyboard(message));
  const time = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  item.append(element("span", "meta", `${sender} · ${time}${message.edited ? " · edited" : ""}`));
  return item;
}

function keyboard(message) {
  const box = element("div", "keyboard");
  for (const row of message.buttons) {
    const line = element("div", "keyboard-row");
    for (const button of row) {
      if (button.url && safeUrl(button.url)) {
        const link = element("a", "", button.text);
        link.href = safeUrl(button.url);
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        line.append(link);
      } else {
        const control = element("button", "", button.text);
        control.type = "button";
        control.disabled = button.data === undefined;
        control.addEventListener("click", () => press(message, button.data));
        line.append(control);
      }
    }
    box.append(line);
  }
  return box;
}

// ---------------------------------------------------------------------------- start
function initialUser() {
  const wanted = Number(new URLSearchParams(location.hash.slice(1)).get("user"));
  return state.users.some((user) => user.id === wanted) ? wanted : state.users[0].id;
}

function bindComposer() {
  const form = $("composer");
  const box = $("message");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = box.value;
    if (!text.trim()) return;
    box.value = "";
    growBox();
    if (!(await send(text))) box.value = text; // keep what was written when sending failed
    box.focus();
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  box.addEventListener("input", growBox);
  setInterval(renderTyping, 5000); // the indicator gives up after a minute without an answer
}

async function main() {
  const data = await loadUsers();
  state.bot = data.bot;
  state.users = data.users;
  state.users.forEach((user) => state.chats.set(user.id, new Map()));
  setStatus("");
  bindComposer();
  growBox();
  select(initialUser());
  follow();
}

main();
