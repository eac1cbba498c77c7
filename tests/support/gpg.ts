/**
 * Real GnuPG in a throwaway home directory, to prove that staff can open what we encrypt.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GpgResult {
  stdout: Buffer;
  stderr: string;
}

export interface Decrypted {
  data: Buffer;
  /** The file name stored inside the message (gpg --verbose prints it). */
  filename: string | null;
  /** gpg's verbose report (algorithms, recipients). */
  report: string;
}

export interface GpgHome {
  readonly home: string;
  run(args: string[], input?: string | Uint8Array): Promise<GpgResult>;
  importKey(armored: string): Promise<void>;
  decrypt(armored: string): Promise<Buffer>;
  decryptDetails(armored: string): Promise<Decrypted>;
  cleanup(): Promise<void>;
}

function execute(command: string, args: string[], input?: string | Uint8Array): Promise<GpgResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
      if (code === 0) resolve(result);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${result.stderr}`));
    });
    child.stdin.end(input);
  });
}

/** A fresh GNUPGHOME (mode 0700, short path for the agent socket). */
export async function createGpgHome(): Promise<GpgHome> {
  const home = await mkdtemp(join(tmpdir(), 'gpg-'));
  const base = ['--homedir', home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', ''];
  const run = (args: string[], input?: string | Uint8Array) => execute('gpg', [...base, ...args], input);
  return {
    home,
    run,
    importKey: async (armored) => {
      await run(['--import'], armored);
    },
    decrypt: async (armored) => (await run(['--decrypt'], armored)).stdout,
    decryptDetails: async (armored) => {
      const { stdout, stderr } = await run(['--verbose', '--decrypt'], armored);
      const filename = /original file name='([^']*)'/.exec(stderr)?.[1] ?? null;
      return { data: stdout, filename: filename === '' ? null : filename, report: stderr };
    },
    cleanup: async () => {
      await execute('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']).catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    },
  };
}
