/*
 * TypeScript's start-up snapshot (languages.conf, [typescript] snapshot):
 * run once by the runner in a sandbox as
 *
 *   node --snapshot-blob /tmp/out/typescript.blob --build-snapshot \
 *        typescript-snapshot.js <the compile's tsc options>
 *
 * it loads tsc, compiles a small program with those options, and leaves in
 * the snapshot tsc's code and the standard library's declaration files
 * (lib.es2020.d.ts, lib.dom.d.ts, @types/node) parsed and bound. A compile
 * started from the snapshot (`node --snapshot-blob=... tsc ...`) then
 * parses and binds only the learner's files: about a fifth of tsc's time,
 * which is otherwise spent on the library's 70,000 lines before the first
 * line of main.ts.
 *
 * A kept file is used only when the file on disk still has the same text
 * and the compile asks for the same language version: a toolchain upgraded
 * under a snapshot gets its files parsed again, never stale ones. The
 * checker never writes into a bound file (a language service reuses them
 * the same way), so every compile starts from the same state.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const TSC = '/usr/share/nodejs/typescript/lib/tsc.js';
const RUN_CALL = 'ts.executeCommandLine(ts.sys, ts.noop, ts.sys.args);';

/* tsc.js runs its command line as it loads: load it without that call
 * (a snapshot's builder has no require of files, so it is compiled here). */
function loadTsc() {
	let src = fs.readFileSync(TSC, 'utf8');
	const at = src.lastIndexOf(RUN_CALL);

	if (at < 0)
		throw new Error(`${TSC}: its command-line call is not where this script expects it`);
	src = src.slice(0, at) + 'return ts;' + src.slice(at + RUN_CALL.length);
	return new Function('module', 'exports', 'require', '__filename', '__dirname', src)(
		{ exports: {} }, {}, require, TSC, path.dirname(TSC));
}

/* The library's source files, parsed and bound by a compile of a small program. */
function libraryFiles(ts, args) {
	const options = ts.parseCommandLine(args).options;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'typescript-snapshot-'));
	const main = path.join(dir, 'main.ts');

	fs.writeFileSync(main, 'const greeting: string = "hello";\nconsole.log(greeting);\nexport {};\n');
	const host = ts.createCompilerHostWorker(options, undefined, ts.sys);
	const program = ts.createProgram([main], options, host);
	/* Checks and emits once, so that the checker's and the emitter's code is compiled too. */
	ts.getPreEmitDiagnostics(program);
	program.emit(undefined, () => {});
	const kept = new Map();
	for (const file of program.getSourceFiles())
		if (!file.fileName.startsWith(dir))
			kept.set(file.fileName, file);
	fs.rmSync(dir, { recursive: true });
	return kept;
}

/* Every compiler host tsc makes looks in kept first. */
function keepFiles(ts, kept) {
	const makeHost = ts.createCompilerHostWorker;

	ts.createCompilerHostWorker = function (options, setParentNodes, system) {
		const host = makeHost(options, setParentNodes, system);
		const parse = host.getSourceFile;

		host.getSourceFile = function (fileName, version, onError) {
			const file = kept.get(fileName);
			const want = typeof version === 'object' ? version : { languageVersion: version };

			if (file && !setParentNodes && file.languageVersion === want.languageVersion &&
			    file.impliedNodeFormat === want.impliedNodeFormat && host.readFile(fileName) === file.text)
				return file;
			return parse.call(this, fileName, version, onError);
		};
		return host;
	};
}

const ts = loadTsc();
keepFiles(ts, libraryFiles(ts, process.argv.slice(2)));
/* Started as `node --snapshot-blob=... tsc.js-path options...`: argv[1] is tsc's path. */
require('v8').startupSnapshot.setDeserializeMainFunction(() => {
	if (ts.sys.setBlocking)
		ts.sys.setBlocking();
	ts.executeCommandLine(ts.sys, ts.noop, process.argv.slice(2));
});
