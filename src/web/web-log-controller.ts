/**
 * Every log-level decision for web requests in one place (Fastify's LogController): one line per
 * request when it completes, at debug for successes (a dashboard polls; scrapes are regular),
 * info for client errors (401s show guessing), error for server errors. The line names method,
 * path and status, never headers, so credentials cannot reach the log from here.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** Fastify's log controller with fleetstat's request levels. */
export class WebLogController extends LogController {
  override incomingRequest(): void {
    // The completion line says all; an incoming line doubles the volume.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const fields = { method: request.method, url: request.url, status, ms: Math.round(reply.elapsedTime) };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else if (status >= 500) reply.log.error(fields, 'request completed');
    else if (status >= 400) reply.log.info(fields, 'request completed');
    else reply.log.debug(fields, 'request completed');
  }
}
