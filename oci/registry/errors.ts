import { ExpectedError } from '../expected-error.js';

/** A registry said no, or could not be reached. The message names the registry and repository and says what to do. */
export class RegistryError extends ExpectedError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
