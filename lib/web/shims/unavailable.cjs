// Node built-ins the browser never needs (file-backed broadcaster state, the Node file store, …):
// reached only by Node code paths, they throw a clear error if a browser ever calls them.
// CommonJS on purpose: the browser build accepts any named import from it.
const names = [
  'statSync', 'truncateSync', 'openSync', 'closeSync', 'readSync', 'writeSync', 'fsyncSync', 'renameSync', 'rmSync',
  'mkdirSync', 'mkdtempSync', 'readFileSync', 'writeFileSync', 'existsSync', 'unlinkSync', 'fstatSync', 'ftruncateSync',
  'readdirSync', 'createReadStream', 'createWriteStream', 'tmpdir', 'homedir', 'hostname', 'networkInterfaces',
  'createHash', 'createPrivateKey', 'createPublicKey', 'sign', 'verify', 'fileURLToPath', 'pathToFileURL'
]
const out = {}
for (const n of names) out[n] = function () { throw new Error(`${n}() is a Node API, not available in browsers`) }
out.promises = {}
out.constants = {}
module.exports = out
