// Hash routes (#/, #/library, #/jobs/{id}): the server serves one page and every view is a
// link that works with back, forward and reload.

const ROUTES = [
  { name: "new", pattern: /^#?\/?$/ },
  { name: "library", pattern: /^#\/library\/?$/ },
  { name: "job", pattern: /^#\/jobs\/([0-9a-zA-Z_-]+)\/?$/ },
];

export function currentRoute() {
  const hash = location.hash || "#/";
  for (const route of ROUTES) {
    const match = hash.match(route.pattern);
    if (match) return { name: route.name, params: match.slice(1).map(decodeURIComponent) };
  }
  return { name: "missing", params: [] };
}

export const go = (hash) => {
  location.hash = hash;
};
