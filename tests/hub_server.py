"""A checkpoint server for the model-hub tests: Python's ``http.server`` on
127.0.0.1 with HTTP Range support and scripted faults.

``CheckpointServer.files[path] = bytes`` serves ``path``; ``faults[path]``
makes it misbehave:

* ``'truncate'``: every response sends half of what it announces, then
  closes the connection;
* ``'truncate_once'``: only the first response does;
* ``'html'``: answers with a web page (as Google Drive does for large
  files);
* ``'ignore_range'``: answers 200 with the whole file to a Range request.

Paths without a file answer 404. Every request is logged as ``(path,
Range header or None)`` in ``requests``.
"""
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802 - http.server's name
        server = self.server.owner
        path = self.path.split('?')[0]
        rng = self.headers.get('Range')
        with server.lock:
            server.requests.append((path, rng))
            data = server.files.get(path)
            fault = server.faults.get(path)
            if fault == 'truncate_once':
                server.faults.pop(path)
        if data is None:
            self._send(404, b'not found', 'text/plain')
            return
        if fault == 'html':
            self._send(200, b'<html><body>Virus scan warning</body></html>',
                       'text/html; charset=utf-8')
            return
        start = 0
        match = re.match(r'bytes=(\d+)-$', rng or '')
        if match and fault != 'ignore_range':
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header('Content-Range', f'bytes */{len(data)}')
                self.send_header('Content-Length', '0')
                self.end_headers()
                return
        body = data[start:]
        self.send_response(206 if start else 200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Accept-Ranges', 'bytes')
        if start:
            self.send_header('Content-Range',
                             f'bytes {start}-{len(data) - 1}/{len(data)}')
        self.end_headers()
        if fault in ('truncate', 'truncate_once'):
            self.wfile.write(body[:max(1, len(body) // 2)])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def _send(self, code, body, content_type):
        self.send_response(code)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class CheckpointServer:
    """The server, running in a thread until :meth:`close`."""

    def __init__(self):
        self.files, self.faults, self.requests = {}, {}, []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def requests_for(self, path):
        with self.lock:
            return [r for p, r in self.requests if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def refused_url() -> str:
    """A 127.0.0.1 URL where nothing listens (connection refused)."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return f'http://127.0.0.1:{port}'
