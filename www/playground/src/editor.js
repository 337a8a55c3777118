// The code editor: CodeMirror 6 with the highlighting of each engine
// language. The language lives in a compartment, so switching sessions
// reconfigures the one editor instead of building a new one.
import { EditorView, basicSetup } from "codemirror";
import { Annotation, EditorState, Compartment } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { indentUnit, StreamLanguage } from "@codemirror/language";
import { indentWithTab } from "@codemirror/commands";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { python } from "@codemirror/lang-python";
import { javascript } from "@codemirror/lang-javascript";
import { cpp } from "@codemirror/lang-cpp";
import { java } from "@codemirror/lang-java";
import { go } from "@codemirror/lang-go";
import { rust } from "@codemirror/lang-rust";
import { sql, SQLite } from "@codemirror/lang-sql";
import { shell } from "@codemirror/legacy-modes/mode/shell";

// Marks the transactions that load a session, which are not edits.
const LOADING = Annotation.define();

// Engine language id (conf/languages.conf) -> CodeMirror language support.
const SUPPORT = {
	python: () => python(),
	javascript: () => javascript(),
	typescript: () => javascript({ typescript: true }),
	c: () => cpp(),
	cpp: () => cpp(),
	java: () => java(),
	go: () => go(),
	rust: () => rust(),
	bash: () => StreamLanguage.define(shell),
	sql: () => sql({ dialect: SQLite }),
};

export function languageSupport(id) {
	return SUPPORT[id] ? SUPPORT[id]() : [];
}

// parent: the element to fill; onChange(text) after every edit; onRun()
// on Ctrl/Cmd-Enter.
export function createEditor(parent, { onChange, onRun }) {
	const language = new Compartment();
	const editable = new Compartment();
	const view = new EditorView({
		parent,
		state: EditorState.create({
			doc: "",
			extensions: [
				keymap.of([{ key: "Mod-Enter", run: () => { onRun(); return true; } }, indentWithTab]),
				basicSetup,
				lintGutter(),
				indentUnit.of("    "),
				language.of([]),
				editable.of(EditorView.editable.of(false)),
				EditorView.updateListener.of((update) => {
					if (update.docChanged && !update.transactions.every((t) => t.annotation(LOADING)))
						onChange(update.state.doc.toString());
				}),
			],
		}),
	});
	return {
		view,
		text: () => view.state.doc.toString(),
		// Replaces the text without counting as an edit (no autosave).
		load(text, languageId) {
			view.dispatch({
				changes: { from: 0, to: view.state.doc.length, insert: text },
				effects: [language.reconfigure(languageSupport(languageId)),
					editable.reconfigure(EditorView.editable.of(true))],
				annotations: LOADING.of(true),
			});
		},
		focus: () => view.focus(),
		// Marks a check's findings ({line, column, severity, message},
		// 1-based, column null for a whole line) in the text; [] clears.
		mark(diagnostics) {
			view.dispatch(setDiagnostics(view.state, diagnostics.map((d) => toRange(view.state.doc, d))));
		},
	};
}

const SEVERITY = { error: "error", warning: "warning", info: "info" };

function toRange(doc, d) {
	const line = doc.line(Math.min(Math.max(d.line || 1, 1), doc.lines));
	const from = d.column ? Math.min(line.from + d.column - 1, line.to) : line.from;
	const to = d.column && from < line.to ? from + 1 : line.to;
	return { from, to, severity: SEVERITY[d.severity] || "info",
		source: d.code || undefined, message: d.message };
}
