"""Bytes on a socket, for requests http.client refuses to send (no
Content-Length, a broken request line, a foreign HTTP version) and a
parser of the reply. Standard library only."""

import json
import socket


def raw_request(port, data, timeout=10):
    """Sends data (a whole request) and reads the reply to EOF.
    -> (status, {lower-case header: value}, parsed JSON or text)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                break
            if not d:
                break
            chunks.append(d)
    return parse_reply(b"".join(chunks))


def parse_reply(reply):
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    assert len(parts) >= 2 and parts[0].startswith("HTTP/"), f"not an HTTP reply: {reply[:200]!r}"
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    text = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text
    return int(parts[1]), headers, parsed


def request_bytes(method, path, headers=(), body=b"", version="HTTP/1.1", connection="close"):
    """A request with Host and Connection: close (none if connection is None);
    headers is a list of (name, value) sent as given (no Content-Length unless listed)."""
    lines = [f"{method} {path} {version}", "Host: 127.0.0.1"]
    lines += [f"Connection: {connection}"] if connection else []
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
