// The engine's public HTTP API (conf/openapi.json), as the playground uses
// it. Every call resolves to {status, body} (body parsed JSON, or null) and
// rejects only when the network fails, so callers decide per status.

// With auth = token every call carries the learner's bearer token
// (useToken); with auth = none there is none and nothing is sent.
let bearer = null;

export function useToken(token) {
	bearer = token || null;
}

export function hasToken() {
	return bearer !== null;
}

async function call(method, path, body, options = {}) {
	const init = { method, headers: {}, keepalive: options.keepalive === true };
	if (bearer) init.headers["Authorization"] = "Bearer " + bearer;
	if (body !== undefined) {
		init.headers["Content-Type"] = "application/json";
		init.body = JSON.stringify(body);
	}
	const resp = await fetch(path, init);
	let parsed = null;
	try {
		parsed = await resp.json();
	} catch (e) {
		parsed = null;
	}
	return { status: resp.status, body: parsed };
}

const enc = encodeURIComponent;

export const api = {
	languages: () => call("GET", "/languages"),
	contract: () => call("GET", "/openapi.json"),
	createSession: (language, code) =>
		call("POST", "/code-sessions", { language, template_code: code }),
	session: (id) => call("GET", `/code-sessions/${enc(id)}`),
	save: (id, code, options) =>
		call("PATCH", `/code-sessions/${enc(id)}`, { source_code: code }, options),
	run: (id, request) => call("POST", `/code-sessions/${enc(id)}/run`, request),
	check: (id) => call("POST", `/code-sessions/${enc(id)}/check`, {}),
	executions: (id, limit) =>
		call("GET", `/code-sessions/${enc(id)}/executions?limit=${limit}`),
	execution: (id, waitMs) =>
		call("GET", `/executions/${enc(id)}` + (waitMs ? `?wait_ms=${waitMs}` : "")),
	stdin: (id, data, eof) =>
		call("POST", `/executions/${enc(id)}/stdin`, eof ? { data, eof: true } : { data }),
	cancel: (id) => call("POST", `/executions/${enc(id)}/cancel`),
	eventsUrl: (id) => `/executions/${enc(id)}/events`,
	artifactUrl: (id, path) => `/executions/${enc(id)}/artifacts/${enc(path)}`,
};

// An artifact's bytes as a blob: URL the page can show or offer as a
// download (with auth = token an <img src> could not send the token).
export async function artifactBlobUrl(id, path) {
	const resp = await fetch(api.artifactUrl(id, path), { headers: bearer ? { Authorization: "Bearer " + bearer } : {} });
	if (!resp.ok) return null;
	return URL.createObjectURL(await resp.blob());
}

export const TERMINAL = new Set(["COMPLETED", "FAILED", "TIMEOUT"]);

// What the server in front of us can do, read from its own contract: the
// live features (interactive runs, stdin, cancel, long-poll) may be missing
// on an older engine, and the page then disables them instead of failing.
// (The event stream is simply tried: follow.js falls back by itself.)
export async function detectFeatures() {
	const features = { interactive: false, stdin: false, cancel: false, waitMs: false };
	let doc;
	try {
		const reply = await api.contract();
		if (reply.status !== 200 || !reply.body) return features;
		doc = reply.body;
	} catch (e) {
		return features;
	}
	const paths = doc.paths || {};
	const has = (suffix) => Object.keys(paths).some((p) => /^\/executions\/\{[^}]+\}/.test(p) && p.endsWith(suffix));
	features.stdin = has("/stdin");
	features.cancel = has("/cancel");
	const runSchema = resolve(doc, (((((paths["/code-sessions/{id}/run"] || {}).post || {})
		.requestBody || {}).content || {})["application/json"] || {}).schema);
	features.interactive = features.stdin && !!(runSchema && runSchema.properties &&
		runSchema.properties.interactive);
	const getExecution = Object.entries(paths).find(([p]) => /^\/executions\/\{[^}]+\}$/.test(p));
	if (getExecution) {
		const item = getExecution[1];
		const params = [...(item.parameters || []), ...((item.get || {}).parameters || [])];
		features.waitMs = params.some((p) => (resolve(doc, p) || {}).name === "wait_ms");
	}
	return features;
}

function resolve(doc, node) {
	while (node && node.$ref) {
		node = node.$ref.replace(/^#\//, "").split("/").reduce((n, k) => (n ? n[k] : undefined), doc);
	}
	return node;
}
