"""maria-app: rows of text in MariaDB, over HTTP. Schema migrations run at start, in order."""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pymysql

PORT = 8000

# version -> statements; the app applies the ones newer than the database's schema_version.
MIGRATIONS = {
    1: ["CREATE TABLE entries (id int AUTO_INCREMENT PRIMARY KEY, body text NOT NULL)"],
}
COLUMNS = "id, body"


def connect():
    with open(os.environ["DB_PASSWORD_FILE"]) as f:
        password = f.read().strip()
    return pymysql.connect(
        host=os.environ.get("DB_HOST", "db"),
        database=os.environ["DB_NAME"],
        user=os.environ["DB_USER"],
        password=password,
        connect_timeout=3,
        autocommit=False,
    )


def wait_for_db(seconds=120):
    deadline = time.time() + seconds
    while True:
        try:
            return connect()
        except pymysql.err.OperationalError as error:
            if time.time() > deadline:
                sys.exit(f"maria-app: the database did not answer within {seconds}s: {error}")
            time.sleep(1)


def migrate(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)")
        cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
        current = cur.fetchone()[0]
        for version in sorted(v for v in MIGRATIONS if v > current):
            print(f"maria-app: migrating schema {current} -> {version}", flush=True)
            for statement in MIGRATIONS[version]:
                cur.execute(statement)
            cur.execute("INSERT INTO schema_version VALUES (%s)", (version,))
            conn.commit()
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
        conn = connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                result = cur.fetchall() if fetch else cur.rowcount
            conn.commit()
            return result
        finally:
            conn.close()

    def do_GET(self):
        if self.path == "/health":
            (version,) = self.query("SELECT max(version) FROM schema_version")[0]
            return self.send_json(200, {"ok": True, "schema": version})
        if self.path == "/rows":
            rows = self.query(f"SELECT {COLUMNS} FROM entries ORDER BY id")
            names = [c.strip() for c in COLUMNS.split(",")]
            return self.send_json(200, [dict(zip(names, row)) for row in rows])
        if self.path == "/":
            return self.send_json(200, {"app": "maria-app"})
        self.send_json(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/rows":
            return self.send_json(404, {"error": "not found"})
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
        self.query("INSERT INTO entries (body) VALUES (%s)", (body,), fetch=False)
        (row_id,) = self.query("SELECT max(id) FROM entries")[0]
        self.send_json(201, {"id": row_id})

    def do_DELETE(self):
        if self.path != "/rows":
            return self.send_json(404, {"error": "not found"})
        self.send_json(200, {"deleted": self.query("DELETE FROM entries", fetch=False)})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    schema = migrate(wait_for_db())
    print(f"maria-app: schema {schema}, serving on :{PORT}", flush=True)
    ThreadingHTTPServer(("", PORT), Handler).serve_forever()
