/** The frame of every dashboard page: head, navigation, main content, and page scripts as external files. */
import { html, type SafeHtml } from '../html.js';

export type Section = 'overview' | 'alerts' | 'rounds' | 'host';

export interface PageOptions {
  title: string;
  section: Section;
  body: SafeHtml;
  /** Script files under /assets/ (no inline script: the CSP forbids it). */
  scripts?: string[];
  /** Style files under /assets/ besides the site's own. */
  styles?: string[];
  /** data-* attributes for <body>, read by page scripts. */
  data?: Record<string, string>;
}

const NAV: [Section, string, string][] = [
  ['overview', '/', 'Fleet'],
  ['alerts', '/alerts', 'Alerts'],
  ['rounds', '/rounds', 'Rounds'],
];

/** A whole HTML document. */
export function renderPage(options: PageOptions): string {
  const data = Object.entries(options.data ?? {}).map(([k, v]) => html` data-${k}="${v}"`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${options.title} · fleetstat</title>
${(options.styles ?? []).map((s) => html`<link rel="stylesheet" href="/assets/${s}">\n`)}<link rel="stylesheet" href="/assets/style.css">
</head>
<body${data}>
<header class="top">
<a class="brand" href="/">fleetstat</a>
<nav>${NAV.map(([section, href, label]) => html`<a href="${href}"${section === options.section ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
</header>
<main>
${options.body}
</main>
${(options.scripts ?? []).map((s) => html`<script src="/assets/${s}" defer></script>\n`)}</body>
</html>
`.value;
}
