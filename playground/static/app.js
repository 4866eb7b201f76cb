// Parley playground: chat with the real bot as one of a few users.
//
// Bot text is never parsed as HTML here: the server turns the bot's Telegram HTML into plain
// text plus entities (as Telegram does), and this page builds DOM nodes from those with
// textContent. Links open only for http(s) URLs.
"use strict";

const API = "/playground/api";
const POLL_WAIT_SECONDS = 20;
const RETRY_MS = 1000;
const TYPING_TIMEOUT_MS = 60000;
const COMMAND = /(^|[\s(])(\/[A-Za-z0-9_]{1,32})(?=$|[\s.,;:!?)])/g;
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
    await call("POST", "/press", { user: state.current, message_id: message.message_id, data });
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
      const chip = element("button", "suggestion", text.trim());
      chip.type = "button";
      chip.addEventListener("click", () => (text.endsWith(" ") ? fill(text) : send(text)));
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
  box.style.height = `${Math.min(box.scrollHeight, 160)}px`;
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
  bubble.append(richText(message.text, message.entities || [], message.from_bot));
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

// Telegram's entities nest like the HTML they came from; each becomes one element.
function richText(text, entities, commandsClickable) {
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const root = document.createDocumentFragment();
  build(root, text, sorted, 0, text.length, commandsClickable);
  tidyBlocks(root);
  return root;
}

function build(parent, text, entities, start, end, clickable) {
  let position = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const from = Math.max(entity.offset, position);
    const to = Math.min(entity.offset + entity.length, end);
    let next = index + 1;
    while (next < entities.length && entities[next].offset < to) next += 1;
    if (from < to) {
      appendText(parent, text.slice(position, from), clickable);
      const node = entityElement(entity, text.slice(from, to));
      const inside = clickable && !["code", "pre", "text_link", "url"].includes(entity.type);
      build(node, text, entities.slice(index + 1, next), from, to, inside);
      parent.append(node);
      position = to;
    }
    index = next;
  }
  appendText(parent, text.slice(position, end), clickable);
}

function entityElement(entity, content) {
  switch (entity.type) {
    case "bold": return element("strong");
    case "italic": return element("em");
    case "underline": return element("u");
    case "strikethrough": return element("s");
    case "code": return element("code");
    case "pre": return element("pre");
    case "blockquote":
    case "expandable_blockquote": return element("blockquote");
    case "spoiler": return spoiler();
    case "text_link": return link(entity.url);
    case "url": return link(content);
    default: return element("span");
  }
}

function link(url) {
  const href = safeUrl(url);
  if (!href) return element("span");
  const anchor = element("a");
  anchor.href = href;
  anchor.target = "_blank";
  anchor.rel = "noopener noreferrer";
  return anchor;
}

function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function spoiler() {
  const node = element("span", "spoiler");
  node.tabIndex = 0;
  node.setAttribute("role", "button");
  node.setAttribute("aria-label", "Hidden text; press to reveal");
  const reveal = () => {
    node.classList.add("revealed");
    node.removeAttribute("role");
    node.removeAttribute("aria-label");
  };
  node.addEventListener("click", reveal);
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      reveal();
    }
  });
  return node;
}

// Bot commands in the bot's text can be clicked, as in Telegram.
function appendText(parent, text, clickable) {
  if (!text) return;
  if (!clickable) {
    parent.append(document.createTextNode(text));
    return;
  }
  let last = 0;
  for (const match of text.matchAll(COMMAND)) {
    const at = match.index + match[1].length;
    parent.append(document.createTextNode(text.slice(last, at)));
    const command = element("button", "command", match[2]);
    command.type = "button";
    command.addEventListener("click", () => send(match[2]));
    parent.append(command);
    last = at + match[2].length;
  }
  parent.append(document.createTextNode(text.slice(last)));
}

// A quote or code block is already on its own line: drop the line breaks around it.
function tidyBlocks(root) {
  for (const block of root.querySelectorAll("blockquote, pre")) {
    const before = block.previousSibling;
    const after = block.nextSibling;
    if (before && before.nodeType === Node.TEXT_NODE && before.data.endsWith("\n")) {
      before.data = before.data.slice(0, -1);
    }
    if (after && after.nodeType === Node.TEXT_NODE && after.data.startsWith("\n")) {
      after.data = after.data.slice(1);
    }
  }
}

function element(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
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
  select(initialUser());
  follow();
}

main();
