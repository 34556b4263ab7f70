// @ts-check
// Builds elements from data. Values only ever become text or attribute values, never markup,
// so a title such as "<b>x</b>" shows as typed.

/**
 * Attributes and properties of an element: `class`, `dataset`, `on<event>` listeners, and any
 * other name as an attribute (true: present; null, undefined, false: left out) or, for a
 * non-string value the element has a property of that name, as that property
 * @typedef {Record<string, unknown> & {dataset?: Record<string, string | number>}} Attributes
 */

/** Text or a node; arrays of them, nested too, are flattened; null, undefined, false: nothing
 * @typedef {Node | string | number | boolean | null | undefined | unknown[]} Child */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    } else if (name === "class") {
      node.className = String(value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (name in node && typeof value !== "string") {
      Reflect.set(node, name, value); // properties such as value, checked, max
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

/**
 * @template {ParentNode} P
 * @param {P} parent
 * @param {Child[]} children
 * @returns {P}
 */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

/**
 * Tells screen readers what changed without moving focus
 * @param {string} message
 */
export function announce(message) {
  const announcer = /** @type {HTMLElement} */ (document.getElementById("announcer"));
  announcer.textContent = "";
  // A new text node on the next frame, so the same message twice is read twice
  requestAnimationFrame(() => {
    announcer.textContent = message;
  });
}
