import { portalResources } from '../../portcullis.config';
import { declaredResources, resourceOfUrl } from './declared-resources';
import { resourceForPath } from './paths';

/**
 * The resource a return target belongs to: what the verify and Set Up pages decide for.
 * A same-site path maps through the portal's own paths; an absolute URL (on a declared host,
 * safeReturnPath has already checked that) through the declared resources. Anything no
 * resource covers is the portal, as an undeclared path always was: never a weaker check than
 * the portal's own (the forward-auth endpoints deny such a URL anyway).
 * @param target a same-site path or an absolute URL, query and fragment allowed
 * @example resourceOfPath('/apps/demo/report?x=1') // 'demo'
 * @example resourceOfPath('https://app.example.com/wiki/page') // 'wiki' with PORTCULLIS_RESOURCES=app.example.com/=wiki
 */
export function resourceOfPath(target: string): string {
  if (!target.startsWith('/')) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return 'portal';
    }
    return resourceOfUrl(url, declaredResources()) ?? 'portal';
  }
  return resourceForPath(target.split(/[?#]/)[0], portalResources, 'portal') ?? 'portal';
}
