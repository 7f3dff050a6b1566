"""Checks a channel folder as conda would read it, with Debian's
python3-conda-package-streaming: every record of every repodata.json must
match its file (md5, sha256, size) and the file's own info/index.json (as
conda-index builds a record: index.json minus a few keys, plus the three
hashes). Prints one line per checked file; exits 1 on the first mismatch.

usage: python3 check_repodata.py CHANNEL_DIR
"""
import hashlib
import json
import os
import sys

from conda_package_streaming.package_streaming import stream_conda_info

DROPPED = {"arch", "has_prefix", "mtime", "platform", "ucs", "requires_features",
           "binstar", "target-triplet", "machine", "operatingsystem"}


def index_json(path):
    for tar, member in stream_conda_info(path):
        if member.name == "info/index.json":
            return json.load(tar.extractfile(member))
    raise SystemExit(f"{path}: no info/index.json")


def check(subdir_dir):
    with open(os.path.join(subdir_dir, "repodata.json")) as f:
        repodata = json.load(f)
    assert repodata["repodata_version"] == 1, repodata
    assert repodata["info"]["subdir"] == os.path.basename(subdir_dir), repodata["info"]
    for section, ext in (("packages", ".tar.bz2"), ("packages.conda", ".conda")):
        for name, record in repodata[section].items():
            assert name.endswith(ext), (section, name)
            path = os.path.join(subdir_dir, name)
            with open(path, "rb") as f:
                data = f.read()
            want = {k: v for k, v in index_json(path).items() if k not in DROPPED}
            want.update(md5=hashlib.md5(data).hexdigest(), sha256=hashlib.sha256(data).hexdigest(), size=len(data))
            if record != want:
                raise SystemExit(f"{path}: record {record} != {want}")
            print("ok", os.path.relpath(path))


for dirpath, dirnames, filenames in os.walk(sys.argv[1]):
    if "repodata.json" in filenames:
        check(dirpath)
