/**
 * PowerShell started with -EncodedCommand (our Windows commands under cmd.exe) and with its
 * output redirected writes its error, warning and progress streams to stderr as CLIXML:
 * `#< CLIXML` and then `<Objs …><S S="Error">text_x000D__x000A_</S>…</Objs>`. Native programs it
 * runs (our probe) reach the collector the same way, their stderr lines wrapped as error records.
 * readableStderr turns that back into the text a person would have seen on a console.
 */

const MARKER = '#< CLIXML';
// Error and warning lines; progress records (<Obj S="progress">) and verbose/debug are noise.
const SHOWN_STREAMS = /<S S="(error|warning)">([\s\S]*?)<\/S>/gi;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes XML entities and the `_xHHHH_` escapes CLIXML uses for characters XML cannot hold. */
function decodeText(text: string): string {
  return text
    .replace(/&(lt|gt|amp|quot|apos);/g, (_, name: string) => ENTITIES[name]!)
    .replace(/&#x([0-9a-fA-F]{1,6});|&#([0-9]{1,7});/g, (_, hex: string | undefined, dec: string | undefined) =>
      codePoint(hex ? parseInt(hex, 16) : Number(dec)),
    )
    .replace(/_x([0-9a-fA-F]{4})_/g, (_, hex: string) => codePoint(parseInt(hex, 16)));
}

function codePoint(n: number): string {
  return n <= 0x10ffff ? String.fromCodePoint(n) : '?';
}

/** Removes ANSI colour and cursor sequences (PowerShell 7 colours its error view). */
export function withoutAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '');
}

/**
 * The readable text of a remote stderr: CLIXML error and warning strings decoded and joined,
 * progress records dropped, text before the marker kept; any other text comes back unchanged
 * (without ANSI sequences).
 */
export function readableStderr(stderr: string): string {
  const at = stderr.indexOf(MARKER);
  if (at < 0) return withoutAnsi(stderr);
  const before = stderr.slice(0, at).trim();
  const shown: string[] = [];
  for (const part of stderr.slice(at).split(MARKER)) {
    for (const m of part.matchAll(SHOWN_STREAMS)) shown.push(decodeText(m[2]!).trimEnd());
  }
  return withoutAnsi([before, ...shown].filter((s) => s.length > 0).join('\n'));
}
