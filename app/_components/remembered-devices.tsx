import { formatDateTime } from '../../lib/format';
import type { RememberedDevice } from '../../lib/auth/remembered-devices';
import { browserLabels, osLabels } from '../admin/policies/form-options';

/**
 * Issue 18 part 3: a person's remembered devices, as the portal's Security page and the
 * console's user page show them. `forget` is a server action taking `deviceId` (and, for
 * the console, the hidden fields given); `forgetAll` takes the hidden fields only. Plain
 * forms: no JavaScript needed, no confirmation (forgetting only ever asks for more).
 */
export function RememberedDevicesList({
  devices,
  forget,
  forgetAll,
  fields = {},
  whose,
}: {
  devices: RememberedDevice[];
  forget: (formData: FormData) => Promise<void>;
  forgetAll: (formData: FormData) => Promise<void>;
  fields?: Record<string, string>;
  /** "You have" / "This user has", for the empty state. */
  whose: string;
}) {
  const hidden = Object.entries(fields).map(([name, value]) => <input key={name} type="hidden" name={name} value={value} />);
  if (devices.length === 0) return <p data-testid="no-remembered-devices">{whose} no remembered devices.</p>;
  return (
    <>
      <table aria-label="Remembered devices">
        <thead>
          <tr>
            <th scope="col">Browser</th>
            <th scope="col">Operating system</th>
            <th scope="col">Remembered</th>
            <th scope="col">Last seen</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((d) => {
            const label = `${labelOf(browserLabels, d.browser)} on ${labelOf(osLabels, d.os)}`;
            return (
              <tr key={d.id}>
                <td>{labelOf(browserLabels, d.browser)}</td>
                <td>{labelOf(osLabels, d.os)}</td>
                <td>{formatDateTime(d.createdAt)}</td>
                <td>{formatDateTime(d.lastSeenAt)}</td>
                <td>
                  <form action={forget}>
                    {hidden}
                    <input type="hidden" name="deviceId" value={d.id} />
                    <button type="submit" className="secondary" aria-label={`Forget ${label}, remembered ${formatDateTime(d.createdAt)}`}>
                      Forget
                    </button>
                  </form>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <form action={forgetAll}>
        {hidden}
        <button type="submit" className="secondary">
          Forget all devices
        </button>
      </form>
    </>
  );
}

function labelOf(labels: Record<string, string>, family: string): string {
  return Object.hasOwn(labels, family) ? labels[family]! : 'Other';
}
