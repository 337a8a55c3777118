// The session's runs, newest first (GET /code-sessions/{id}/executions):
// status, time and memory; a click shows that run in the run pane.
import { formatMemory } from "./run_view.js";

export function renderHistory(list, executions, selectedId, onOpen) {
	list.replaceChildren(...executions.map((execution) => {
		const li = document.createElement("li");
		li.dataset.id = execution.execution_id;
		li.dataset.status = execution.status;
		li.classList.toggle("selected", execution.execution_id === selectedId);
		li.tabIndex = 0;
		const status = document.createElement("span");
		status.className = "badge";
		status.dataset.status = execution.status;
		status.textContent = execution.kind === "check" ? `check ${execution.status}` : execution.status;
		const facts = document.createElement("span");
		facts.className = "facts";
		facts.textContent = [
			execution.execution_time_ms === null ? null : `${execution.execution_time_ms} ms`,
			execution.memory_kb === null ? null : formatMemory(execution.memory_kb),
			execution.error ? execution.error.code : null,
		].filter(Boolean).join(" · ");
		const when = document.createElement("time");
		when.dateTime = execution.queued_at;
		when.textContent = new Date(execution.queued_at).toLocaleTimeString();
		li.append(status, facts, when);
		li.addEventListener("click", () => onOpen(execution));
		li.addEventListener("keydown", (e) => { if (e.key === "Enter") onOpen(execution); });
		return li;
	}));
}
