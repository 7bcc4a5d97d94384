/** The probe scripts shipped beside this module (copied to dist/ by the build). */
import { readFile } from 'node:fs/promises';

export interface ProbeScripts {
  sh: string;
  ps1: string;
}

/** Reads probe.sh and probe.ps1 once per process. */
export async function loadProbeScripts(): Promise<ProbeScripts> {
  const [sh, ps1] = await Promise.all([
    readFile(new URL('./probe.sh', import.meta.url), 'utf8'),
    readFile(new URL('./probe.ps1', import.meta.url), 'utf8'),
  ]);
  return { sh, ps1 };
}
