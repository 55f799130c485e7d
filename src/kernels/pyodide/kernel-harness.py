"""The Python side of a Lectern pyodide kernel: runs cells the way IPython does.

pyodide-worker.mjs writes this file into Pyodide's file system as _lectern_kernel.py and
calls run_cell() for each execute. Outputs leave through _lectern_io, a JavaScript module
the worker registers: stream(name, text) for stdout/stderr, output(json) for the other
nbformat outputs, wait(ms) for a sleep that an interrupt cuts short.
"""

import ast
import base64
import builtins
import codecs
import io
import json
import linecache
import sys
import time
import traceback

import _lectern_io

_HARNESS_FILE = __file__
# Pyodide's own Python package lives in the stdlib zip; its frames mean nothing to a learner.
_INTERNAL_PREFIXES = ('/lib/python3', '<frozen ')
_INTERNAL_PARTS = ('/_pyodide/', '/pyodide/')

_user_ns = sys.modules['__main__'].__dict__
execution_count = 0


class _OutBytes(io.RawIOBase):
    """sys.stdout.buffer: bytes written to it reach the same stream, decoded as UTF-8."""

    def __init__(self, text_stream):
        self._text = text_stream
        self._decoder = codecs.getincrementaldecoder('utf-8')('replace')

    def writable(self):
        return True

    def write(self, b):
        self._text.write(self._decoder.decode(bytes(b)))
        return len(b)


class _OutStream(io.TextIOBase):
    """sys.stdout and sys.stderr: every write goes out at once (the child coalesces them),
    so a print before a long computation shows before it ends."""

    def __init__(self, channel, fileno):
        self.channel = channel
        self._fileno = fileno
        self.buffer = _OutBytes(self)

    name = property(lambda self: f'<{self.channel}>')
    encoding = 'utf-8'
    errors = 'strict'

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fileno

    def flush(self):
        pass

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f'write() argument must be str, not {type(s).__name__}')
        if s:
            _lectern_io.stream(self.channel, s)
        return len(s)


_REPR_METHODS = (
    ('text/html', '_repr_html_'),
    ('text/markdown', '_repr_markdown_'),
    ('image/svg+xml', '_repr_svg_'),
    ('image/png', '_repr_png_'),
    ('image/jpeg', '_repr_jpeg_'),
    ('text/latex', '_repr_latex_'),
    ('application/json', '_repr_json_'),
)


def _warn(text):
    sys.stderr.write(text if text.endswith('\n') else text + '\n')


def _mimebundle(obj):
    """IPython's display formatter, reduced: text/plain is repr(); the _repr_*_ methods an
    object has add richer types. A method that fails is reported on stderr and skipped."""
    data, metadata = {}, {}
    if not isinstance(obj, type):  # a class's _repr_html_ is an unbound method
        for mime, attr in _REPR_METHODS:
            try:
                method = getattr(obj, attr, None)
                value = method() if callable(method) else None
            except Exception as e:
                _warn(f'{type(obj).__name__}.{attr}() failed: {type(e).__name__}: {e}')
                continue
            if value is None:
                continue
            if isinstance(value, tuple) and len(value) == 2:
                value, metadata[mime] = value
            if isinstance(value, (bytes, bytearray)):
                value = base64.b64encode(value).decode('ascii')
            data[mime] = value
    data['text/plain'] = repr(obj)
    return data, metadata


def _emit(output):
    try:
        text = json.dumps(output)
    except (TypeError, ValueError) as e:
        # A _repr_json_ or metadata that JSON cannot hold: keep what can be sent.
        _warn(f'an output could not be serialized ({e}); only its text/plain is shown')
        output = {**output, 'data': {'text/plain': output['data'].get('text/plain', '')}, 'metadata': {}}
        text = json.dumps(output)
    _lectern_io.output(text)


def display(*objs, raw=False, metadata=None):
    """Shows each object as a display_data output, like IPython's display(). With raw=True
    each object is already a mimebundle ({mime: data})."""
    for obj in objs:
        if raw:
            data, md = dict(obj), {}
        else:
            data, md = _mimebundle(obj)
        if metadata:
            md.update(metadata)
        _emit({'output_type': 'display_data', 'data': data, 'metadata': md})


def _input(prompt=''):
    raise NotImplementedError('input() is not available: this kernel has no stdin')


def _sleep(secs):
    """time.sleep that an interrupt ends: Pyodide's own sleep blocks until it is over."""
    if secs < 0:
        raise ValueError('sleep length must be non-negative')
    end = time.monotonic() + secs
    while (left := end - time.monotonic()) > 0:
        # Returns early when the interrupt buffer is set; the loop's next bytecodes then
        # raise KeyboardInterrupt.
        _lectern_io.wait(min(left, 1.0) * 1000)


def _is_internal(filename):
    return (
        filename == _HARNESS_FILE
        or filename.startswith(_INTERNAL_PREFIXES) and any(p in filename for p in _INTERNAL_PARTS)
    )


def _strip_internal_frames(te, seen=None):
    """Drops the harness's and Pyodide's frames. In the exception that ended the cell, the
    frames before the first cell frame are the harness calling in (run_cell; ast.parse for
    a SyntaxError), never the learner's."""
    top = seen is None
    seen = set() if seen is None else seen
    if te is None or id(te) in seen:
        return
    seen.add(id(te))
    frames = list(te.stack)
    while top and frames and not frames[0].filename.startswith('<cell-'):
        frames.pop(0)
    te.stack = traceback.StackSummary.from_list([f for f in frames if not _is_internal(f.filename)])
    _strip_internal_frames(te.__cause__, seen)
    _strip_internal_frames(te.__context__, seen)
    for sub in getattr(te, 'exceptions', None) or ():
        _strip_internal_frames(sub, seen)


def error_output(e):
    if isinstance(e, SyntaxError) and e.text is None and e.filename and e.lineno:
        # Raised by compile() on the parsed tree, which has no source: quote the cell.
        e.text = linecache.getline(e.filename, e.lineno) or None
    te = traceback.TracebackException.from_exception(e)
    _strip_internal_frames(te)
    return {
        'output_type': 'error',
        'ename': type(e).__name__,
        'evalue': str(e),
        'traceback': [chunk.rstrip('\n') for chunk in te.format()],
    }


def _suppressed(code, node):
    """A trailing `;` silences the last expression, as in IPython."""
    lines = code.splitlines()
    rest = lines[node.end_lineno - 1][node.end_col_offset:] if node.end_lineno <= len(lines) else ''
    return rest.lstrip().startswith(';')


def run_cell(code):
    """Runs every statement, then evaluates a trailing expression and shows its value.
    Returns the run's status and execution count as JSON."""
    global execution_count
    execution_count += 1
    count = execution_count
    status = 'ok'
    try:
        filename = f'<cell-{count}>'
        # Tracebacks quote the cell's lines from here, as they do in IPython.
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        tree = ast.parse(code, filename, 'exec')
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = tree.body.pop()
        exec(compile(tree, filename, 'exec'), _user_ns)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, 'eval'), _user_ns)
            if value is not None and not _suppressed(code, last):
                data, metadata = _mimebundle(value)
                _emit({'output_type': 'execute_result', 'data': data, 'metadata': metadata, 'execution_count': count})
    except BaseException as e:  # KeyboardInterrupt and SystemExit end the cell, not the kernel
        status = 'error'
        _emit(error_output(e))
    return json.dumps({'status': status, 'execution_count': count})


sys.stdout = _OutStream('stdout', 1)
sys.stderr = _OutStream('stderr', 2)
builtins.display = display
builtins.input = _input
time.sleep = _sleep
