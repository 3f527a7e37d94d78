/** The broadcast page's HTML (served at /broadcast by server.ts; its app is broadcast-page/app.ts). */

export function broadcastHtml (title: string, escape: (s: string) => string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}: go live</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 56em; padding: 0 1em; color: #222 }
  video { width: 100%; background: #000; aspect-ratio: 16 / 9 }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em }
  dt { color: #666 } dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere }
  fieldset { border: 0; padding: 0; margin: .5em 0 } button { font-size: 1em; margin-right: .5em }
  #go-live { background: #c00; color: #fff; border: 0; padding: .4em 1em; border-radius: .3em }
</style>
</head>
<body>
<h1>${escape(title)}: go live</h1>
<video id="preview" muted playsinline autoplay></video>
<fieldset>
  <label><input type="radio" name="source" value="camera" checked> camera and microphone</label>
  <label><input type="radio" name="source" value="screen"> a screen</label>
</fieldset>
<fieldset>
  <button id="go-live" type="button">Go live</button><button id="stop" type="button" disabled>Stop</button>
  <a id="export-key" download="key.json" hidden>export the key</a>
  <label>import a key file <input id="import-key" type="file" accept=".json,application/json"></label>
  <button id="forget" type="button">forget this stream (start a new one)</button>
</fieldset>
<dl>
  <dt>state</dt><dd id="state">ready</dd>
  <dt>magnet link</dt><dd id="magnet">–</dd>
  <dt>viewing page</dt><dd><a id="watch-link" target="_blank" rel="noopener">–</a></dd>
  <dt>recording</dt><dd id="format">–</dd>
  <dt>aired</dt><dd id="aired">0 B</dd>
  <dt>peers</dt><dd id="peers">0</dd>
  <dt>uploaded</dt><dd id="uploaded">0 B</dd>
  <dt>upload ratio</dt><dd id="ratio">–</dd>
  <dt>signatures</dt><dd id="signer">–</dd>
  <dt>final torrent</dt><dd id="final">–</dd>
  <dt>warnings</dt><dd id="warnings">none</dd>
  <dt>errors</dt><dd id="errors">none</dd>
</dl>
<script type="module" src="broadcast.js"></script>
</body>
</html>
`
}
