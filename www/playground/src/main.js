// The playground at GET /: one code session in an editor, autosaved as the
// learner types, run with live output, stopped, fed input, and its runs
// listed. The session id lives in the URL (/#s=<id>), so a reload or a
// shared link opens the same code.
import { api, detectFeatures, useToken, TERMINAL } from "./api.js";
import { createEditor } from "./editor.js";
import { follow } from "./follow.js";
import { TEMPLATES } from "./templates.js";
import { showExecution, showDiagnostics, showRunError, showStatus, clearRun, appendOutput, resetOutput } from "./run_view.js";
import { renderHistory } from "./history.js";

const SAVE_DELAY_MS = 500; // debounce of autosave: a pause in typing this long saves
const SAVE_RETRY_MS = 3000; // after a failed save
const HISTORY_LIMIT = 20;

const $ = (id) => document.getElementById(id);

const state = {
	features: {},
	languages: [],
	session: null, // {session_id, language, ...}
	saved: "", // the text the server has for this session
	saveTimer: null,
	saving: Promise.resolve(true),
	execution: null, // {id, interactive, status, follower}
};

const editor = createEditor($("editor"), { onChange: scheduleSave, onRun: run });

// ---- autosave ---------------------------------------------------------

function setSaveState(name, text) {
	const el = $("save-state");
	el.dataset.state = name;
	el.textContent = text || { saved: "Saved", unsaved: "Unsaved changes", saving: "Saving…" }[name];
}

function scheduleSave() {
	setSaveState("unsaved");
	clearTimeout(state.saveTimer);
	state.saveTimer = setTimeout(flushSave, SAVE_DELAY_MS);
}

// Saves now (after any save in flight); resolves to whether the server
// has the editor's text.
function flushSave() {
	clearTimeout(state.saveTimer);
	state.saveTimer = null;
	state.saving = state.saving.then(saveNow);
	return state.saving;
}

async function saveNow() {
	const session = state.session;
	const text = editor.text();
	if (!session) return false;
	if (text === state.saved) {
		setSaveState("saved");
		return true;
	}
	setSaveState("saving");
	let reply = null;
	try {
		reply = await api.save(session.session_id, text);
	} catch (e) {
		reply = null;
	}
	if (session !== state.session) return false;
	if (reply && reply.status === 200) {
		state.saved = text;
		setSaveState(editor.text() === text ? "saved" : "unsaved");
		return true;
	}
	setSaveState("error", "Not saved: " + errorText(reply));
	if (!reply || reply.status >= 500) state.saveTimer = setTimeout(flushSave, SAVE_RETRY_MS);
	return false;
}

// Closing or reloading the tab mid-debounce still sends the last edit.
window.addEventListener("pagehide", () => {
	if (state.session && editor.text() !== state.saved)
		api.save(state.session.session_id, editor.text(), { keepalive: true });
});

function errorText(reply) {
	if (!reply) return "the server did not answer";
	const error = reply.body && reply.body.error;
	return error ? `${error.code}: ${error.message}` : `HTTP ${reply.status}`;
}

// ---- sessions ---------------------------------------------------------

function sessionIdFromUrl() {
	const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
	return hash.get("s") || new URLSearchParams(location.search).get("session");
}

async function openFromUrl() {
	const id = sessionIdFromUrl();
	if (id && state.session && id === state.session.session_id) return;
	await flushSave();
	if (!id) return newSession(defaultLanguage(), false);
	const reply = await api.session(id);
	if (reply.status === 200) return openSession(reply.body);
	await newSession(defaultLanguage(), false);
	showRunError(`Session ${id} could not be opened (${errorText(reply)}); this is a new one.`);
}

// Back, Forward, or an edited address: one at a time, so two events for
// one navigation (popstate and hashchange) open the session once.
let navigating = Promise.resolve();
function followUrl() {
	navigating = navigating.then(openFromUrl);
	return navigating;
}

function defaultLanguage() {
	const ids = state.languages.map((l) => l.id);
	return ids.includes("python") ? "python" : ids[0] || "python";
}

// A session's language is fixed, so another language is another session;
// pushed onto the history so Back returns to the previous one.
async function newSession(language, push) {
	const reply = await api.createSession(language, TEMPLATES[language] || "");
	if (reply.status !== 201) {
		showRunError("Could not create a session: " + errorText(reply));
		return;
	}
	const url = `#s=${reply.body.session_id}`;
	if (push) history.pushState(null, "", url);
	else history.replaceState(null, "", url);
	openSession(reply.body);
}

function openSession(session) {
	stopFollowing();
	state.session = session;
	state.saved = session.source_code;
	editor.load(session.source_code, session.language);
	editor.mark([]);
	selectLanguage(session.language);
	$("session-id").textContent = session.session_id;
	setSaveState("saved");
	clearRun();
	setRunning(null);
	refreshHistory(true);
}

window.addEventListener("popstate", followUrl);
window.addEventListener("hashchange", followUrl);

// ---- languages --------------------------------------------------------

function fillLanguages(languages) {
	const select = $("language");
	select.replaceChildren(...languages.map((l) => new Option(`${l.name} ${l.version || ""}`.trim(), l.id)));
}

function selectLanguage(id) {
	const select = $("language");
	if (![...select.options].some((o) => o.value === id))
		select.add(new Option(`${id} (no runner)`, id));
	select.value = id;
}

$("language").addEventListener("change", async (e) => {
	if (state.session && e.target.value !== state.session.language) {
		await flushSave();
		await newSession(e.target.value, true);
	}
});

$("new-session").addEventListener("click", async () => {
	await flushSave();
	await newSession(state.session ? state.session.language : defaultLanguage(), true);
});

// ---- runs -------------------------------------------------------------

function run() {
	const interactive = state.features.interactive && $("interactive").checked;
	return launch("run", interactive, (id) => api.run(id, interactive ? { interactive: true } : stdinRequest()));
}

// The language's checker on the saved code: its findings are marked in
// the editor and listed in the run pane.
function check() {
	return launch("check", false, (id) => api.check(id));
}

// Saves, then queues the execution `send` asks for and follows it.
async function launch(kind, interactive, send) {
	if (!state.session || isRunning()) return;
	$("run").disabled = $("check").disabled = true;
	if (!(await flushSave())) {
		setRunning(state.execution);
		showRunError(`Not ${kind === "run" ? "run" : "checked"}: the code could not be saved.`);
		return;
	}
	const reply = await send(state.session.session_id);
	if (reply.status !== 202) {
		setRunning(state.execution);
		showRunError(`Not ${kind === "run" ? "run" : "checked"}: ` + errorText(reply));
		return;
	}
	resetOutput();
	editor.mark([]);
	watch(reply.body.execution_id, interactive, reply.body.status);
	refreshHistory(false);
	if (interactive) $("stdin-line").focus();
}

function stdinRequest() {
	const text = $("stdin-text").value;
	return text ? { stdin: text } : {};
}

function isRunning() {
	return state.execution !== null && !TERMINAL.has(state.execution.status);
}

// Follows an execution into the run pane until it ends.
function watch(id, interactive, status) {
	stopFollowing();
	const execution = { id, interactive, status, follower: null };
	state.execution = execution;
	setRunning(execution);
	showStatus(status);
	execution.follower = follow(id, state.features, {
		onStatus(s) {
			execution.status = s;
			showStatus(s);
			setRunning(execution);
			refreshHistory(false);
		},
		onOutput: appendOutput,
		onDone(result) {
			execution.status = result.status;
			showResult(result, true);
			setRunning(execution);
			refreshHistory(false);
		},
	});
}

function stopFollowing() {
	if (state.execution && state.execution.follower) state.execution.follower.stop();
	state.execution = null;
}

// A finished execution in the run pane; a check's findings also in the editor.
function showResult(execution, followed) {
	showExecution(execution, followed);
	if (execution.kind === "check") {
		editor.mark(execution.diagnostics || []);
		showDiagnostics(execution.diagnostics || []);
	}
}

// Enables the controls that fit the execution in the run pane.
function setRunning(execution) {
	const live = execution !== null && !TERMINAL.has(execution.status);
	$("run").disabled = $("check").disabled = live || !state.session;
	$("stop").disabled = !live || !state.features.cancel;
	const input = live && execution.interactive;
	$("input-line").hidden = !input;
	$("stdin-line").disabled = !input;
	document.body.dataset.running = live ? "yes" : "no";
}

$("run").addEventListener("click", run);
$("check").addEventListener("click", check);

$("stop").addEventListener("click", async () => {
	if (!isRunning()) return;
	const reply = await api.cancel(state.execution.id);
	if (reply.status !== 202 && reply.status !== 409) showRunError("Not stopped: " + errorText(reply));
});

// ---- interactive input ------------------------------------------------

// The engine does not echo what the program reads: the page shows what
// the learner typed, in its own colour, where it was typed.
async function sendInput(data, eof) {
	if (!isRunning() || !state.execution.interactive) return;
	if (data) appendOutput("echo", data);
	const reply = await api.stdin(state.execution.id, data, eof);
	if (reply.status === 409) appendOutput("note", "[the program is no longer reading input]\n");
	else if (reply.status !== 202) appendOutput("note", `[input not sent: ${errorText(reply)}]\n`);
}

$("input-line").addEventListener("submit", (e) => {
	e.preventDefault();
	const line = $("stdin-line").value;
	$("stdin-line").value = "";
	sendInput(line + "\n", false);
});

$("stdin-line").addEventListener("keydown", (e) => {
	if (e.key === "d" && e.ctrlKey) {
		e.preventDefault();
		sendInput($("stdin-line").value, true);
		$("stdin-line").value = "";
	}
});

$("send-eof").addEventListener("click", () => sendInput("", true));

// ---- history ----------------------------------------------------------

async function refreshHistory(showLatest) {
	const session = state.session;
	const reply = await api.executions(session.session_id, HISTORY_LIMIT);
	if (session !== state.session || reply.status !== 200) return;
	const runs = reply.body.executions;
	renderHistory($("history"), runs, state.execution && state.execution.id, openExecution);
	if (showLatest && runs.length) openExecution(runs[0]);
}

// Shows a past execution in the run pane (following it if it is live).
function openExecution(execution) {
	stopFollowing();
	resetOutput();
	if (TERMINAL.has(execution.status)) {
		state.execution = { id: execution.execution_id, interactive: false, status: execution.status };
		showResult(execution, false);
		setRunning(state.execution);
	} else {
		watch(execution.execution_id, !!execution.interactive, execution.status);
	}
	refreshHistorySelection();
}

function refreshHistorySelection() {
	for (const li of $("history").children)
		li.classList.toggle("selected", state.execution !== null && li.dataset.id === state.execution.id);
}

// ---- start ------------------------------------------------------------

// The learner's token (auth = token), given once in the address as
// #token=JWT (the platform opens the page so; a fragment never reaches a
// server or its logs): kept for this tab in sessionStorage and taken out
// of the address, so it is not bookmarked, shared or shown.
function takeToken() {
	const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
	const given = hash.get("token");
	if (given) {
		sessionStorage.setItem("engine-token", given);
		hash.delete("token");
		const rest = hash.toString();
		history.replaceState(null, "", rest ? `#${rest}` : location.pathname + location.search);
	}
	useToken(sessionStorage.getItem("engine-token"));
}

async function start() {
	takeToken();
	const [features, languages] = await Promise.all([detectFeatures(), api.languages()]);
	state.features = features;
	document.body.dataset.features = Object.keys(features).filter((k) => features[k]).join(" ");
	state.languages = languages.status === 200 ? languages.body.languages : [];
	fillLanguages(state.languages);
	$("interactive").disabled = !features.interactive;
	$("interactive").checked = features.interactive;
	$("interactive-label").title = features.interactive ? "" : "This engine has no interactive runs.";
	syncStdinBox();
	await followUrl();
	document.body.dataset.ready = "yes";
	editor.focus();
}

function syncStdinBox() {
	$("stdin-box").hidden = $("interactive").checked;
}

$("interactive").addEventListener("change", syncStdinBox);

start();
