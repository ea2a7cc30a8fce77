/**
 * Rendering of the HTML pages and the headers every page response carries: a CSP with no inline script or
 * style and `frame-ancestors 'none'` (no clickjacking of the consent page, RFC 9700 §4.7), no Referer (so
 * codes and states in URLs do not leak), no caching, no MIME sniffing. No CORS headers are ever sent.
 */
import { type Context, Hono } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { readBodyText, type TextErrors } from '../lib/body';
import { OAuthError } from '../lib/errors';
import { collectParams } from '../services/authorization-request';
import { isStorageUnavailable, RETRY_AFTER_SECONDS } from '../storage/unavailable';
import type { AppEnv } from '../types';
import { ErrorPage } from './layout';
import { PageError } from './page-error';

/** CSP for our pages. `formAction` adds the client's redirect target: browsers apply form-action to the redirect after a form. */
export function contentSecurityPolicy(formAction: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' https:",
    `form-action 'self'${formAction.map((s) => ` ${s}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Sets the page's CSP (call before rendering when a form leads to another origin). */
export function setFormAction(c: Context<AppEnv>, sources: readonly (string | null)[]): void {
  c.header('Content-Security-Policy', contentSecurityPolicy(sources.filter((s): s is string => s !== null)));
}

/** Renders a page with a doctype. */
export async function page(c: Context<AppEnv>, node: JSX.Element, status = 200): Promise<Response> {
  const html = await Promise.resolve(node.toString());
  return c.html(`<!DOCTYPE html>${html}`, status as 200);
}

/** The headers of every page response (also set by pages answered outside a page app: src/middleware/rate-limit.ts). */
export function setPageHeaders(h: Headers): void {
  if (!h.has('Content-Security-Policy')) h.set('Content-Security-Policy', contentSecurityPolicy());
  h.set('Referrer-Policy', 'no-referrer');
  h.set('X-Content-Type-Options', 'nosniff');
  h.set('X-Frame-Options', 'DENY');
  h.set('Cache-Control', 'no-store');
}

/** A Hono sub-app for pages: security headers on every response (pages and redirects), errors as pages. */
export function pageApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', async function pageHeadersMiddleware(c, next) {
    await next();
    setPageHeaders(c.res.headers);
  });
  app.onError(async (err, c) => {
    if (err instanceof PageError)
      return page(c, ErrorPage({ title: err.title, detail: err.detail }) as JSX.Element, err.status);
    if (err instanceof OAuthError && err.status < 500) {
      return page(c, ErrorPage({ title: 'Invalid request', detail: err.description }) as JSX.Element, err.status);
    }
    if (isStorageUnavailable(err) || (err instanceof OAuthError && err.code === 'temporarily_unavailable')) {
      // Issue 16: storage briefly unavailable is a 503 page with Retry-After (RFC 9110 §15.6.4), never a 500.
      console.error(
        JSON.stringify({
          level: 'error',
          requestId: c.get('requestId'),
          event: 'storage_unavailable',
          message: String((err as Error).message).slice(0, 200),
        }),
      );
      const res = await page(
        c,
        ErrorPage({
          title: 'Briefly unavailable',
          detail: `The server could not reach its storage. Please try again in ${RETRY_AFTER_SECONDS} seconds.`,
        }) as JSX.Element,
        503,
      );
      res.headers.set('Retry-After', String(RETRY_AFTER_SECONDS));
      return res;
    }
    console.error(
      JSON.stringify({
        level: 'error',
        requestId: c.get('requestId'),
        event: 'page_error',
        name: err.name,
        message: String(err.message).slice(0, 500),
      }),
    );
    return page(
      c,
      ErrorPage({
        title: 'Something went wrong',
        detail: 'The server could not complete your request. Please try again in a moment.',
      }) as JSX.Element,
      500,
    );
  });
  return app;
}

/** Field text of a page form; above any legitimate form of ours (the portal's app form is the largest). */
const MAX_PAGE_FORM_BYTES = 16 * 1024;

/** The body reader's failures, worded for a person (the internal reason still goes to the info log). */
const formError = (detail: string, status = 400) => new OAuthError('invalid_request', detail, { status });
const PAGE_FORM_ERRORS: TextErrors = {
  tooLarge: () => formError('The form holds more text than allowed. Shorten it and try again.', 413),
  incomplete: () => formError('The form did not arrive in full. Go back and send it again.'),
  notUtf8: () => formError('The form holds characters that are not valid text. Go back and try again.'),
};

/**
 * Reads an HTML form post (urlencoded, at most 16 KiB, counted while reading: a chunked body without
 * Content-Length is cut off at the limit, not read in full).
 */
export async function readPageForm(
  c: Context<AppEnv>,
): Promise<{ params: Map<string, string>; repeated: Set<string> }> {
  const type = (c.req.header('Content-Type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new PageError(
      415,
      'This form could not be read',
      'The form was not sent the usual way. Go back, reload the page and try again.',
    );
  }
  let text: string;
  try {
    text = await readBodyText(c.req.raw, MAX_PAGE_FORM_BYTES, PAGE_FORM_ERRORS, { form: true });
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    logReason(c, err);
    const title = err.status === 413 ? 'Too much data' : 'This form could not be read';
    throw new PageError(err.status, title, err.description);
  }
  return collectParams(new URLSearchParams(text));
}

/** A client-side failure with an internal reason (an aborted body) is logged at info, like src/app.ts does. */
function logReason(c: Context<AppEnv>, err: OAuthError): void {
  if (!err.reason) return;
  console.log(JSON.stringify({ level: 'info', requestId: c.get('requestId'), error: err.code, reason: err.reason }));
}
