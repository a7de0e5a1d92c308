import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, sign } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decryptPrivateKey, publicKeyPem } from '../oci/signing/cosign-key.js';
import { cliPath, runCli, tempDir } from './helpers.js';
import { corpusKeyFile, cosignCorpus, generatedKeyPair, opensslVerify, PASSWORD } from './signing-helpers.js';

const pemBody = (text: string): Buffer => Buffer.from(text.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');

describe('cosign key files', () => {
  it('generate-key-pair writes an encrypted key and its public key, as cosign does', () => {
    const { dir, key, pub } = generatedKeyPair();
    const text = readFileSync(key, 'utf8');
    assert.match(text, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n[\s\S]+\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n$/);
    const json = JSON.parse(pemBody(text).toString()) as { kdf: { name: string; params: Record<string, number>; salt: string }; cipher: { name: string; nonce: string }; ciphertext: string };
    assert.deepEqual([json.kdf.name, json.kdf.params, Buffer.from(json.kdf.salt, 'base64').length], ['scrypt', { N: 32768, r: 8, p: 1 }, 32]);
    assert.deepEqual([json.cipher.name, Buffer.from(json.cipher.nonce, 'base64').length], ['nacl/secretbox', 24]);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.equal(statSync(pub).mode & 0o777, 0o644);
    // openssl reads the public key as a P-256 PKIX key.
    const o = spawnSync('openssl', ['pkey', '-pubin', '-in', pub, '-noout', '-text'], { encoding: 'utf8' });
    assert.equal(o.status, 0, o.stderr);
    assert.match(o.stdout, /prime256v1|P-256/);
    // The key opens with the password, is the public key's other half, and signs what openssl verifies.
    const privateKey = decryptPrivateKey(text, Buffer.from(PASSWORD), key);
    assert.equal(publicKeyPem(createPublicKey(privateKey)), readFileSync(pub, 'utf8'));
    const data = Buffer.from('round trip');
    assert.deepEqual(opensslVerify(pub, data, sign('sha256', data, privateKey)), { ok: true, output: 'Verified OK' });
    assert.equal(readFileSync(join(dir, 'cosign.pub'), 'utf8').includes('PRIVATE'), false);
  });

  it('never overwrites an existing key pair', () => {
    const { dir, key, pub } = generatedKeyPair();
    const before = [readFileSync(key), readFileSync(pub)];
    const r = runCli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'error: cosign.key already exists: remove it first, or choose another --output-key-prefix\n');
    assert.deepEqual([readFileSync(key), readFileSync(pub)], before);
  });

  it('refuses a wrong password in one line', () => {
    const { key } = generatedKeyPair();
    assert.throws(() => decryptPrivateKey(readFileSync(key, 'utf8'), Buffer.from('wrong'), key), { message: `${key}: wrong password (decryption failed)` });
    const r = runCli(['sign', '--key', key, '127.0.0.1:9/app@sha256:' + '0'.repeat(64)], { env: { COSIGN_PASSWORD: 'wrong' } });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `error: ${key}: wrong password (decryption failed)\n`);
  });

  it('asks for the password on the terminal, without echo, when COSIGN_PASSWORD is unset', () => {
    const dir = tempDir('tty-keys');
    // A pseudo-terminal (python's pty) types the password twice; what the terminal shows is captured.
    const script = `import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.chdir(sys.argv[2]); os.execv(sys.argv[1], [sys.argv[1], ${JSON.stringify(cliPath)}, 'generate-key-pair'])
out = b''
def read_until(token):
    global out
    while token not in out:
        out += os.read(fd, 1024)
read_until(b'private key: ')
os.write(fd, b'tty-secret\\r')
read_until(b'again: ')
os.write(fd, b'tty-secret\\r')
try:
    while True:
        chunk = os.read(fd, 1024)
        if not chunk: break
        out += chunk
except OSError:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode())
sys.exit(os.waitstatus_to_exitcode(status))
`;
    const env = { ...process.env };
    delete env.COSIGN_PASSWORD;
    const r = spawnSync('python3', ['-c', script, process.execPath, dir], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Enter password for private key: /);
    assert.equal(r.stdout.includes('tty-secret'), false, 'the password is not echoed');
    decryptPrivateKey(readFileSync(join(dir, 'cosign.key'), 'utf8'), Buffer.from('tty-secret'), 'cosign.key');
  });

  it('says how to give a password when there is neither COSIGN_PASSWORD nor a terminal', () => {
    const env = { ...process.env };
    delete env.COSIGN_PASSWORD;
    const dir = tempDir('no-tty');
    const r = spawnSync('setsid', ['-w', process.execPath, cliPath, 'generate-key-pair'], { cwd: dir, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'error: no password: set COSIGN_PASSWORD, or run on a terminal to be asked for it\n');
  });

  describe("cosign's own test keys", () => {
    const corpus = cosignCorpus();
    for (const [name, label] of [
      ['sigstore-labeled', 'ENCRYPTED SIGSTORE PRIVATE KEY'],
      ['cosign-labeled', 'ENCRYPTED COSIGN PRIVATE KEY'],
    ] as const) {
      it(`loads ${name} (${label}) and it matches its public key`, () => {
        const file = corpusKeyFile(name, label);
        const key = decryptPrivateKey(readFileSync(file, 'utf8'), Buffer.from('hello'), file);
        assert.equal(publicKeyPem(createPublicKey(key)), readFileSync(join(corpus, `${name}.pub`), 'utf8'));
      });
    }

    it('refuses the SEC1 key that cosign refuses, in one line', () => {
      const file = corpusKeyFile('cosign-labeled-sec1', 'ENCRYPTED COSIGN PRIVATE KEY');
      const r = runCli(['sign', '--key', file, '127.0.0.1:9/app@sha256:' + '0'.repeat(64)], { env: { COSIGN_PASSWORD: 'hello' } });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `error: ${file}: the decrypted key is a SEC1 EC key, not PKCS#8 as cosign's key files hold (cosign refuses it too)\n`);
    });

    it('refuses a key file with another PEM label', () => {
      const file = join(tempDir('label'), 'plain.key');
      writeFileSync(file, readFileSync(corpusKeyFile('sigstore-labeled', 'EC PRIVATE KEY')));
      assert.throws(() => decryptPrivateKey(readFileSync(file, 'utf8'), Buffer.from('hello'), file), { message: `${file}: unsupported PEM type EC PRIVATE KEY (want ENCRYPTED SIGSTORE PRIVATE KEY, as cosign generate-key-pair writes)` });
    });
  });
});
