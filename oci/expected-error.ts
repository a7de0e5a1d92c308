/**
 * An error the user can act on (a bad flag, a missing file, a refused credential): the CLI prints its
 * message as one line, without a stack. Every part's user-facing errors extend it, so the CLI need not
 * know them one by one.
 */
export class ExpectedError extends Error {}
