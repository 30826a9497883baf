#!/usr/bin/env python3
"""A small Open Referral UK 3.0 API for `signpostctl directory import --url` tests.

Serves 25 services (GET /services with the HSDS Page envelope, list items not nested as in ORUK's
service_list schema; GET /services/{id} fully nested; GET /), with scripted faults:
  --bad-id ID          that service's full record has an assured_date that is not a date
  --fail-page N        GET /services?page=N answers 500 ...
  --fail-times K       ... the first K times (0: always)
  --pad-page N --pad-bytes B   page N carries B bytes more (a reply over the client's bound)
  --deep-id ID --deep-levels L   that service's full record carries arrays nested L deep
  --drip-page N        GET /services?page=N answers its headers, then a byte every 0.2 s, never done
  --tls-cert F --tls-key K   HTTPS with that certificate (tools/tls makes one)
Binds port 0 and writes the port to --port-file (as tests/support/service_process.h expects).
"""
import argparse
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNT = 25


def service_id(i):
    return f"5e1f0000-0000-4000-8000-{i:012d}"


ORGANIZATION = {
    "id": "0a9b0000-0000-4000-8000-000000000001",
    "name": "Leeds Community Partnership",
    "description": "Community groups across west Leeds",
}


def list_item(i):
    """As ORUK's schema/compiled/service_list.json: no attributes, no locations."""
    return {
        "id": service_id(i),
        "organization_id": ORGANIZATION["id"],
        "name": f"West Leeds befriending group {i}",
        "description": "Weekly befriending and a cup of tea",
        "url": f"https://example.org/groups/{i}",
        "email": f"group{i}@example.org",
        "status": "active",
        "last_modified": "2026-11-30T10:00:00.000Z",
        "organization": ORGANIZATION,
    }


def full_service(i, bad_id):
    s = list_item(i)
    s.update({
        "assured_date": "not a date" if s["id"] == bad_id else "2026-10-01",
        "attributes": [{
            "id": f"a77b0000-0000-4000-8000-{i:012d}",
            "link_type": "service",
            "taxonomy_term": {"id": "7e40", "name": "Befriending", "code": "befriending"},
        }],
        "schedules": [{"id": f"5c4e0000-0000-4000-8000-{i:012d}", "freq": "WEEKLY",
                       "byday": "TU", "opens_at": "10:00:00", "closes_at": "12:00:00"}],
        "languages": [{"id": f"1a46{i:04d}", "name": "English", "code": "en"}],
        "cost_options": [{"id": f"c057{i:04d}", "option": "Free", "amount": 0}],
        "service_at_locations": [{
            "id": f"5a10{i:04d}",
            "location": {
                "id": f"10c0{i:04d}",
                "location_type": "physical",
                "name": "Community centre",
                "latitude": 53.81 + i / 10000.0,
                "longitude": -1.56,
                "addresses": [{"id": f"add0{i:04d}", "address_1": f"{i} Cardigan Road",
                               "postal_code": "LS6 1BD", "address_type": "physical"}],
                "accessibility": [{"id": f"acc0{i:04d}", "description": "Step-free access"}],
            },
        }],
    })
    return s


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet: the test prints what matters
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def drip(self):
        """A slow-loris reply: each byte inside any read timeout, the whole never complete."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(10 ** 6))
        self.end_headers()
        try:
            for _ in range(3000):  # 10 minutes at most
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:  # the client hung up
            pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        server = self.server
        with server.lock:
            server.requests.append(self.path)
        if url.path == "/":
            return self.reply(200, {"version": "HSDS-UK-3.0",
                                    "profile": "https://github.com/OpenReferralUK/uk-profile",
                                    "openapi_url": "https://example.org/openapi.json"})
        if url.path == "/services":
            page = int(query.get("page", ["1"])[0])
            per_page = int(query.get("per_page", ["10"])[0])
            if page == server.args.drip_page:
                return self.drip()
            if page == server.args.fail_page:
                with server.lock:
                    server.failures += 1
                    failing = server.args.fail_times == 0 or server.failures <= server.args.fail_times
                if failing:
                    return self.reply(500, b"<html>500 Internal Server Error</html>")
            total_pages = (COUNT + per_page - 1) // per_page
            numbers = range((page - 1) * per_page + 1, min(page * per_page, COUNT) + 1)
            contents = [list_item(i) for i in numbers]
            envelope = {
                "total_items": COUNT, "total_pages": total_pages, "page_number": page,
                "size": len(contents), "first_page": page == 1,
                "last_page": page >= total_pages, "empty": not contents, "contents": contents}
            if page == server.args.pad_page:
                envelope["x_padding"] = "x" * server.args.pad_bytes
            return self.reply(200, envelope)
        if url.path.startswith("/services/"):
            wanted = urllib.parse.unquote(url.path[len("/services/"):])
            for i in range(1, COUNT + 1):
                if service_id(i) == wanted and wanted == server.args.deep_id:
                    # json.dumps cannot nest this deep (recursion limit): the bytes by hand.
                    deep = "[" * server.args.deep_levels + "]" * server.args.deep_levels
                    text = json.dumps(full_service(i, server.args.bad_id))
                    return self.reply(200, (text[:-1] + ', "x_nested": ' + deep + "}").encode())
                if service_id(i) == wanted:
                    return self.reply(200, full_service(i, server.args.bad_id))
            return self.reply(404, {"message": "no such service"})
        return self.reply(404, {"message": "not found"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--metrics-port-file")  # given by ServiceProcess; not used
    parser.add_argument("--bad-id", default="")
    parser.add_argument("--fail-page", type=int, default=0)
    parser.add_argument("--fail-times", type=int, default=0)
    parser.add_argument("--pad-page", type=int, default=0)
    parser.add_argument("--pad-bytes", type=int, default=0)
    parser.add_argument("--deep-id", default="")
    parser.add_argument("--deep-levels", type=int, default=0)
    parser.add_argument("--drip-page", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.args = args
    server.lock = threading.Lock()
    server.failures = 0
    server.requests = []
    if args.tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
