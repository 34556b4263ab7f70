// Builds elements from data. Values only ever become text or attribute values, never markup,
// so a title such as "<b>x</b>" shows as typed.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      node.className = value;
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (name in node && typeof value !== "string") {
      node[name] = value; // properties such as value, checked, max
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// Tells screen readers what changed without moving focus
export function announce(message) {
  const announcer = document.getElementById("announcer");
  announcer.textContent = "";
  // A new text node on the next frame, so the same message twice is read twice
  requestAnimationFrame(() => {
    announcer.textContent = message;
  });
}
