/*
 * Why not just "python3 /app/main.py": the site module costs a quarter of a
 * hello world's CPU time (about 3 of 12 ms here), mostly by running the .pth
 * files of dist-packages. The interpreter starts with -S instead, and this
 * program does the part of site a learner can notice -- Debian's
 * dist-packages on sys.path, exit(), quit() and help() -- then runs
 * /app/main.py as the real __main__ module: same sys.argv, sys.path[0],
 * __name__, tracebacks (its own frame is cut off) and exit statuses as
 * "python3 /app/main.py".
 *
 * Plots without ceremony: Matplotlib's backend is engine_plots
 * (MPLBACKEND in conf/languages.conf), a module this finder makes when
 * Matplotlib asks for it, that draws with Agg and whose show() saves each open figure as a PNG artifact,
 * /tmp/out/figure-1.png, figure-2.png, ..., and closes it; what is still
 * open when the program ends is saved the same way (atexit, registered as
 * the backend loads: after pyplot's own handler, which closes every
 * figure, so it runs before that one). Nothing of Matplotlib is imported
 * unless the program does. Its functions live in globals of their own: the
 * finder stays in sys.meta_path until the interpreter's very end, and
 * holding this program's globals (and through them __main__) that long
 * would change the order in which __main__'s objects are finalized.
 *
 * It compiles the file before running it, and reports a SyntaxError on the
 * sandbox's syntax channel (fd 4, see sandbox.h) instead of stderr: the
 * runner makes that a COMPILE_ERROR, which a program cannot fake, because
 * fd 4 is closed before any of the learner's code runs (and a
 * SyntaxError the program raises itself, or an exit status, is just a
 * runtime error). The report names main.py, like a compiler's would.
 * Without a channel (fd 4 closed) the report goes to stderr.
 *
 * The version in the dist-packages path is the running interpreter's own,
 * as site.py derives it: the configured python may be any 3.x, and a path
 * fixed at build time would silently drop /usr/local's packages after an
 * upgrade. It costs one string format per run, no extra process at start;
 * the runner's start-up self-test runs this program, so an interpreter it
 * does not suit still stops the runner.
 */
#include "python_boot.h"

const char python_boot[] =
	"import sys\n"
	"sys.path[0] = '/app'\n"
	"sys.path += ['/usr/local/lib/python%d.%d/dist-packages' % sys.version_info[:2],\n"
	"             '/usr/lib/python3/dist-packages']\n"
	"import builtins, _sitebuiltins\n"
	"builtins.exit = _sitebuiltins.Quitter('exit', 'Ctrl-D (i.e. EOF)')\n"
	"builtins.quit = _sitebuiltins.Quitter('quit', 'Ctrl-D (i.e. EOF)')\n"
	"builtins.help = _sitebuiltins._Helper()\n"
	"def _plots(sys=sys):\n"
	"    import atexit\n"
	"    saved = [0]\n"
	"    def show(*args, **kwargs):\n"
	"        plt = sys.modules.get('matplotlib.pyplot')\n"
	"        if plt is None:\n"
	"            return\n"
	"        for num in plt.get_fignums():\n"
	"            saved[0] += 1\n"
	"            name = 'figure-%d.png' % saved[0]\n"
	"            try:\n"
	"                plt.figure(num).savefig('/tmp/out/' + name)\n"
	"            except OSError as e:\n"
	"                print('%s was not kept: %s' % (name, e.strerror), file=sys.stderr)\n"
	"        plt.close('all')\n"
	"    class backend:\n"
	"        def find_spec(name, path=None, target=None):\n"
	"            if name == 'engine_plots':\n"
	"                from importlib.machinery import ModuleSpec\n"
	"                return ModuleSpec(name, backend)\n"
	"        def create_module(spec):\n"
	"            return None\n"
	"        def exec_module(module):\n"
	"            from matplotlib.backends import backend_agg\n"
	"            module.FigureCanvas = backend_agg.FigureCanvasAgg\n"
	"            module.FigureManager = backend_agg.FigureManager\n"
	"            module.show = show\n"
	"            atexit.register(show)\n"
	"    sys.meta_path.append(backend)\n"
	"type(_plots)(_plots.__code__, {'__builtins__': builtins, '__name__': 'engine_plots'}, None,\n"
	"             _plots.__defaults__)()\n"
	"del _plots\n"
	"main = type(sys)('__main__')\n"
	"main.__file__ = '/app/main.py'\n"
	"main.__builtins__ = builtins\n"
	"sys.modules['__main__'] = main\n"
	"sys.argv[:] = ['/app/main.py']\n"
	"with open('/app/main.py', 'rb') as f:\n"
	"    source = f.read()\n"
	"del f\n"
	"import posix\n"
	"try:\n"
	"    code = compile(source, '/app/main.py', 'exec')\n"
	"except SyntaxError as e:\n"
	"    import traceback\n"
	"    e.filename = 'main.py'\n"
	"    report = ''.join(traceback.format_exception_only(type(e), e))\n"
	"    try:\n"
	"        with open(4, 'w', encoding='utf-8', errors='backslashreplace') as channel:\n"
	"            channel.write(report)\n"
	"    except OSError:\n"
	"        sys.stderr.write(report)\n"
	"    sys.exit(1)\n"
	"try:\n"
	"    posix.close(4)\n"
	"except OSError:\n"
	"    pass\n"
	"del source\n"
	"try:\n"
	"    exec(code, main.__dict__)\n"
	"except SystemExit:\n"
	"    raise\n"
	"except BaseException as e:\n"
	"    e.__traceback__ = e.__traceback__.tb_next\n"
	"    sys.excepthook(type(e), e, e.__traceback__)\n"
	"    sys.exit(1)\n";

/*
 * A warm interpreter (runner/warm.c) runs this, then, in each run it
 * forks, python_boot above inside `try:` and python_warm_epilogue. It
 * calls warm_serve once: the library (fd 3) serves every request on the
 * control socket (fd 0), and only each run's payload, entered, returns --
 * so every run resumes the interpreter in the same state. In the payload:
 * Python's own after-fork step (locks, at-fork hooks, the thread id), the
 * collector's generations reset, the run's environment in os.environ (an
 * interactive run's differs), ctypes dropped from sys.modules (a
 * program that wants it imports it afresh; the standard modules it brought
 * along stay loaded), and the heap shifted by a random amount, so that
 * id() and addresses differ from run to run although every run is a copy
 * of one process: up to 4095 objects, and a block of up to 1 MiB from
 * malloc, which shifts the C heap (or, past malloc's mmap threshold, where
 * the allocator's next arenas are mapped) without touching its pages --
 * every page a run touches is a copy-on-write fault, and a zero-filled
 * bytearray of that size cost 0.4 ms of each run. What the payload needs
 * of ctypes (the env buffer, malloc) is made before the fork, once; and
 * _sitebuiltins, which the boot imports, is loaded before it too.
 *
 * Loops run in functions, never at the top level: eight loop iterations
 * there would make the adaptive interpreter specialise this code object,
 * whose specialised call of exec() takes no recursion slot, and the
 * program would get one level of recursion more than a cold run's.
 *
 * The run's end (_warm_exit) is what a fresh interpreter's exit shows --
 * the exit status of SystemExit, non-daemon threads joined, atexit
 * handlers, the streams flushed (status 120 if that fails), __main__
 * dropped from sys.modules and collected, which finalizes its objects in
 * the same order -- and then _exit, without tearing down the rest of the
 * interpreter: that would write to every object it shares with the warm
 * interpreter and copy each of their pages, the largest part of a short
 * run's CPU time. Objects with a __del__ held by other modules are not
 * finalized at exit (README, "How a run starts").
 */
const char python_warm_prelude[] =
	"import sys\n"
	"import atexit, ctypes, gc, os, posix, _sitebuiltins\n"
	"def _warm_flush(status, sys=sys):\n"
	"    for name in ('stdout', 'stderr'):\n"
	"        f = getattr(sys, name, None)\n"
	"        try:\n"
	"            if f is not None and not f.closed:\n"
	"                f.flush()\n"
	"        except Exception:\n"
	"            status = 120\n"
	"    return status\n"
	"def _warm_exit(code, sys=sys, atexit=atexit, gc=gc, posix=posix, flush=_warm_flush):\n"
	"    if code is None:\n"
	"        status = 0\n"
	"    elif isinstance(code, int):\n"
	"        status = code & 0xff\n"
	"    else:\n"
	"        try:\n"
	"            print(code, file=sys.stderr)\n"
	"        except Exception:\n"
	"            pass\n"
	"        status = 1\n"
	"    threading = sys.modules.get('threading')\n"
	"    try:\n"
	"        if threading is not None:\n"
	"            threading._shutdown()\n"
	"    except Exception:\n"
	"        pass\n"
	"    atexit._run_exitfuncs()\n"
	"    status = flush(status)\n"
	"    sys._getframe(1).f_globals.clear()\n"
	"    sys.modules['__main__'] = None\n"
	"    gc.collect()\n"
	"    posix._exit(flush(status))\n"
	"def _warm_enter(env_words, malloc, sys=sys, os=os):\n"
	"    env = os.environ._data\n"
	"    env.clear()\n"
	"    for word in env_words.raw.split(b'\\0\\0')[0].split(b'\\0'):\n"
	"        key, _, value = word.partition(b'=')\n"
	"        if key:\n"
	"            env[key] = value\n"
	"    for name in [m for m in sys.modules if m.startswith(('ctypes', '_ctypes'))]:\n"
	"        del sys.modules[name]\n"
	"    malloc(int.from_bytes(os.urandom(3), 'little') % (1 << 20) + 1)\n"
	"    return [object() for _ in range(int.from_bytes(os.urandom(2), 'little') % 4096)]\n"
	"_w = ctypes.CDLL('/proc/self/fd/3')\n"
	"if _w.warm_init(0):\n"
	"    os._exit(70)\n"
	"os.close(3)\n"
	"gc.collect()\n"
	"gc.freeze()\n"
	"os.write(0, b'R')\n"
	"_words = (ctypes.c_char * 2048).in_dll(_w, 'warm_env')\n"
	"_malloc = ctypes.CDLL(None).malloc\n"
	"_malloc.argtypes = (ctypes.c_size_t,)\n"
	"_r = _w.warm_serve(0)\n"
	"if _r != 1:\n"
	"    os._exit(0 if _r == -1 else 71)\n"
	"ctypes.pythonapi.PyOS_AfterFork_Child()\n"
	"gc.freeze()\n"
	"_pad = _warm_enter(_words, _malloc)\n"
	"del _warm_enter, _w, _r, _words, _malloc, ctypes, gc, os, atexit, posix, _sitebuiltins\n";

/* After python_boot, indented in a try: the run's end. */
const char python_warm_epilogue[] =
	"except SystemExit as _e:\n"
	"    _warm_code = _e.code\n"
	"else:\n"
	"    _warm_code = None\n"
	"_warm_exit(_warm_code)\n";
