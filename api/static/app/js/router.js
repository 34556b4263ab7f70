// @ts-check
// Hash routes (#/, #/library, #/jobs/{id}): the server serves one page and every view is a
// link that works with back, forward and reload.

/** @typedef {{name: "new" | "library" | "job" | "missing", params: string[]}} Route */

/** @type {{name: Route["name"], pattern: RegExp}[]} */
const ROUTES = [
  { name: "new", pattern: /^#?\/?$/ },
  { name: "library", pattern: /^#\/library\/?$/ },
  { name: "job", pattern: /^#\/jobs\/([0-9a-zA-Z_-]+)\/?$/ },
];

/**
 * The view a location hash names, and its parameters (a job's id)
 * @param {string} hash
 * @returns {Route}
 */
export function routeFor(hash) {
  const address = hash || "#/";
  for (const route of ROUTES) {
    const match = address.match(route.pattern);
    if (match) return { name: route.name, params: match.slice(1).map(decodeURIComponent) };
  }
  return { name: "missing", params: [] };
}

export const currentRoute = () => routeFor(location.hash);

/** @param {string} hash */
export const go = (hash) => {
  location.hash = hash;
};
