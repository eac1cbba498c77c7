// Compresses every built page and asset once, at build time, with brotli and gzip at their best
// levels, so the server never compresses a static file per request: it picks the `.br` or `.gz`
// beside a file by the request's Accept-Encoding (src/intake/server/http/static.ts).
// A variant is kept only when it is smaller than the file. Run by `npm run build`.
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

// The async forms run in libuv's thread pool: both cores compress at once.
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Text formats worth compressing; images and fonts are compressed already. */
export const COMPRESSIBLE = /\.(?:html|css|js|mjs|json|svg|xml|txt|webmanifest)$/;
/** Below this a compressed body saves less than the headers it costs. */
const MIN_BYTES = 512;

const root = fileURLToPath(new URL('../dist/client/', import.meta.url));

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (COMPRESSIBLE.test(entry.name)) yield path;
  }
}

const totals = { files: 0, bytes: 0, br: 0, gz: 0 };
async function compressFile(path) {
  const bytes = readFileSync(path);
  totals.files += 1;
  totals.bytes += bytes.length;
  const variants = {
    br: () => brotli(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
    gz: () => gz(bytes, { level: constants.Z_BEST_COMPRESSION }),
  };
  for (const [ext, compress] of Object.entries(variants)) {
    const out = `${path}.${ext}`;
    const packed = bytes.length >= MIN_BYTES ? await compress() : null;
    if (packed && packed.length < bytes.length) {
      writeFileSync(out, packed);
      totals[ext] += packed.length;
    } else {
      // A variant left by an earlier build of a file that no longer gains.
      try { unlinkSync(out); } catch {}
      totals[ext] += bytes.length;
    }
  }
}
await Promise.all([...files(root)].map(compressFile));
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
console.log(`precompress: ${totals.files} files in ${relative(process.cwd(), root)}: ${kb(totals.bytes)} → brotli ${kb(totals.br)}, gzip ${kb(totals.gz)}`);

