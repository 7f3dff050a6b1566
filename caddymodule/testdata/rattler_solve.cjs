// Solves specs against one conda channel with rattler (the npm package
// @conda-org/rattler, the WASM build of the solver pixi and mamba use),
// then downloads every package the solution names and hashes it.
//
//   node rattler_solve.cjs CHANNEL_URL PLATFORM SPEC...
//
// Prints one JSON array: [{filename, url, sha256 (from repodata),
// downloaded_sha256, size, downloaded_size}]. Exits 1 with the error on
// stderr if the solve or a download fails. NODE_PATH must hold the
// directory @conda-org/rattler was installed into.
"use strict";
const crypto = require("crypto");
const { simpleSolve } = require("@conda-org/rattler");

async function main() {
  const [channel, platform, ...specs] = process.argv.slice(2);
  if (!channel || !platform || specs.length === 0) {
    throw new Error("usage: rattler_solve.cjs CHANNEL_URL PLATFORM SPEC...");
  }
  const solved = await simpleSolve(specs, [channel], [platform, "noarch"], []);
  const out = [];
  for (const p of solved) {
    const res = await fetch(p.url);
    if (res.status !== 200) {
      throw new Error(`GET ${p.filename}: status ${res.status}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    out.push({
      filename: p.filename,
      url: p.url,
      sha256: p.sha256,
      size: p.size === undefined ? null : Number(p.size),
      downloaded_sha256: crypto.createHash("sha256").update(body).digest("hex"),
      downloaded_size: body.length,
    });
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
