// Server-Sent Events read with fetch (api/static/app/js/events.js): the stream's blocks, however
// the network cuts them, become events.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { parseBlock, readEvents } from "../../api/static/app/js/events.js";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** A fetch that answers with `pieces` as the body, one network read each */
function answering(pieces, { status = 200 } = {}) {
  const requests = [];
  globalThis.fetch = async (path, init) => {
    requests.push({ path, headers: init.headers });
    const body = new ReadableStream({
      start(controller) {
        for (const piece of pieces) controller.enqueue(new TextEncoder().encode(piece));
        controller.close();
      },
    });
    return new Response(body, { status });
  };
  return requests;
}

test("a block's fields: data lines joined, comments skipped, one space after the colon dropped", () => {
  assert.deepEqual(parseBlock(": keep-alive\nevent: chunk\nid: 7\ndata: {\"a\":\ndata:  1}\nretry: 3000"), {
    event: "chunk",
    id: "7",
    data: "{\"a\":\n 1}",
    retry: 3000,
  });
  assert.deepEqual(parseBlock(": only a comment"), {});
  assert.deepEqual(parseBlock("data"), { data: "" });
});

test("events cut anywhere by the network, with CRLF line ends, arrive whole and in order", async () => {
  const requests = answering(["id: 1\r\nevent: chunk\r\ndata: {\"chunk\":", "0}\r\n\r", "\nid: 2\ndata: x\n", "\n"]);
  const events = [];
  const last = await readEvents("/v1/jobs/j/events", { lastEventId: "0", onEvent: (event) => events.push(event) });
  assert.deepEqual(events, [
    { id: "1", event: "chunk", data: "{\"chunk\":0}" },
    { id: "2", event: "message", data: "x" },
  ]);
  assert.equal(last, "2");
  assert.equal(requests[0].headers["Last-Event-ID"], "0");
  assert.equal(requests[0].headers.Accept, "text/event-stream");
});

test("the server's retry is passed on; a block without data is no event", async () => {
  answering(["retry: 5000\n\n: ping\n\n"]);
  const retries = [];
  const events = [];
  await readEvents("/e", { onEvent: (event) => events.push(event), onRetry: (ms) => retries.push(ms) });
  assert.deepEqual(retries, [5000]);
  assert.deepEqual(events, []);
});

test("an HTTP error rejects with its status", async () => {
  answering([], { status: 404 });
  await assert.rejects(readEvents("/e", { onEvent: () => {} }), { status: 404 });
});
