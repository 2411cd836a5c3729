// A project's repository as real git objects (blob, tree, commit; SHA-1, zlib), served over git's "dumb"
// HTTP protocol so a plain `git clone` (and so any runner) fetches exactly the files committed through the API.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { deflateSync } from "node:zlib";

export interface CommitInfo {
  sha: string;
  parent: string | null;
  message: string;
  authorName: string;
  authorEmail: string;
  createdAt: Date;
  /** Full tree: path → content. */
  files: Map<string, Buffer>;
  /** Paths committed with mode 100755. */
  executable: Set<string>;
}

export class GitRepository {
  private readonly objects = new Map<string, Buffer>();
  readonly branches = new Map<string, string>();
  readonly tags = new Map<string, string>();
  /** Refs outside heads and tags (GitLab keeps refs/pipelines/<id> for every pipeline): full name → sha. */
  readonly refs = new Map<string, string>();
  readonly commits = new Map<string, CommitInfo>();
  defaultBranch = "main";

  private put(type: string, body: Buffer): string {
    const raw = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
    const sha = createHash("sha1").update(raw).digest("hex");
    if (!this.objects.has(sha)) this.objects.set(sha, deflateSync(raw));
    return sha;
  }

  /** A blob's id, as git computes it. */
  static blobId(content: Buffer): string {
    return createHash("sha1")
      .update(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]))
      .digest("hex");
  }

  private writeTree(files: Map<string, Buffer>, executable: Set<string>, prefix = ""): string {
    const entries = new Map<string, { mode: string; sha: string }>();
    const subdirs = new Set<string>();
    for (const path of files.keys()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash === -1)
        entries.set(rest, {
          mode: executable.has(path) ? "100755" : "100644",
          sha: this.put("blob", files.get(path)!),
        });
      else subdirs.add(rest.slice(0, slash));
    }
    for (const dir of subdirs)
      entries.set(dir, { mode: "40000", sha: this.writeTree(files, executable, `${prefix}${dir}/`) });
    // Git sorts tree entries by name, comparing directories as if their name ended in "/".
    const sortKey = (name: string) => (entries.get(name)!.mode === "40000" ? `${name}/` : name);
    const names = [...entries.keys()].sort((a, b) =>
      sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0,
    );
    const body = Buffer.concat(
      names.flatMap((name) => {
        const e = entries.get(name)!;
        return [Buffer.from(`${e.mode} ${name}\0`), Buffer.from(e.sha, "hex")];
      }),
    );
    return this.put("tree", body);
  }

  commit(
    branch: string,
    files: Map<string, Buffer>,
    message: string,
    author: { name: string; email: string },
    parent: string | null,
    executable: Set<string> = new Set(),
  ): CommitInfo {
    const tree = this.writeTree(files, executable);
    const createdAt = new Date();
    const stamp = `${Math.floor(createdAt.getTime() / 1000)} +0000`;
    const lines = [`tree ${tree}`];
    if (parent) lines.push(`parent ${parent}`);
    lines.push(
      `author ${author.name} <${author.email}> ${stamp}`,
      `committer ${author.name} <${author.email}> ${stamp}`,
      "",
      message,
    );
    const sha = this.put("commit", Buffer.from(`${lines.join("\n")}\n`));
    const info: CommitInfo = {
      sha,
      parent,
      message,
      authorName: author.name,
      authorEmail: author.email,
      createdAt,
      files,
      executable,
    };
    this.commits.set(sha, info);
    this.branches.set(branch, sha);
    return info;
  }

  setRef(name: string, sha: string): void {
    this.refs.set(name, sha);
  }

  /** Every ref by its full name, sorted as git lists them. */
  allRefs(): [string, string][] {
    return [
      ...[...this.branches].map(([n, sha]): [string, string] => [`refs/heads/${n}`, sha]),
      ...[...this.tags].map(([n, sha]): [string, string] => [`refs/tags/${n}`, sha]),
      ...this.refs,
    ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Writes every object and ref into a bare repository at `dir` (for git's own upload-pack to serve).
   * Files are replaced by rename, so a git reading the folder meanwhile never sees one half written.
   */
  materialize(dir: string): void {
    mkdirSync(join(dir, "refs"), { recursive: true });
    const put = (path: string, content: string | Buffer) => {
      const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(temporary, content);
      renameSync(temporary, path);
    };
    if (!existsSync(join(dir, "HEAD"))) put(join(dir, "HEAD"), `ref: refs/heads/${this.defaultBranch}\n`);
    if (!existsSync(join(dir, "config")))
      put(join(dir, "config"), "[core]\n\trepositoryformatversion = 0\n\tbare = true\n");
    for (const [sha, object] of this.objects) {
      const path = join(dir, "objects", sha.slice(0, 2), sha.slice(2));
      if (existsSync(path)) continue;
      mkdirSync(dirname(path), { recursive: true });
      put(path, object);
    }
    put(
      join(dir, "packed-refs"),
      this.allRefs()
        .map(([name, sha]) => `${sha} ${name}\n`)
        .join(""),
    );
  }

  head(ref: string): CommitInfo | undefined {
    const sha =
      this.branches.get(ref) ??
      this.tags.get(ref) ??
      this.refs.get(ref) ??
      (this.commits.has(ref) ? ref : undefined);
    return sha ? this.commits.get(sha) : undefined;
  }

  /** Serves `<repo>.git/<path>` of the dumb HTTP protocol; undefined when there is no such file. */
  dumbHttp(path: string): { body: Buffer; contentType: string } | undefined {
    if (path === "info/refs") {
      const lines = this.allRefs().map(([name, sha]) => `${sha}\t${name}\n`);
      return { body: Buffer.from(lines.join("")), contentType: "text/plain" };
    }
    if (path === "HEAD") {
      return { body: Buffer.from(`ref: refs/heads/${this.defaultBranch}\n`), contentType: "text/plain" };
    }
    if (path === "objects/info/packs") return { body: Buffer.from("\n"), contentType: "text/plain" };
    const match = /^objects\/([0-9a-f]{2})\/([0-9a-f]{38})$/.exec(path);
    if (match) {
      const object = this.objects.get(`${match[1]}${match[2]}`);
      if (object) return { body: object, contentType: "application/x-git-loose-object" };
    }
    return undefined;
  }
}
