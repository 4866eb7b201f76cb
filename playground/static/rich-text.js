// Telegram messages as DOM nodes: plain text plus entities, never parsed as HTML.
//
// The server turns the bot's Telegram HTML into plain text and entities, as Telegram does;
// here every piece of text goes in with textContent, and links open only for http(s) URLs.

const COMMAND = /(^|[\s(])(\/[A-Za-z0-9_]{1,32})(?=$|[\s.,;:!?)])/g;

// Telegram's entities nest like the HTML they came from; each becomes one element.
export function richText(text, entities, onCommand = null) {
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const root = document.createDocumentFragment();
  build(root, text, sorted, 0, text.length, onCommand);
  tidyBlocks(root);
  return root;
}

function build(parent, text, entities, start, end, onCommand) {
  let position = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const from = Math.max(entity.offset, position);
    const to = Math.min(entity.offset + entity.length, end);
    let next = index + 1;
    while (next < entities.length && entities[next].offset < to) next += 1;
    if (from < to) {
      appendText(parent, text.slice(position, from), onCommand);
      const node = entityElement(entity, text.slice(from, to));
      const plain = ["code", "pre", "text_link", "url"].includes(entity.type);
      build(node, text, entities.slice(index + 1, next), from, to, plain ? null : onCommand);
      parent.append(node);
      position = to;
    }
    index = next;
  }
  appendText(parent, text.slice(position, end), onCommand);
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

export function safeUrl(url) {
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

// With onCommand, each /command in the text becomes a button that calls it.
function appendText(parent, text, onCommand) {
  if (!text) return;
  if (!onCommand) {
    parent.append(document.createTextNode(text));
    return;
  }
  let last = 0;
  for (const match of text.matchAll(COMMAND)) {
    const at = match.index + match[1].length;
    parent.append(document.createTextNode(text.slice(last, at)));
    const command = element("button", "command", match[2]);
    command.type = "button";
    command.addEventListener("click", () => onCommand(match[2]));
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

export function element(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}
