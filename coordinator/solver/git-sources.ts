import { lstat, lutimes, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ExpectedError } from '../../oci/expected-error.js';
import type { GitSourceDefinition } from '../../worker/step.js';
import { git, GitCommandError } from '../../worker/system/git.js';
import { isCommitSha, redactRemote, redactUrlsIn, type GitRef } from '../plan/git-ref.js';

export class GitSourceError extends ExpectedError {}

/** What a ref names on the remote: the commit, the full ref name, and the tag object of an annotated tag. */
interface Resolution {
  commit: string;
  ref: string;
  tagObject?: string;
}

/** A checked-out tree for a copy step to read: `allowed` lists every entry it may take. */
export interface GitTree {
  dir: string;
  allowed: ReadonlySet<string>;
}

const strip = (s: string, prefix: string): string => (s.startsWith(prefix) ? s.slice(prefix.length) : s);

/**
 * ADD's git sources for one build: refs resolved with `git ls-remote` while planning (once per remote
 * and ref), and trees checked out with the system git when the build needs them, as BuildKit's git
 * source does. Remotes with credentials are kept here; everything else sees them masked.
 */
export class GitSources {
  private readonly resolved = new Map<string, Promise<Resolution>>();
  /** The real remote behind each masked one. */
  private readonly remotes = new Map<string, string>();
  private readonly workDirs: string[] = [];

  constructor(private readonly tmpDir: string) {}

  private redactions(remote: string): [string, string][] {
    const shown = redactRemote(remote);
    return shown === remote ? [] : [[remote, shown]];
  }

  /** Resolves `g.ref` to a commit and checks `g.checksum` (a commit prefix) against it. */
  async resolve(g: GitRef): Promise<{ commit: string; ref: string }> {
    const shown = redactRemote(g.remote);
    this.remotes.set(shown, g.remote);
    const where = `ADD ${shown}${g.ref ? '#' + g.ref : ''}`;
    let r: Resolution;
    if (g.fetchByCommit) {
      if (g.checksum === undefined || !isCommitSha(g.checksum)) throw new GitSourceError(`${where}: fetch-by-commit needs the full commit as checksum`);
      r = { commit: g.checksum, ref: g.ref === '' ? g.checksum : g.ref.startsWith('refs/') ? g.ref : 'refs/heads/' + g.ref };
    } else {
      const key = `${g.remote}#${g.ref}`;
      let job = this.resolved.get(key);
      if (!job) {
        job = this.lsRemote(g.remote, g.ref, where);
        this.resolved.set(key, job);
      }
      r = await job;
    }
    if (g.checksum !== undefined && !r.commit.startsWith(g.checksum) && !r.tagObject?.startsWith(g.checksum)) {
      throw new GitSourceError(`${where}: checksum mismatch: --checksum=${g.checksum} but the commit is ${r.commit}`);
    }
    return { commit: r.commit, ref: r.ref };
  }

  private async lsRemote(remote: string, ref: string, where: string): Promise<Resolution> {
    if (isCommitSha(ref)) return { commit: ref, ref };
    const redact = this.redactions(remote);
    try {
      let wanted = ref;
      if (wanted === '') {
        const head = /^ref: (\S+)\tHEAD$/m.exec(await git(['ls-remote', '--symref', '--', remote, 'HEAD'], { redact }));
        if (!head) throw new GitSourceError(`${where}: the repository has no default branch`);
        wanted = head[1]!;
      }
      const out = await git(['ls-remote', '--', remote, wanted, wanted + '^{}'], { redact });
      const refs = new Map(
        out
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [sha, name] = line.split('\t');
            return [name ?? '', sha ?? ''] as const;
          }),
      );
      // As git checkout (and BuildKit): a full name first, then a branch, then a tag.
      const used = ['refs/' + strip(wanted, 'refs/'), 'refs/heads/' + strip(wanted, 'refs/heads/'), 'refs/tags/' + strip(wanted, 'refs/tags/')].find((n) => refs.has(n));
      if (used === undefined) throw new GitSourceError(`${where}: the repository has no ref ${wanted}`);
      const sha = refs.get(used)!;
      const peeled = refs.get(used + '^{}');
      if (!isCommitSha(sha)) throw new GitSourceError(`${where}: invalid commit ${JSON.stringify(sha)}`);
      return peeled ? { commit: peeled, ref: used, tagObject: sha } : { commit: sha, ref: used };
    } catch (err) {
      if (err instanceof GitCommandError) throw new GitSourceError(`${where}: ${redactUrlsIn(err.message)}`);
      throw err;
    }
  }

  /** Checks out the source's tree in a temporary directory, removed by `cleanup()`. */
  async checkout(def: GitSourceDefinition): Promise<GitTree> {
    const remote = this.remotes.get(def.remote) ?? def.remote;
    let { commit, ref } = def;
    if (commit === undefined) {
      const r = await this.resolve({ remote, ref: def.ref, subdir: def.subdir, fetchByCommit: false, ...(def.checksum !== undefined ? { checksum: def.checksum } : {}) });
      commit = r.commit;
      ref = def.keepGitDir ? r.ref : r.commit;
    }
    const where = `ADD ${def.remote}#${ref}`;
    const redact = this.redactions(remote);
    // Named `<kind>-<pid>-...` like the cache's other temporary files, so the next build removes it after a kill -9.
    const work = await mkdtemp(join(this.tmpDir, `git-${process.pid}-`));
    this.workDirs.push(work);
    const tree = join(work, 'tree');
    // .git is part of the result only when kept for the whole tree; a subdir never has one (BuildKit).
    const keep = def.keepGitDir && def.subdir === '';
    try {
      let repo: string[];
      if (keep) {
        await git(['-c', 'init.defaultBranch=master', 'init', '-q', tree]);
        repo = ['-C', tree];
      } else {
        const gitDir = join(work, 'repo.git');
        await git(['init', '-q', '--bare', gitDir]);
        await mkdir(tree, { mode: 0o755 });
        repo = ['--git-dir', gitDir, '--work-tree', tree];
      }
      // origin is the real remote while fetching (relative submodule URLs resolve against it).
      await git([...repo, 'remote', 'add', 'origin', remote], { redact });
      await this.fetch(repo, keep ? ref : commit, commit, redact);
      if (keep) await git([...repo, 'checkout', '-q', '--detach', commit]);
      else await git([...repo, 'checkout', '-q', commit, '--', '.'], { cwd: tree });
      if (def.submodules && (await lstat(join(tree, '.gitmodules')).catch(() => undefined))) {
        await git([...repo, 'submodule', 'update', '--init', '--recursive', '--depth=1'], { cwd: tree, redact });
      }
      if (def.mtime === 'commit') {
        const seconds = Number((await git([...repo, 'log', '-1', '--format=%ct', commit])).trim());
        await setTimes(tree, new Date(seconds * 1000));
      }
      if (keep) {
        await git([...repo, 'remote', 'set-url', 'origin', def.remote]);
        await git([...repo, 'reflog', 'expire', '--all', '--expire=now']);
        await rm(join(tree, '.git', 'FETCH_HEAD'), { force: true });
      }
      let dir = tree;
      if (def.subdir !== '') {
        for (let i = 1, parts = def.subdir.split('/'); i <= parts.length; i++) {
          const st = await lstat(join(tree, ...parts.slice(0, i))).catch(() => undefined);
          if (!st?.isDirectory()) throw new GitSourceError(`${where}: subdir ${def.subdir}: ${parts.slice(0, i).join('/')} is not a directory in the repository`);
        }
        dir = join(tree, def.subdir);
      }
      return { dir, allowed: await listTree(dir, keep) };
    } catch (err) {
      if (err instanceof GitCommandError) throw new GitSourceError(`${where}: ${redactUrlsIn(err.message)}`);
      throw err;
    }
  }

  /**
   * Fetches `commit` (depth 1) into the repository. A named ref is fetched by name so that its local
   * ref (an annotated tag's object included) is as the remote has it; a commit is asked for directly,
   * and where the server refuses that, every branch and tag is fetched instead.
   */
  private async fetch(repo: string[], ref: string, commit: string, redact: [string, string][]): Promise<void> {
    const has = (): Promise<boolean> => git([...repo, 'rev-parse', '-q', '--verify', commit + '^{commit}']).then(() => true, () => false);
    if (!isCommitSha(ref)) {
      await git([...repo, 'fetch', '-q', '-u', '--depth=1', '--no-tags', 'origin', `+${ref}:${ref}`], { redact });
      const at = (await git([...repo, 'rev-parse', ref + '^{commit}'])).trim();
      if (at === commit) return;
      // The ref moved since planning: the planned commit is what this build uses.
    }
    try {
      await git([...repo, 'fetch', '-q', '--depth=1', '--no-tags', 'origin', commit], { redact });
    } catch {
      await git([...repo, 'fetch', '-q', '--no-tags', 'origin', '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], { redact });
    }
    if (!(await has())) throw new GitSourceError(`commit ${commit} is not in the repository`);
    if (!isCommitSha(ref)) await git([...repo, 'update-ref', '--no-deref', ref, commit]);
  }

  /** Removes every checkout of this build. */
  async cleanup(): Promise<void> {
    for (const dir of this.workDirs.splice(0)) await rm(dir, { recursive: true, force: true });
  }
}

/** Every entry under `dir`, relative; `.git` entries (of submodules too) only when the git directory is kept. */
async function listTree(dir: string, withGit: boolean): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      if (e.name === '.git' && !withGit) continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      out.add(child);
      if (e.isDirectory()) await walk(child);
    }
  };
  await walk('');
  return out;
}

/** `mtime=commit`: every entry gets the commit's time, directories after their contents. */
async function setTimes(dir: string, time: Date): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await setTimes(path, time);
    else await lutimes(path, time, time);
  }
  await lutimes(dir, time, time);
}
