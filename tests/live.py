"""Clients of the live endpoints for the tests: an SSE reader and a
minimal WebSocket client (standard library only)."""

import base64
import json
import os
import socket
import struct
import time


class SSE:
    """GET /executions/{id}/events (or another path's stream) on a raw socket; events as they come."""

    def __init__(self, port, execution_id, last_event_id=None, timeout=30, rcvbuf=None, path=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        extra = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
        path = path or f"/executions/{execution_id}/events"
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n"
                          f"Accept: text/event-stream\r\n{extra}\r\n".encode())
        self.buf = b""
        self.comments = 0
        self.closed = False
        head = self._until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in
                        (l.split(":", 1) for l in lines[1:] if ":" in l)}
        # lighttpd answers a stream that ended before it started sending
        # with a Content-Length, one still going chunked (or until close).
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self.length = int(self.headers["content-length"]) if "content-length" in self.headers else None
        self.received = 0
        self.body = b""

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
        self.buf += data
        return data

    def _until(self, sep):
        while sep not in self.buf:
            if not self._recv():
                raise EOFError("closed before " + repr(sep))
        head, self.buf = self.buf.split(sep, 1)
        return head

    def _fill_body(self):
        """Moves received bytes into self.body, undoing chunked encoding."""
        if not self.chunked:
            self.body += self.buf
            self.received += len(self.buf)
            self.buf = b""
            if self.length is not None and self.received >= self.length:
                self.closed = True
            return
        while b"\r\n" in self.buf:
            size_line, rest = self.buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                self.closed = True
                self.buf = b""
                return
            if len(rest) < size + 2:
                return
            self.body += rest[:size]
            self.buf = rest[size + 2:]

    def next_event(self):
        """-> dict(id, event, data) of the next event, or None at the end."""
        while True:
            self._fill_body()
            while b"\n\n" in self.body:
                block, self.body = self.body.split(b"\n\n", 1)
                ev = {}
                for line in block.decode("utf-8").split("\n"):
                    if line.startswith(":"):
                        self.comments += 1
                        continue
                    key, _, value = line.partition(": ")
                    ev[key] = value
                if ev:
                    if "id" in ev:      # a submission's stream has none
                        ev["id"] = int(ev["id"])
                    ev["data"] = json.loads(ev["data"])
                    return ev
            if self.closed:
                return None
            self._recv()

    def all_events(self):
        out = []
        while (ev := self.next_event()) is not None:
            out.append(ev)
            if ev["event"] == "done":
                # The server closes the stream after done.
                assert self.next_event() is None
                break
        return out

    def close(self):
        self.sock.close()


class WebSocket:
    """GET /executions/{id}/ws: the handshake, then text frames."""

    def __init__(self, port, execution_id, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET /executions/{execution_id}/ws HTTP/1.1\r\nHost: x\r\n"
                          f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("closed during the handshake")
            self.buf += data
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in
                        (l.split(":", 1) for l in lines[1:] if ":" in l)}
        self.key = key

    def _need(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data

    def recv_frame(self):
        """-> (opcode, payload bytes), or None when the connection closed."""
        try:
            self._need(2)
            op, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
            hlen = 2
            if n == 126:
                self._need(4)
                n, hlen = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                self._need(10)
                n, hlen = struct.unpack(">Q", self.buf[2:10])[0], 10
            self._need(hlen + n)
        except EOFError:
            return None
        payload, self.buf = self.buf[hlen:hlen + n], self.buf[hlen + n:]
        return op, payload

    def send_text(self, text):
        data = text.encode()
        mask = os.urandom(4)
        head = bytes([0x81])
        if len(data) < 126:
            head += bytes([0x80 | len(data)])
        else:
            head += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def messages(self):
        """Text messages (parsed) until done, answering nothing else."""
        out = []
        while (frame := self.recv_frame()) is not None:
            op, payload = frame
            if op == 1:
                msg = json.loads(payload)
                out.append(msg)
                if msg["event"] == "done":
                    break
        return out

    def close(self):
        self.sock.close()


def wait_for(predicate, timeout=10, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False
