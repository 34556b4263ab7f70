// Which view a location hash names (api/static/app/js/router.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { routeFor } from "../../api/static/app/js/router.js";

test("no hash, #, #/ and / are the new-book view", () => {
  for (const hash of ["", "#", "#/", "/"]) assert.deepEqual(routeFor(hash), { name: "new", params: [] });
});

test("#/library is the library, with or without a closing slash", () => {
  assert.deepEqual(routeFor("#/library"), { name: "library", params: [] });
  assert.deepEqual(routeFor("#/library/"), { name: "library", params: [] });
});

test("#/jobs/{id} is a job's page, with the id as its parameter", () => {
  assert.deepEqual(routeFor("#/jobs/abc_DEF-123"), { name: "job", params: ["abc_DEF-123"] });
  assert.deepEqual(routeFor("#/jobs/abc/"), { name: "job", params: ["abc"] });
});

test("anything else is missing", () => {
  for (const hash of ["#/nowhere", "#/jobs/", "#/jobs/a b", "#/jobs/a%2Fb", "#/jobs/a/b", "#/libraryx"]) {
    assert.deepEqual(routeFor(hash), { name: "missing", params: [] }, hash);
  }
});
