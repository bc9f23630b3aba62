import { portalResources } from '../../portcullis.config';
import { resourceForPath } from './paths';

/**
 * The resource a return path belongs to (the portal for anything undeclared).
 * @param path a same-site path, query and fragment allowed
 * @example resourceOfPath('/apps/demo/report?x=1') // 'demo'
 */
export function resourceOfPath(path: string): string {
  return resourceForPath(path.split(/[?#]/)[0], portalResources, 'portal') ?? 'portal';
}
