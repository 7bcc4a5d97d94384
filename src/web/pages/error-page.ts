/** The HTML answer for a bad request, a missing page or a server error. */
import { html } from '../html.js';
import { renderPage } from './layout.js';

/** Renders an error document with a status code and a message (escaped). */
export function renderErrorPage(status: number, message: string): string {
  const title = status === 404 ? 'Not found' : status === 400 ? 'Bad request' : 'Error';
  return renderPage({
    title,
    section: 'overview',
    body: html`<h1>${title}</h1><p class="problem-box">${message}</p><p><a href="/">Back to the fleet</a></p>`,
  });
}
