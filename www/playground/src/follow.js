// Follows one execution until it ends: live events from
// GET /executions/{id}/events (Server-Sent Events), or, when the engine
// has no such stream (the request fails) or the page holds a token,
// polling GET /executions/{id}
// (a long-poll with wait_ms when the contract lists it). Either way the caller hears onStatus(status),
// onOutput(stream, text) for live output, and onDone(execution) once.
import { api, hasToken, TERMINAL } from "./api.js";

const POLL_WAIT_MS = 2000; // long-poll: answers at the end, or with the state after this
const POLL_PAUSE_MS = 300; // plain polling: pause between GETs
const QUIET_MS = 1000; // an events stream silent this long is checked against GET

export function follow(id, features, handlers) {
	const follower = { stopped: false, source: null };
	follower.stop = () => {
		follower.stopped = true;
		if (follower.source) follower.source.close();
	};
	// EventSource cannot send a token: with one, the run is followed by (long-)polls.
	if (typeof EventSource !== "undefined" && !hasToken())
		followEvents(id, features, handlers, follower);
	else
		poll(id, features, handlers, follower);
	return follower;
}

function followEvents(id, features, handlers, follower) {
	const source = new EventSource(api.eventsUrl(id));
	follower.source = source;
	// Bytes received per stream: a chunk is placed by its byte offset, so
	// what a reconnect (Last-Event-ID) delivers twice is shown once.
	const received = { stdout: 0, stderr: 0 };
	const show = (stream, chunk) => {
		const text = unseenPart(chunk, received[stream]);
		received[stream] = Math.max(received[stream], chunk.offset + utf8Length(chunk.data));
		if (text) handlers.onOutput(stream, text);
	};
	let finished = false;
	const finish = (execution) => {
		finished = true;
		source.close();
		if (!follower.stopped) handlers.onDone(execution);
	};
	// A stream silent for QUIET_MS is checked against GET /executions/{id}:
	// output it has not delivered (a running interactive execution's GET
	// has its output so far) is shown from there, and an end it has not
	// announced ends the run here, so a lost event never leaves the page
	// waiting.
	let quiet = null;
	const heard = () => {
		clearTimeout(quiet);
		quiet = setTimeout(resync, QUIET_MS);
	};
	const resync = async () => {
		if (finished || follower.stopped) return;
		let reply = null;
		try {
			reply = await api.execution(id, 0);
		} catch (e) {
			reply = null;
		}
		if (finished || follower.stopped) return;
		if (reply && reply.status === 200) {
			for (const stream of ["stdout", "stderr"])
				if (typeof reply.body[stream] === "string") show(stream, { data: reply.body[stream], offset: 0 });
			if (TERMINAL.has(reply.body.status)) return finish(reply.body);
		}
		heard();
	};
	heard();
	source.addEventListener("status", (e) => {
		heard();
		handlers.onStatus(JSON.parse(e.data).status);
	});
	for (const stream of ["stdout", "stderr"]) {
		source.addEventListener(stream, (e) => {
			heard();
			show(stream, JSON.parse(e.data));
		});
	}
	source.addEventListener("done", (e) => {
		clearTimeout(quiet);
		finish(JSON.parse(e.data));
	});
	// The browser reconnects by itself (readyState CONNECTING) after a
	// dropped stream; CLOSED means it gave up (an engine without events,
	// say): polling finishes the job.
	source.onerror = () => {
		if (finished || follower.stopped || source.readyState !== EventSource.CLOSED) return;
		clearTimeout(quiet);
		source.close();
		poll(id, features, handlers, follower);
	};
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function utf8Length(text) {
	return encoder.encode(text).length;
}

// The part of a chunk past the bytes already shown.
function unseenPart(chunk, seen) {
	if (chunk.offset >= seen) return chunk.data;
	const bytes = encoder.encode(chunk.data);
	const skip = seen - chunk.offset;
	return skip >= bytes.length ? "" : decoder.decode(bytes.subarray(skip));
}

async function poll(id, features, handlers, follower) {
	let status = null;
	while (!follower.stopped) {
		let reply = null;
		try {
			reply = await api.execution(id, features.waitMs ? POLL_WAIT_MS : 0);
		} catch (e) {
			reply = null;
		}
		if (follower.stopped) return;
		if (reply && reply.status === 200) {
			const execution = reply.body;
			if (execution.status !== status) {
				status = execution.status;
				handlers.onStatus(status);
			}
			if (TERMINAL.has(status)) {
				handlers.onDone(execution);
				return;
			}
		}
		if (!features.waitMs || !reply || reply.status !== 200) await sleep(POLL_PAUSE_MS);
	}
}

function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
