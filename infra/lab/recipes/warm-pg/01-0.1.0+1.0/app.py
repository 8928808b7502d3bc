"""warm-pg: rows of text in PostgreSQL, over HTTP. Schema migrations run at start, in order."""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

PORT = 8000

# version -> statements; the app applies the ones newer than the database's schema_version.
MIGRATIONS = {
    1: ["CREATE TABLE rows (id serial PRIMARY KEY, body text NOT NULL)"],
}
COLUMNS = "id, body"


def connect():
    with open(os.environ["DB_PASSWORD_FILE"]) as f:
        password = f.read().strip()
    return psycopg2.connect(
        host=os.environ.get("DB_HOST", "db"),
        dbname=os.environ["DB_NAME"],
        user=os.environ["DB_USER"],
        password=password,
        connect_timeout=3,
    )


def wait_for_db(seconds=120):
    deadline = time.time() + seconds
    while True:
        try:
            return connect()
        except psycopg2.OperationalError as error:
            if time.time() > deadline:
                sys.exit(f"warm-pg: the database did not answer within {seconds}s: {error}")
            time.sleep(1)


def migrate(conn):
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)")
        cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
        current = cur.fetchone()[0]
        for version in sorted(v for v in MIGRATIONS if v > current):
            print(f"warm-pg: migrating schema {current} -> {version}", flush=True)
            for statement in MIGRATIONS[version]:
                cur.execute(statement)
            cur.execute("INSERT INTO schema_version VALUES (%s)", (version,))
            current = version
    return current


class Handler(BaseHTTPRequestHandler):
    def send_json(self, status, value):
        body = json.dumps(value, default=str).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def query(self, sql, args=(), fetch=True):
        with connect() as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if fetch else cur.rowcount

    def do_GET(self):
        if self.path == "/health":
            (version,) = self.query("SELECT max(version) FROM schema_version")[0]
            return self.send_json(200, {"ok": True, "schema": version})
        if self.path == "/rows":
            rows = self.query(f"SELECT {COLUMNS} FROM rows ORDER BY id")
            names = [c.strip() for c in COLUMNS.split(",")]
            return self.send_json(200, [dict(zip(names, row)) for row in rows])
        if self.path == "/":
            return self.send_json(200, {"app": "warm-pg"})
        self.send_json(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/rows":
            return self.send_json(404, {"error": "not found"})
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
        (row_id,) = self.query("INSERT INTO rows (body) VALUES (%s) RETURNING id", (body,))[0]
        self.send_json(201, {"id": row_id})

    def do_DELETE(self):
        if self.path != "/rows":
            return self.send_json(404, {"error": "not found"})
        self.send_json(200, {"deleted": self.query("DELETE FROM rows", fetch=False)})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    schema = migrate(wait_for_db())
    print(f"warm-pg: schema {schema}, serving on :{PORT}", flush=True)
    ThreadingHTTPServer(("", PORT), Handler).serve_forever()
