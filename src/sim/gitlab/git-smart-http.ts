// git's smart HTTP protocol (upload-pack, v0) for clones and fetches that the dumb protocol cannot serve:
// shallow fetches (`git fetch --depth 20`, GitLab's default for jobs) and fetching refs/pipelines/<id>.
// The repository's objects are written to a bare repository in a temporary folder and git's own
// upload-pack answers, as GitLab's Gitaly does.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { GitRepository } from "./git.ts";

const pktLine = (text: string) => `${(text.length + 4).toString(16).padStart(4, "0")}${text}`;

export class SmartHttp {
  private root: string | undefined;

  private dirFor(name: string, repo: GitRepository): string {
    this.root ??= mkdtempSync(join(tmpdir(), "gitlab-sim-git-"));
    const dir = join(this.root, name);
    repo.materialize(dir);
    return dir;
  }

  /** GET info/refs?service=git-upload-pack */
  async advertise(name: string, repo: GitRepository): Promise<Buffer> {
    const refs = await this.uploadPack(this.dirFor(name, repo), ["--advertise-refs"], Buffer.alloc(0));
    return Buffer.concat([Buffer.from(`${pktLine("# service=git-upload-pack\n")}0000`), refs]);
  }

  /** POST git-upload-pack */
  async serve(name: string, repo: GitRepository, body: Buffer, gzipped: boolean): Promise<Buffer> {
    return this.uploadPack(this.dirFor(name, repo), [], gzipped ? gunzipSync(body) : body);
  }

  private uploadPack(dir: string, args: string[], input: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = spawn("git", ["upload-pack", "--stateless-rpc", ...args, dir], {
        stdio: ["pipe", "pipe", "pipe"],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0
          ? resolve(Buffer.concat(out))
          : reject(new Error(`git upload-pack exited ${code}: ${Buffer.concat(err).toString().trim()}`)),
      );
      child.stdin.on("error", () => {});
      child.stdin.end(input);
    });
  }

  close(): void {
    if (this.root) rmSync(this.root, { recursive: true, force: true });
    this.root = undefined;
  }
}
