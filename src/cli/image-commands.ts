import { CliError, EXIT } from './exit-codes';

export async function verifyImage(_ref: string, _o: unknown): Promise<void> {
  throw new CliError('verify --image is not available yet', EXIT.USAGE);
}
