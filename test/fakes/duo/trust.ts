import https from 'node:https';
import { constants } from '@duosecurity/duo_universal';
import { officialDuoClient, type DuoClientFactory } from '../../../lib/factors/duo';

/**
 * For tests in this process: the official Duo client, exactly as production builds it,
 * except that its HTTPS transport trusts one more certificate, the fake's, beside Duo's
 * pinned authorities. Passed as DuoOptions.clientFactory, which only tests do.
 *
 * NOTE: the client keeps its axios instance in a private field; replacing the agent there
 * is the one seam it has. Everything else (JWTs, checks of the answers) is the real code.
 */
export function trustingDuoClient(extraCa: string): DuoClientFactory {
  return (config) => {
    const client = officialDuoClient(config);
    const transport = (client as unknown as { axios: { defaults: { httpsAgent?: unknown } } }).axios;
    transport.defaults.httpsAgent = new https.Agent({ ca: [constants.DUO_PINNED_CERT, extraCa] });
    return client;
  };
}
