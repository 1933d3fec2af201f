"""Runs the shell sessions of the README and docs/ against a fresh server, so that no
command a newcomer copies has rotted.

Usage: doc_sessions.py BINARY FILE.md...

Each file runs on a server of its own (SQLite in a fresh directory, which is also the
working directory of the session, with `contrib/` linked in), its ```sh blocks in
order in one bash process, so that variables pass from block to block. A block's
info string says how it runs:

- ```sh                 run as it is;
- ```sh expect=402,409  run; these HTTP statuses at or above 400 are expected of it;
- ```sh server          its `cargo run ...` line restarts the server with those arguments;
- ```sh skip            shown, not run (the set-up commands, a PostgreSQL URL to fill in).

`cargo run [-q] -- ARGS` runs the server binary with ARGS, `localhost:8080` is the
session's server, `xdg-open` does nothing. Every curl's status is recorded: a 5xx fails
the session, and so does a 4xx its block does not expect. Background commands (`&`)
are waited for at the end.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BLOCK = re.compile(r"^```sh([^\n]*)\n(.*?)^```", re.S | re.M)

PRELUDE = r"""
set -euo pipefail
cargo() {
  if [ "$1" = run ]; then
    shift
    [ "${1:-}" = -q ] && shift
    [ "${1:-}" = -- ] && shift
    "$DOC_BIN" "$@"
  else
    command cargo "$@"
  fi
}
xdg-open() { :; }
curl() {
  local arg
  for arg in "$@"; do
    if [ "$arg" = -D ]; then command curl "$@"; return; fi
  done
  local head rc=0
  head=$(mktemp)
  command curl -D "$head" "$@" || rc=$?
  local status
  status=$(grep -o '^HTTP/[0-9.]* [0-9]*' "$head" | tail -n 1 | cut -d' ' -f2 || true)
  echo "$DOC_BLOCK ${status:-000}" >> "$DOC_STATUS"
  rm -f "$head"
  return $rc
}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, work, port):
        self.binary, self.work, self.port, self.process = binary, work, port, None

    def start(self, args=()):
        self.stop()
        env = dict(os.environ)
        env["TALER_OPENAPI_LISTEN"] = f"127.0.0.1:{self.port}"
        env["TALER_OPENAPI_DATABASE_URL"] = f"sqlite://{self.work}/taler-openapi.sqlite?mode=rwc"
        log = open(os.path.join(self.work, "server.log"), "a")
        self.process = subprocess.Popen(
            [self.binary, *args], cwd=self.work, env=env, stdout=log, stderr=log
        )
        for _ in range(150):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        sys.exit(f"the server did not start; its log:\n{open(log.name).read()}")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def run_file(binary, path):
    text = open(path).read()
    blocks = BLOCK.findall(text)
    work = tempfile.mkdtemp(prefix="doc-session-")
    os.symlink(os.path.abspath("contrib"), os.path.join(work, "contrib"))
    port = free_port()
    server = Server(binary, work, port)
    server.start()
    status_log = os.path.join(work, "statuses")
    expected, ran = {}, 0
    script = []
    for n, (info, body) in enumerate(blocks):
        words = info.split()
        if "skip" in words:
            continue
        body = body.replace("localhost:8080", f"localhost:{port}")
        if "server" in words:
            # Run the lines before the server's, then restart it with its arguments.
            for line in body.splitlines():
                m = re.match(r"\s*cargo run(?: -q)?(?: -- (.*))?$", line.split("  #")[0].rstrip())
                if m:
                    script.append(f"__restart__ {m.group(1) or ''}")
                else:
                    script.append(line)
            continue
        allowed = set()
        for w in words:
            if w.startswith("expect="):
                allowed |= {int(s) for s in w[len("expect="):].split(",")}
        expected[n] = allowed
        script.append(f"DOC_BLOCK={n}\n{body}")
        ran += 1
    # A restart splits the session: bash runs each part, the server restarts between.
    parts, current = [], []
    for piece in script:
        if piece.startswith("__restart__"):
            parts.append(("\n".join(current), piece[len("__restart__"):].split()))
            current = []
        else:
            current.append(piece)
    parts.append(("\n".join(current), None))
    env = dict(os.environ, DOC_BIN=binary, DOC_STATUS=status_log, DOC_BLOCK="-")
    state = os.path.join(work, "session.vars")
    failed = None
    try:
        for i, (code, restart_args) in enumerate(parts):
            # Variables pass from part to part through a file.
            source = f"[ -f {state} ] && source {state}\n" if i else ""
            keep = (
                "\nwait\ndeclare -p | grep -E '^declare -[-x] [A-Z][A-Z0-9_]*=' "
                f"| grep -v '^declare -[-x] BASH' > {state} || true\n"
            )
            with open(os.path.join(work, "session.log"), "a") as out:
                done = subprocess.run(
                    ["bash", "-c", PRELUDE + source + code + keep],
                    cwd=work,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=600,
                )
            if done.returncode != 0:
                failed = f"a command failed (exit {done.returncode})"
                break
            if restart_args is not None:
                server.start(restart_args)
    finally:
        server.stop()
    statuses = []
    if os.path.exists(status_log):
        for line in open(status_log):
            block, status = line.split()
            statuses.append((block, int(status)))
    for block, status in statuses:
        allowed = expected.get(int(block), set()) if block != "-" else set()
        if status >= 500 or status == 0 or (status >= 400 and status not in allowed):
            failed = failed or f"block {block} got HTTP {status}, which it does not expect"
    if failed:
        print(f"doc sessions: {path}: FAILED: {failed}; the session's output:")
        print(open(os.path.join(work, "session.log")).read()[-4000:])
        print("the server's log:")
        print(open(os.path.join(work, "server.log")).read()[-4000:])
        return False
    shutil.rmtree(work, ignore_errors=True)
    print(f"doc sessions: {path}: {ran} blocks, {len(statuses)} requests, all as written")
    return True


def main():
    binary, files = os.path.abspath(sys.argv[1]), sys.argv[2:]
    ok = all([run_file(binary, f) for f in files])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
