/** An error shown to a person as an HTML page (never a redirect): rendered by the UI routes' error handler. */
export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(`${status} ${title}`);
    this.name = 'PageError';
  }
}
