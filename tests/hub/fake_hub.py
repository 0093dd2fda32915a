#!/usr/bin/env python3
"""A local stand-in for the Hugging Face hub, for the pull tests.

Serves model directories in the hub's URL layout:
  GET  /api/models/ORG/NAME/revision/REV    {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD|GET /ORG/NAME/resolve/REV/FILE       small files: 200, ETag = git blob sha1;
                                            LFS files (*.safetensors, *.model): 302 to
                                            /cdn/<sha256>, X-Linked-Etag / X-Linked-Size
  GET  /cdn/<sha256>                        the LFS bytes, with Range (206)
Every answer about a repo carries X-Repo-Commit. REV is "main" or the commit.

Faults, each on the command line so tests can run in parallel:
  --require-token T   401 without a token, 403 with another one (api and resolve)
  --cut-once FILE     the first download of FILE stops half way (connection closed)
  --corrupt-once FILE the first download of FILE has one byte flipped
  --corrupt-always FILE every download of FILE has one byte flipped
  --fail-500-once     the first API request answers 500
  --ignore-range      answer Range requests with the whole file (200), as some servers do
  --extra-sibling N   the file list also names N (a hostile hub's "../x")
Unknown repos and revisions are 404. Each request is appended to --log as a
JSON line {method, path, range, auth}; the chosen port goes to --port-file.
"""
import argparse
import hashlib
import http.server
import json
import os
import socket
import threading

LFS_SUFFIXES = (".safetensors", ".model")
EXTRA_FILES = {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
               "README.md": b"# a tiny Gemma 3n for tests\n"}


class Repo:
    def __init__(self, directory):
        self.files = dict(EXTRA_FILES)
        for name in sorted(os.listdir(directory)):
            if not os.path.isfile(os.path.join(directory, name)):
                continue  # e.g. a weight cache another test writes beside the tiny model
            with open(os.path.join(directory, name), "rb") as f:
                self.files[name] = f.read()
        self.etags = {}
        for name, data in self.files.items():
            if name.endswith(LFS_SUFFIXES):
                self.etags[name] = hashlib.sha256(data).hexdigest()
            else:
                self.etags[name] = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        tree = "".join(f"{n}:{e}\n" for n, e in sorted(self.etags.items()))
        self.commit = hashlib.sha1(tree.encode()).hexdigest()

    def is_lfs(self, name):
        return name.endswith(LFS_SUFFIXES)


class State:
    def __init__(self, args):
        self.args = args
        self.repos = {}
        for spec in args.repo:
            repo_id, directory = spec.split("=", 1)
            self.repos[repo_id] = Repo(directory)
        self.lock = threading.Lock()
        self.spent = set()  # the "once" faults already used

    def once(self, fault):
        with self.lock:
            if fault in self.spent:
                return False
            self.spent.add(fault)
            return True

    def log(self, entry):
        if not self.args.log:
            return
        with self.lock, open(self.args.log, "a") as f:
            f.write(json.dumps(entry) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        pass

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def reply(self, status, headers=None, body=b"", head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def error(self, status, code, message, head):
        self.reply(status, {"X-Error-Code": code, "Content-Type": "application/json"},
                   json.dumps({"error": message}).encode(), head)

    def authorized(self, head):
        token = self.state.args.require_token
        if not token:
            return True
        auth = self.headers.get("Authorization")
        if auth is None:
            self.error(401, "GatedRepo", "Access to this model is restricted. You must be authenticated.", head)
            return False
        if auth != f"Bearer {token}":
            self.error(403, "GatedRepo", "Access to this model is restricted: accept the licence.", head)
            return False
        return True

    def handle_request(self, head):
        path = self.path.split("?", 1)[0]
        self.state.log({"method": self.command, "path": path, "range": self.headers.get("Range"),
                        "auth": self.headers.get("Authorization")})
        parts = path.strip("/").split("/")
        if len(parts) >= 6 and parts[:2] == ["api", "models"] and parts[4] == "revision":
            self.model_info("/".join(parts[2:4]), "/".join(parts[5:]), head)
        elif len(parts) >= 5 and parts[2] == "resolve":
            self.resolve("/".join(parts[0:2]), parts[3], "/".join(parts[4:]), head)
        elif len(parts) == 2 and parts[0] == "cdn":
            self.cdn(parts[1], head)
        else:
            self.error(404, "EntryNotFound", "no such path", head)

    def find_repo(self, repo_id, revision, head):
        repo = self.state.repos.get(repo_id)
        if repo is None:
            self.error(404, "RepoNotFound", f"Repository {repo_id} not found", head)
            return None
        if revision not in ("main", repo.commit):
            self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}", head)
            return None
        return repo

    def model_info(self, repo_id, revision, head):
        if self.state.args.fail_500_once and self.state.once("500"):
            self.error(500, "Internal", "the hub is having a bad day", head)
            return
        if not self.authorized(head):
            return
        repo = self.find_repo(repo_id, revision, head)
        if repo is None:
            return
        names = sorted(repo.files) + self.state.args.extra_sibling
        body = json.dumps({"id": repo_id, "sha": repo.commit, "siblings": [{"rfilename": n} for n in names]}).encode()
        self.reply(200, {"Content-Type": "application/json"}, body, head)

    def resolve(self, repo_id, revision, name, head):
        if not self.authorized(head):
            return
        repo = self.find_repo(repo_id, revision, head)
        if repo is None:
            return
        if name not in repo.files:
            self.error(404, "EntryNotFound", f"{name} does not exist", head)
            return
        data = repo.files[name]
        common = {"X-Repo-Commit": repo.commit}
        if repo.is_lfs(name):
            host, port = self.server.server_address[:2]
            common.update({"Location": f"http://{host}:{port}/cdn/{repo.etags[name]}",
                           "X-Linked-Etag": f'"{repo.etags[name]}"', "X-Linked-Size": str(len(data)),
                           "ETag": f'"{hashlib.sha1(data).hexdigest()}"'})
            self.reply(302, common, b"", head)
            return
        common["ETag"] = f'"{repo.etags[name]}"'
        self.send_bytes(name, data, common, head)

    def cdn(self, sha256, head):
        for repo in self.state.repos.values():
            for name, etag in repo.etags.items():
                if etag == sha256:
                    self.send_bytes(name, repo.files[name], {"ETag": f'"{sha256}"'}, head)
                    return
        self.error(404, "EntryNotFound", "no such object", head)

    def send_bytes(self, name, data, headers, head):
        args = self.state.args
        start = 0
        requested = None if args.ignore_range else self.headers.get("Range")
        if requested and requested.startswith("bytes=") and requested.endswith("-"):
            start = int(requested[len("bytes="):-1])
            if start >= len(data):
                self.reply(416, {"Content-Range": f"bytes */{len(data)}"}, b"", head)
                return
        body = data[start:]
        if not head and (name in args.corrupt_always or (name in args.corrupt_once and self.state.once("corrupt"))):
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]
        status = 200
        if start > 0:
            status = 206
            headers = dict(headers, **{"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        if not head and name in args.cut_once and self.state.once("cut"):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.reply(status, headers, body, head)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", action="append", required=True, help="ORG/NAME=DIR (repeatable)")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log")
    parser.add_argument("--require-token")
    parser.add_argument("--cut-once", action="append", default=[])
    parser.add_argument("--corrupt-once", action="append", default=[])
    parser.add_argument("--corrupt-always", action="append", default=[])
    parser.add_argument("--fail-500-once", action="store_true")
    parser.add_argument("--ignore-range", action="store_true")
    parser.add_argument("--extra-sibling", action="append", default=[], help="a name listed as a file but not served")
    args = parser.parse_args()
    Handler.state = State(args)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    temp = args.port_file + ".tmp"
    with open(temp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(temp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
