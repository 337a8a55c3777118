// The run pane: the output as it arrives (stdout, stderr, and the input
// the learner typed), the execution's status, time and memory, and the
// files it left in out/ (images shown, the others offered as downloads).

import { artifactBlobUrl } from "./api.js";

const MAX_SHOWN_CHARS = 1 << 20; // past this the pane stops growing (the engine caps output anyway)

const $ = (id) => document.getElementById(id);
const live = { stdout: "", stderr: "", shown: 0 };

export function resetOutput() {
	$("output").replaceChildren();
	$("diagnostics").replaceChildren();
	$("diagnostics").hidden = true;
	clearArtifacts();
	live.stdout = "";
	live.stderr = "";
	live.shown = 0;
}

// kind: stdout | stderr | echo (typed input) | note | compile
export function appendOutput(kind, text) {
	if (kind === "stdout" || kind === "stderr") live[kind] += text;
	if (live.shown >= MAX_SHOWN_CHARS) return;
	text = text.slice(0, MAX_SHOWN_CHARS - live.shown);
	live.shown += text.length;
	const pane = $("output");
	const last = pane.lastElementChild;
	if (last && last.className === kind) last.append(text);
	else {
		const span = document.createElement("span");
		span.className = kind;
		span.textContent = text;
		pane.append(span);
	}
	pane.scrollTop = pane.scrollHeight;
}

export function clearRun() {
	resetOutput();
	showStatus(null);
	$("run-error").textContent = "";
}

export function showRunError(message) {
	$("run-error").textContent = message;
}

// While an execution is live, the seconds since it was seen starting (or
// queued), so a long run visibly runs.
let ticker = null;

function tickFrom(start) {
	clearInterval(ticker);
	ticker = null;
	$("elapsed").textContent = "";
	if (start === null) return;
	const tick = () => { $("elapsed").textContent = `${((Date.now() - start) / 1000).toFixed(1)} s`; };
	tick();
	ticker = setInterval(tick, 100);
}

export function showStatus(status) {
	const el = $("status");
	if (status !== el.dataset.status || !status)
		tickFrom(status === "RUNNING" || status === "QUEUED" ? Date.now() : null);
	el.textContent = status || "—";
	el.dataset.status = status || "";
	$("run-error").textContent = "";
	for (const id of ["exit", "time", "cpu", "memory", "compile"]) $(id).textContent = "";
	$("status-detail").textContent = "";
}

// A finished (or snapshot) execution. When it was followed live and the
// streamed output is all of it, the interleaved live view stays;
// otherwise the pane shows the stored output.
export function showExecution(execution, followed) {
	showStatus(execution.status);
	const complete = followed && live.stdout === (execution.stdout || "") &&
		live.stderr === (execution.stderr || "");
	if (!complete) {
		resetOutput();
		if (execution.compile_output) appendOutput("compile", execution.compile_output);
		if (execution.stdout) appendOutput("stdout", execution.stdout);
		if (execution.stderr) appendOutput("stderr", execution.stderr);
	}
	if (execution.stdout_truncated || execution.stderr_truncated)
		appendOutput("note", "\n[output truncated at the engine's limit]\n");
	const error = execution.error;
	$("status-detail").textContent = error ? `${error.code}: ${error.message}` : "";
	$("exit").textContent = execution.signal ? `signal ${execution.signal}` :
		execution.exit_code === null || execution.exit_code === undefined ? "" : `exit ${execution.exit_code}`;
	$("time").textContent = execution.execution_time_ms === null ? "" : `${execution.execution_time_ms} ms`;
	$("cpu").textContent = execution.cpu_time_ms === null ? "" : `CPU ${execution.cpu_time_ms} ms`;
	$("memory").textContent = execution.memory_kb === null ? "" : formatMemory(execution.memory_kb);
	$("compile").textContent = execution.compile_time_ms === null || execution.compile_time_ms === undefined ? "" :
		`compile ${execution.compile_time_ms} ms${execution.compile_cached ? " (cached)" : ""}`;
	showArtifacts(execution);
}

// Blob URLs of the artifacts shown, released when the pane is cleared;
// shown counts the clears, so an answer for a cleared pane is dropped.
let artifactUrls = [];
let shown = 0;

function clearArtifacts() {
	shown++;
	for (const url of artifactUrls) URL.revokeObjectURL(url);
	artifactUrls = [];
	$("artifacts").replaceChildren();
	$("artifacts").hidden = true;
}

// Images inline (PNG, SVG: as <img>, which runs no script of an SVG),
// anything else a download link named like the file.
async function showArtifacts(execution) {
	const list = $("artifacts");
	clearArtifacts();
	const mine = shown;
	const artifacts = execution.artifacts || [];
	const items = await Promise.all(artifacts.map(async (a) => {
		const url = await artifactBlobUrl(execution.execution_id, a.path);
		if (!url || mine !== shown) {
			if (url) URL.revokeObjectURL(url);
			return null;
		}
		artifactUrls.push(url);
		const li = document.createElement("li");
		li.dataset.path = a.path;
		if (a.content_type.startsWith("image/")) {
			const fig = document.createElement("figure");
			const img = document.createElement("img");
			img.src = url;
			img.alt = a.path;
			const cap = document.createElement("figcaption");
			cap.textContent = a.path;
			fig.append(img, cap);
			li.append(fig);
		} else {
			const link = document.createElement("a");
			link.href = url;
			link.download = a.path;
			link.textContent = `⤓ ${a.path} (${a.size} bytes)`;
			li.append(link);
		}
		return li;
	}));
	if (mine !== shown) return;
	list.replaceChildren(...items.filter(Boolean));
	list.hidden = list.childElementCount === 0;
}

// A check's findings, one line each, after the checker's own output.
export function showDiagnostics(diagnostics) {
	const list = $("diagnostics");
	list.replaceChildren(...diagnostics.map((d) => {
		const li = document.createElement("li");
		li.dataset.severity = d.severity;
		const where = d.line === null ? "" : `${d.line}${d.column === null ? "" : ":" + d.column}`;
		li.textContent = `${where} ${d.severity}${d.code ? " " + d.code : ""}: ${d.message}`.trim();
		return li;
	}));
	list.hidden = diagnostics.length === 0;
}

export function formatMemory(kb) {
	return kb >= 10240 ? `${(kb / 1024).toFixed(1)} MB` : `${kb} KB`;
}
